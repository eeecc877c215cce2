"""Bilateral social-security conventions and the foreign periods reported under them.

Conventions are data (a row per partner country: liaison institution, the unit
the foreign side reports in, the counting rule). Foreign periods come in
versions: the treaties service records a version, a second person approves it
(four eyes, also as a database CHECK), and a correction is a new version that
is approved again. A version's periods are never edited (a PostgreSQL trigger
refuses it, see migration 0002).
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from casework.models import Decision, SupportingDocument, four_eyes_constraints


class Unit(models.TextChoices):
    QUARTERS = "quarters", _("quarters")
    MONTHS = "months", _("months")
    DAYS = "days", _("days")


class Convention(models.Model):
    """A social-security convention between Morocco and one country."""

    country = models.CharField(_("country code"), max_length=2, unique=True)
    name_fr = models.CharField(_("country (French)"), max_length=60)
    name_ar = models.CharField(_("country (Arabic)"), max_length=60)
    title_fr = models.CharField(_("convention (French)"), max_length=200)
    title_ar = models.CharField(_("convention (Arabic)"), max_length=200)
    liaison_institution = models.CharField(_("liaison institution"), max_length=200)
    liaison_institution_ar = models.CharField(_("liaison institution (Arabic)"), max_length=200, blank=True)
    reporting_unit = models.CharField(_("unit reported in"), max_length=10, choices=Unit.choices)
    # Counting rule (docs/domain.md "Agency-issued certificates"): what one foreign
    # quarter and one foreign month count, and the most a calendar quarter counts.
    days_per_quarter = models.PositiveSmallIntegerField(_("days per foreign quarter"), default=78)
    days_per_month = models.PositiveSmallIntegerField(_("days per foreign month"), default=26)
    quarter_max = models.PositiveSmallIntegerField(_("days a calendar quarter counts at most"), default=78)
    active = models.BooleanField(_("in force"), default=True)

    class Meta:
        verbose_name = _("convention")
        verbose_name_plural = _("conventions")
        ordering = ["country"]
        constraints = [
            models.CheckConstraint(
                condition=Q(days_per_quarter__gt=0, days_per_month__gt=0, quarter_max__gt=0),
                name="convention_rule_positive",
            )
        ]

    def __str__(self) -> str:
        return f"{self.country} — {self.name_fr}"

    @property
    def rule(self) -> dict:
        return {
            "days_per_quarter": self.days_per_quarter,
            "days_per_month": self.days_per_month,
            "quarter_max": self.quarter_max,
        }


class PeriodVersionQuerySet(models.QuerySet):
    def approved(self):
        return self.filter(status=ForeignPeriodVersion.Status.APPROVED)

    def pending(self):
        return self.filter(status=ForeignPeriodVersion.Status.PENDING)


class ForeignPeriodVersion(SupportingDocument, Decision):
    """One version of the foreign periods of a treaty request, as a foreign institution reported them."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        SUPERSEDED = "superseded", _("Replaced by a newer version")

    case = models.ForeignKey(
        "casework.Case", on_delete=models.PROTECT, related_name="period_versions", verbose_name=_("request")
    )
    number = models.PositiveSmallIntegerField(_("version"))
    convention = models.ForeignKey(Convention, on_delete=models.PROTECT, related_name="+", verbose_name=_("convention"))
    note = models.TextField(_("note"), blank=True)
    document = models.FileField(_("document of the foreign institution"), upload_to="treaty-documents/%Y/%m/")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    # The certificate issued on this version, once issued.
    certificate = models.OneToOneField(
        "certificates.Certificate",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="treaty_version",
        verbose_name=_("certificate"),
    )

    objects = PeriodVersionQuerySet.as_manager()

    class Meta:
        verbose_name = _("foreign periods version")
        verbose_name_plural = _("foreign periods versions")
        ordering = ["case", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["case", "number"], name="treaty_version_number_unique"),
            models.UniqueConstraint(fields=["case"], condition=Q(status="pending"), name="treaty_version_one_pending"),
            models.UniqueConstraint(
                fields=["case"], condition=Q(status="approved"), name="treaty_version_one_approved"
            ),
            # Four eyes in the database: the approver is never the person who recorded the periods.
            *four_eyes_constraints(
                prefix="treaty_version",
                proposer="recorded_by",
                pending="pending",
                decided=["approved", "rejected", "superseded"],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} v{self.number} {self.status}"

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING


class ForeignPeriod(models.Model):
    """One insurance period abroad, as the foreign institution reported it."""

    version = models.ForeignKey(ForeignPeriodVersion, on_delete=models.PROTECT, related_name="periods")
    country = models.CharField(_("country code"), max_length=2)
    institution = models.CharField(_("institution"), max_length=200)
    start = models.DateField(_("from"))
    end = models.DateField(_("to"))
    unit = models.CharField(_("unit"), max_length=10, choices=Unit.choices)
    amount = models.PositiveIntegerField(_("quarters, months or days"))
    reference = models.CharField(_("reference"), max_length=80)

    class Meta:
        verbose_name = _("foreign period")
        verbose_name_plural = _("foreign periods")
        ordering = ["start", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(end__gte=F("start")), name="foreign_period_dates"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="foreign_period_amount"),
        ]

    def __str__(self) -> str:
        return f"{self.country} {self.start}–{self.end}"
