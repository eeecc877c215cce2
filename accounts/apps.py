from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self):
        from accounts import (
            checks,  # noqa: F401  (registers the deploy check)
            recovery,  # noqa: F401  (registers its task, in the web and the worker)
            registration,  # noqa: F401  (registers its task, in the web and the worker)
            tasks,
        )
        from damane.background import register_outbox

        register_outbox("accounts.sms", task=tasks.send_code_sms, due=tasks.sms_due)
        register_outbox("accounts.emails", task=tasks.send_email, due=tasks.emails_due)
