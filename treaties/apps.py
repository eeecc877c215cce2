from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TreatiesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "treaties"
    verbose_name = _("International treaties")
