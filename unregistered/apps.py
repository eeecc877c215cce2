from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class UnregisteredConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "unregistered"
    verbose_name = _("People absent from the registry")
