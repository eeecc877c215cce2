from django.apps import AppConfig


class DamaneConfig(AppConfig):
    name = "damane"
    verbose_name = "Damane"

    def ready(self):
        from damane import health  # noqa: F401  (registers the development-CA deploy check)
