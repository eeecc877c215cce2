"""Who may use an organisation's console. Imported by ``integrations.models``."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ConsoleAccount(models.Model):
    """A portal account (neither staff nor insured) that is an organisation's contact in its console."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="integrator_console", verbose_name=_("user")
    )
    organisation = models.ForeignKey(
        "integrations.Organisation", on_delete=models.PROTECT, related_name="console_accounts"
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("console account")
        verbose_name_plural = _("console accounts")

    def __str__(self) -> str:
        return f"{self.user} · {self.organisation}"
