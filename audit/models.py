"""The audit trail: who changed what, when, from what to what, and why."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEntry(models.Model):
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    # Dotted name of the action, e.g. "certificates.certificate.issued".
    action = models.CharField(_("action"), max_length=80, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Kept as text too, so the trail reads the same if the account is renamed.
    actor_label = models.CharField(_("actor"), max_length=150, blank=True)
    object_type = models.CharField(_("object type"), max_length=80)
    object_id = models.CharField(_("object id"), max_length=64)
    insured = models.ForeignKey(
        "registry.Insured", on_delete=models.PROTECT, null=True, blank=True, related_name="audit_entries"
    )
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_type}#{self.object_id}"


class AuditExport(models.Model):
    """One export of the audit trail: who took which part of it, when. Audited itself."""

    at = models.DateTimeField(_("at"), auto_now_add=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    rows = models.PositiveIntegerField(_("rows"))
    # Entries up to this id (the export's own audit entry excluded): the file is
    # the trail as it stood when asked for, whatever is written while it streams.
    last_entry_id = models.BigIntegerField(_("last entry"), default=0)

    class Meta:
        verbose_name = _("audit export")
        verbose_name_plural = _("audit exports")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"export {self.pk} by {self.actor_id} ({self.rows} rows)"
