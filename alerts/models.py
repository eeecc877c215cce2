"""Arrears alerts: who asked for them, and every alert ever sent (docs/certificates.md, "Arrears alerts")."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AlertPreference(models.Model):
    """An insured account's choice about arrears alerts: off until the person opts in."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alert_preference", verbose_name=_("account")
    )
    arrears_alerts = models.BooleanField(_("arrears alerts"), default=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("alert preference")
        verbose_name_plural = _("alert preferences")

    def __str__(self) -> str:
        return f"{self.user} {'on' if self.arrears_alerts else 'off'}"


class ArrearsAlert(models.Model):
    """One alert to one account about one employer's missing period.

    The unique constraint is the idempotency key of the scheduled job: a re-run,
    a second scheduler or a killed worker never sends the same alert twice, since
    the row and its e-mail are written in one transaction.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="arrears_alerts", verbose_name=_("account")
    )
    employer = models.ForeignKey(
        "registry.Employer", on_delete=models.PROTECT, related_name="arrears_alerts", verbose_name=_("employer")
    )
    period = models.CharField(_("period"), max_length=6)
    email = models.ForeignKey(
        "accounts.OutboundEmail",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("e-mail"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("arrears alert")
        verbose_name_plural = _("arrears alerts")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "employer", "period"], name="arrears_alert_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.employer_id} {self.period}"
