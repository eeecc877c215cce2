from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TreatiesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "treaties"
    verbose_name = _("International treaties")

    def ready(self):
        # The treaty periods certificate is a kind of the certificates app, issued only here.
        from certificates import registry
        from treaties.kinds import treaty_periods

        registry.register(treaty_periods.KIND)
