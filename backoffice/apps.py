from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BackofficeConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "backoffice"
    verbose_name = _("Back office")

    def ready(self):
        from django.contrib import admin

        from backoffice.admin_site import StaffAdminSite

        # The default admin site keeps its registrations but now requires a
        # verified TOTP device, and sends staff to the back-office login.
        admin.site.__class__ = StaffAdminSite
