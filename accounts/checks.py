from django.conf import settings
from django.core.checks import Warning, register


@register(deploy=True)
def check_sms_backend(app_configs, **kwargs):
    """The console, file and locmem backends keep the clear code: never in production."""
    if settings.SMS_BACKEND in ("console", "file", "locmem"):
        return [
            Warning(
                f"SMS_BACKEND={settings.SMS_BACKEND} shows or stores one-time codes in clear.",
                hint="Set SMS_BACKEND=twilio (and the TWILIO_* variables) in production.",
                id="accounts.W001",
            )
        ]
    return []
