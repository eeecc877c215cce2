from django.apps import AppConfig


class CertificatesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "certificates"

    def ready(self):
        # The six kinds of certificates/kinds/ (certificates.registry).
        import certificates.kinds  # noqa: F401
