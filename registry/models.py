"""The insured registry: who is insured, who employs them.

Declarations (``declarations`` app) say what each employer declared month by
month; employments here are derived from them (``declarations.employments.rebuild_employments``).
"""

from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from registry.validators import (
    validate_affiliation_number,
    validate_cin,
    validate_cnss_number,
    validate_ice,
    validate_phone,
)


class InsuredQuerySet(models.QuerySet):
    def by_cin(self, cin: str):
        """Insured persons whose current *or earlier* CIN is ``cin``."""
        # The ids of both sides, then the people: each side uses its own index.
        # An OR (of a join, or of ``cin = …`` and ``id IN (subquery)``) cannot,
        # and PostgreSQL read the whole registry: 160 ms at a million insured
        # (docs/benchmarks.md, "pages at a million insured"); this is 0.1 ms.
        current = self.model.objects.filter(cin=cin).order_by().values("pk")
        earlier = PreviousCin.objects.filter(cin=cin).order_by().values("insured_id")
        return self.filter(pk__in=current.union(earlier, all=True))


class Insured(models.Model):
    class Sex(models.TextChoices):
        FEMALE = "F", pgettext_lazy("sex", "Female")
        MALE = "M", pgettext_lazy("sex", "Male")

    cnss_number = models.CharField(_("CNSS number"), max_length=9, unique=True, validators=[validate_cnss_number])
    cin = models.CharField(_("national ID (CIN)"), max_length=8, blank=True, validators=[validate_cin])
    last_name = models.CharField(_("last name"), max_length=60)
    first_name = models.CharField(_("first name"), max_length=60, blank=True)
    last_name_ar = models.CharField(_("last name (Arabic)"), max_length=60, blank=True)
    first_name_ar = models.CharField(_("first name (Arabic)"), max_length=60, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, blank=True)
    phone = models.CharField(
        _("employer-declared phone"),
        max_length=16,
        blank=True,
        validators=[validate_phone],
        help_text=_("E.164. Declared by the employer; the insured cannot change it online."),
    )
    registered_on = models.DateField(_("registered with the fund on"))
    treaty_country = models.CharField(
        _("periods abroad (treaty country)"),
        max_length=2,
        blank=True,
        help_text=_("ISO country code when the person is known to have worked in a treaty country."),
    )
    identity_under_correction = models.BooleanField(_("identity under correction"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = InsuredQuerySet.as_manager()

    class Meta:
        verbose_name = _("insured person")
        verbose_name_plural = _("insured persons")
        ordering = ["last_name", "first_name"]
        constraints = [
            models.CheckConstraint(condition=Q(cnss_number__regex=r"^[0-9]{9}$"), name="insured_cnss_number_9_digits"),
            models.UniqueConstraint(fields=["cin"], condition=~Q(cin=""), name="insured_current_cin_unique"),
        ]
        # Staff search by name prefix (UPPER(last_name) LIKE 'X%') also has, on
        # PostgreSQL, insured_last_name_prefix with text_pattern_ops (migration
        # 0004), which serves LIKE whatever the database's collation.
        indexes = [models.Index(Upper("last_name"), name="insured_last_name_upper")]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.cnss_number})"

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.last_name, self.first_name) if part)

    @property
    def full_name_ar(self) -> str:
        return " ".join(part for part in (self.last_name_ar, self.first_name_ar) if part)


class PreviousCin(models.Model):
    """An earlier national ID of an insured person, still findable after renewal."""

    insured = models.ForeignKey(Insured, on_delete=models.CASCADE, related_name="previous_cins")
    cin = models.CharField(_("earlier CIN"), max_length=8, validators=[validate_cin])
    replaced_on = models.DateField(_("replaced on"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=120, blank=True)

    class Meta:
        verbose_name = _("earlier national ID")
        verbose_name_plural = _("earlier national IDs")
        constraints = [models.UniqueConstraint(fields=["insured", "cin"], name="previous_cin_once_per_insured")]
        indexes = [models.Index(fields=["cin"])]

    def __str__(self) -> str:
        return self.cin


class Employer(models.Model):
    affiliation_number = models.CharField(
        _("affiliation number"), max_length=7, unique=True, validators=[validate_affiliation_number]
    )
    name = models.CharField(_("company name"), max_length=40)
    activity = models.CharField(_("activity"), max_length=40, blank=True)
    address = models.CharField(_("address"), max_length=120, blank=True)
    city = models.CharField(_("city"), max_length=20, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=6, blank=True)
    agency_code = models.CharField(_("agency code"), max_length=2, blank=True)
    ice = models.CharField(_("ICE"), max_length=15, blank=True, validators=[validate_ice])
    email = models.EmailField(_("e-mail for notices"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("employer")
        verbose_name_plural = _("employers")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(affiliation_number__regex=r"^[0-9]{7}$"), name="employer_affiliation_7_digits"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.affiliation_number})"


class Employment(models.Model):
    """A spell of employment, derived from declarations.

    It starts with the first period an employer declares the person and ends with
    a line whose situation is ``SO`` (left) or ``DE`` (deceased). A new line after
    an exit starts a new employment.
    """

    # No single-column indexes on the foreign keys: ``employment_unique_start``
    # and the (employer, end_date) index start with them, and each index is
    # rewritten when the monthly import moves ``last_period`` (docs/ebds.md).
    insured = models.ForeignKey(Insured, on_delete=models.CASCADE, related_name="employments", db_index=False)
    employer = models.ForeignKey(Employer, on_delete=models.PROTECT, related_name="employments", db_index=False)
    start_period = models.CharField(_("first declared period"), max_length=6)
    start_date = models.DateField(_("start date"))
    last_period = models.CharField(_("last declared period"), max_length=6)
    end_date = models.DateField(_("end date"), null=True, blank=True)
    exit_reason = models.CharField(_("exit reason"), max_length=2, blank=True)

    class Meta:
        verbose_name = _("employment")
        verbose_name_plural = _("employments")
        ordering = ["-start_period"]
        constraints = [
            models.UniqueConstraint(fields=["insured", "employer", "start_period"], name="employment_unique_start"),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="employment_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["employer", "end_date"])]

    def __str__(self) -> str:
        return f"{self.insured.cnss_number} @ {self.employer.affiliation_number} from {self.start_period}"

    @property
    def is_active(self) -> bool:
        return self.end_date is None
