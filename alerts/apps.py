from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertsConfig(AppConfig):
    name = "alerts"
    verbose_name = _("Alerts")

    def ready(self) -> None:
        from accounts import notifications
        from alerts import services

        # The alert e-mail names the month in words, in the reader's language:
        # made when the e-mail is sent, from the stored period.
        notifications.SEND_TIME_CONTEXT[services.ALERT_TEMPLATE] = services.alert_send_context
