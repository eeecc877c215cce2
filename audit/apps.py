from django.apps import AppConfig


class AuditConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "audit"

    def ready(self):
        from audit.actions import autodiscover

        autodiscover()  # every app's audit_actions.py declares the actions it writes
