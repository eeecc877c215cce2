from django.apps import AppConfig


class DamaneConfig(AppConfig):
    name = "damane"
    verbose_name = "Damane"
