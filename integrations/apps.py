from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "integrations"
    verbose_name = _("Integrators and share codes")

    def ready(self):
        from unregistered.signals import person_linked

        # A person absent from the registry, now linked to their registry record: the
        # integrators' look-ups of their certificates are shown to the insured too.
        person_linked.connect(_attach_verifications, dispatch_uid="integrations.attach_verifications")

        from certificates.signals import certificate_revoked
        from damane.background import register_outbox
        from integrations.webhooks import events, services, tasks

        certificate_revoked.connect(events.on_certificate_revoked, dispatch_uid="integrations.webhooks.revoked")
        register_outbox("integrations.webhooks", task=tasks.deliver, due=services.deliveries_due)


def _attach_verifications(sender, *, person, insured, **kwargs):
    from integrations.services import verifications_attach

    verifications_attach(person=person, insured=insured)
