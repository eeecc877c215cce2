"""Agency work on the registry: identity changes proposed by an agent, decided by a supervisor (four eyes)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from casework.models import Decision, SupportingDocument, four_eyes_constraints
from registry.models import Insured

# The registry fields an identity change may set, in display order.
IDENTITY_FIELDS = ("last_name", "first_name", "last_name_ar", "first_name_ar", "cin", "birth_date", "sex", "phone")
# Fields printed on certificates: a pending change of one of them puts the identity under correction.
PRINTED_FIELDS = ("last_name", "first_name", "last_name_ar", "first_name_ar", "cin", "birth_date")


class IdentityChangeQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(status=IdentityChange.Status.PENDING)


class IdentityChange(SupportingDocument, Decision):
    """A correction of an insured person's identity record, applied only once a second person approves it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for approval")
        APPROVED = "approved", _("Approved and applied")
        REJECTED = "rejected", _("Rejected")

    insured = models.ForeignKey(
        "registry.Insured", on_delete=models.PROTECT, related_name="identity_changes", verbose_name=_("insured person")
    )
    # Only the fields that change: {"last_name": "BENJELLOUN", "birth_date": "1988-04-02", ...}.
    proposed = models.JSONField(_("proposed values"))
    # The same fields as the registry held them when the change was proposed: an
    # approval is refused if the record moved in between.
    previous = models.JSONField(_("values when proposed"))
    reason = models.TextField(_("reason"))
    document = models.FileField(_("supporting document"), upload_to="identity-changes/%Y/%m/")
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("proposed by")
    )
    proposed_at = models.DateTimeField(_("proposed at"), auto_now_add=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    case = models.ForeignKey(
        "casework.Case",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="identity_changes",
        verbose_name=_("request it resolves"),
    )

    objects = IdentityChangeQuerySet.as_manager()

    class Meta:
        verbose_name = _("identity change")
        verbose_name_plural = _("identity changes")
        ordering = ["-proposed_at"]
        constraints = [
            # One change waits at a time per person: two concurrent proposals
            # could otherwise each be approved against a stale record.
            models.UniqueConstraint(
                fields=["insured"], condition=Q(status="pending"), name="identity_change_one_pending"
            ),
            # Four eyes, also for anything that bypasses the services (casework.four_eyes).
            *four_eyes_constraints(
                prefix="identity_change", proposer="proposed_by", pending="pending", decided=["approved", "rejected"]
            ),
        ]
        indexes = [models.Index(fields=["status", "proposed_at"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.insured_id} {self.status}"

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING

    @property
    def field_labels(self) -> str:
        """The changed fields as staff read them ("last name, national ID (CIN)")."""
        return ", ".join(str(Insured._meta.get_field(name).verbose_name) for name in self.proposed)

    @property
    def changes_printed_identity(self) -> bool:
        return any(name in PRINTED_FIELDS for name in self.proposed)
