from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "integrations"
    verbose_name = _("Integrators and share codes")

    def ready(self):
        from certificates.signals import certificate_revoked
        from damane.background import register_outbox
        from integrations.webhooks import events, openapi, services, tasks
        from verification.openapi import register_extension

        certificate_revoked.connect(events.on_certificate_revoked, dispatch_uid="integrations.webhooks.revoked")
        register_outbox("integrations.webhooks", task=tasks.deliver, due=services.deliveries_due)
        register_extension(openapi.extend)
