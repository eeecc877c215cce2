from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UnregisteredConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "unregistered"
    verbose_name = _("People absent from the registry")

    def ready(self):
        from registry.signals import insured_identified

        # People added to the registry or given their CIN (an e-BDS import, registration
        # records): link the records of those recorded here as absent from it.
        insured_identified.connect(_link_identified, dispatch_uid="unregistered.link_identified")


def _link_identified(sender, *, insured_ids, actor=None, **kwargs):
    from unregistered.services import unregistered_link

    unregistered_link(insured_ids=insured_ids, actor=actor)
