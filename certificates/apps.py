from django.apps import AppConfig


class CertificatesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "certificates"

    def ready(self):
        # The six kinds of certificates/kinds/ (certificates.registry).
        import certificates.kinds  # noqa: F401
        from certificates import health  # registers the development-CA deploy check (damane.E001)
        from damane.health import register_readiness

        # Readiness (/health/ready/): the signing key, then the TSA, after the kernel's own checks.
        register_readiness(health.SigningKey)
        register_readiness(health.TimestampAuthority)
