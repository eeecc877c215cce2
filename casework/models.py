"""Requests from insured persons that the agency handles (the ways out of a blocked certificate)."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class SupportingDocument(models.Model):
    """What a record keeps of the document it was made on sight of, besides the
    file itself (each model declares its own ``document`` field: its label and
    folder differ). The values come from ``casework.uploads.check_upload``."""

    document_name = models.CharField(_("file name"), max_length=255)
    document_type = models.CharField(_("content type"), max_length=40)
    document_size = models.PositiveIntegerField(_("size"))
    document_sha256 = models.CharField(max_length=64)

    class Meta:
        abstract = True


class Decision(models.Model):
    """A second person's decision on a record (four eyes): who, when, why."""

    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    class Meta:
        abstract = True


def four_eyes_constraints(
    *, prefix: str, proposer: str, pending: str, decided: list[str], either: list[str] = ()
) -> list[models.CheckConstraint]:
    """Four eyes in the database, for a model with ``Decision``'s fields (``casework.four_eyes`` is the service).

    ``<prefix>_four_eyes``: the decider is never the person in ``proposer``.
    ``<prefix>_decision_complete``: a record in the ``pending`` status has no
    decider nor decision time; one in a ``decided`` status has both; one in an
    ``either`` status (reached with or without a decision) has both or neither.
    """
    undecided = {"decided_by__isnull": True, "decided_at__isnull": True}
    done = {"decided_by__isnull": False, "decided_at__isnull": False}
    complete = Q(status=pending, **undecided) | Q(status__in=list(decided), **done)
    if either:
        complete |= Q(status__in=list(either), **undecided) | Q(status__in=list(either), **done)
    return [
        models.CheckConstraint(
            condition=Q(decided_by__isnull=True) | ~Q(decided_by=F(proposer)), name=f"{prefix}_four_eyes"
        ),
        models.CheckConstraint(condition=complete, name=f"{prefix}_decision_complete"),
    ]


class CaseKind(models.TextChoices):
    EMPLOYER_NOTICE = "employer_notice", _("Formal notice to an employer in arrears")
    ARREARS_REPORT = "arrears_report", _("Report of an employer in arrears to the agency")
    ID_UPDATE = "id_update", _("National ID update at the agency")
    NAME_CORRECTION = "name_correction", _("Name correction")
    TREATY = "treaty", _("Cumulative periods certificate under a social-security treaty")


class CaseStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    REJECTED = "rejected", _("Rejected")


class Case(models.Model):
    reference = models.CharField(_("reference"), max_length=24, unique=True)
    kind = models.CharField(_("type"), max_length=20, choices=CaseKind.choices)
    status = models.CharField(_("status"), max_length=12, choices=CaseStatus.choices, default=CaseStatus.SUBMITTED)
    insured = models.ForeignKey("registry.Insured", on_delete=models.PROTECT, related_name="cases")
    employer = models.ForeignKey(
        "registry.Employer", on_delete=models.PROTECT, null=True, blank=True, related_name="cases"
    )
    # What the insured asked for, per kind (requested names, treaty country, ...).
    details = models.JSONField(_("details"), default=dict, blank=True)
    message = models.TextField(_("message"), blank=True)
    created_at = models.DateTimeField(_("submitted at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    class Meta:
        verbose_name = _("request")
        verbose_name_plural = _("requests")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["insured", "kind", "status"]), models.Index(fields=["status", "kind"])]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.status in (CaseStatus.SUBMITTED, CaseStatus.IN_PROGRESS)


class CaseDocument(models.Model):
    """A supporting document (ID copy...). Stored outside the web root under a random name."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="documents")
    file = models.FileField(upload_to="case-documents/%Y/%m/")
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=40)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("supporting document")
        verbose_name_plural = _("supporting documents")

    def __str__(self) -> str:
        return self.original_name
