"""Salary declarations (BDS) as employers send them in DAMANCOM e-BDS files."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class EbdsFile(models.Model):
    """One imported e-BDS file, kept as received."""

    name = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64, unique=True)
    content = models.TextField(_("content"))
    transfer_id = models.CharField(_("transfer id"), max_length=14, blank=True)
    employer = models.ForeignKey("registry.Employer", on_delete=models.PROTECT, related_name="ebds_files")
    period = models.CharField(_("period"), max_length=6)
    is_correction = models.BooleanField(_("correction"), default=False)
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    counts = models.JSONField(_("counts"), default=dict)

    class Meta:
        verbose_name = _("e-BDS file")
        verbose_name_plural = _("e-BDS files")
        ordering = ["-imported_at"]

    def __str__(self) -> str:
        return self.name


class DeclarationQuerySet(models.QuerySet):
    def current(self):
        return self.filter(is_current=True)


class Declaration(models.Model):
    """One employer's declaration for one period. Corrections keep the earlier ones."""

    employer = models.ForeignKey("registry.Employer", on_delete=models.PROTECT, related_name="declarations")
    period = models.CharField(_("period"), max_length=6)
    source_file = models.ForeignKey(EbdsFile, on_delete=models.PROTECT, related_name="declarations")
    version = models.PositiveIntegerField(_("version"), default=1)
    is_current = models.BooleanField(_("current"), default=True)
    declared_at = models.DateTimeField(_("declared at"), auto_now_add=True)
    employee_count = models.PositiveIntegerField(_("employees"), default=0)
    total_days = models.PositiveIntegerField(_("total days"), default=0)
    total_real_salary = models.BigIntegerField(_("total real salary (centimes)"), default=0)
    total_capped_salary = models.BigIntegerField(_("total capped salary (centimes)"), default=0)

    objects = DeclarationQuerySet.as_manager()

    class Meta:
        verbose_name = _("declaration")
        verbose_name_plural = _("declarations")
        ordering = ["-period", "employer"]
        constraints = [
            models.UniqueConstraint(
                fields=["employer", "period"], condition=Q(is_current=True), name="declaration_one_current_per_period"
            ),
            models.UniqueConstraint(fields=["employer", "period", "version"], name="declaration_version_unique"),
            models.CheckConstraint(
                condition=Q(period__regex=r"^[0-9]{4}(0[1-9]|1[0-2])$"), name="declaration_period_yyyymm"
            ),
        ]
        indexes = [models.Index(fields=["employer", "is_current", "period"])]

    def __str__(self) -> str:
        return f"{self.employer.affiliation_number} {self.period} v{self.version}"


class DeclarationLine(models.Model):
    class Situation(models.TextChoices):
        NONE = "", _("active")
        LEFT = "SO", _("left the company")
        DECEASED = "DE", _("deceased")
        IT = "IT", _("temporary incapacity (IT)")
        IL = "IL", _("incapacity (IL)")
        WORK_ACCIDENT = "AT", _("work accident")
        UNPAID_LEAVE = "CS", _("unpaid leave")
        MS = "MS", _("sickness / maternity (MS)")
        OCCUPATIONAL_DISEASE = "MP", _("occupational disease")

    # No single-column indexes on the foreign keys: the composite indexes below
    # start with each of them, and every index costs the import (docs/ebds.md).
    # No row-by-row foreign-key triggers either (two lookups and a row lock per
    # line, 40 % of a monthly import): only the import writes lines, joining
    # each on an existing person in the declaration's own transaction, and the
    # guard triggers of migration 0004 refuse to delete a person or a
    # declaration that lines still name ("What the tables pay", docs/ebds.md).
    declaration = models.ForeignKey(
        Declaration, on_delete=models.CASCADE, related_name="lines", db_index=False, db_constraint=False
    )
    insured = models.ForeignKey(
        "registry.Insured",
        on_delete=models.PROTECT,
        related_name="declaration_lines",
        db_index=False,
        db_constraint=False,
    )
    # Copied from the declaration so that "everything about one insured person"
    # is one indexed query on this table. Only the import writes it, from the
    # declaration's own employer.
    employer = models.ForeignKey(
        "registry.Employer", on_delete=models.PROTECT, related_name="+", db_index=False, db_constraint=False
    )
    period = models.CharField(_("period"), max_length=6)
    is_current = models.BooleanField(default=True)
    is_new_employee = models.BooleanField(_("new employee (B04)"), default=False)
    declared_name = models.CharField(_("name as declared"), max_length=60)
    children = models.PositiveSmallIntegerField(_("children"), default=0)
    family_allowance_due = models.BigIntegerField(default=0)
    family_allowance_deducted = models.BigIntegerField(default=0)
    family_allowance_net = models.BigIntegerField(default=0)
    family_allowance_returned = models.BigIntegerField(default=0)
    days = models.PositiveSmallIntegerField(_("days declared"))
    real_salary = models.BigIntegerField(_("real gross salary (centimes)"))
    capped_salary = models.BigIntegerField(_("capped salary (centimes)"))
    situation = models.CharField(_("situation"), max_length=2, choices=Situation.choices, blank=True)

    class Meta:
        verbose_name = _("declaration line")
        verbose_name_plural = _("declaration lines")
        ordering = ["period"]
        constraints = [
            # With the period: a partitioned table's unique keys hold its partition
            # key (declarations/partitioning.py); a declaration has one period.
            models.UniqueConstraint(fields=["declaration", "insured", "period"], name="line_once_per_declaration"),
            models.CheckConstraint(condition=Q(days__gte=0, days__lte=26), name="line_days_0_26"),
            models.CheckConstraint(condition=Q(real_salary__gte=0), name="line_real_salary_positive"),
            models.CheckConstraint(
                condition=Q(capped_salary__gte=0)
                & Q(capped_salary__lte=F("real_salary"))
                & Q(capped_salary__lte=600_000),
                name="line_capped_salary_within_ceiling",
            ),
        ]
        # Every read goes through the person (dashboard, certificates, staff
        # record, employments); an index by employer would only slow the import.
        indexes = [models.Index(fields=["insured", "is_current", "period"])]

    def __str__(self) -> str:
        return f"{self.period} {self.insured_id} {self.days}d"


class EbdsImportJob(models.Model):
    """A file uploaded by staff, imported in the background (``declarations.tasks``).

    The row is the record of the work and its outcome; while it runs, the number
    of lines read so far is in the cache (the import's own transaction hides its
    writes until it commits). See ``docs/ebds.md``, "Uploads by staff".
    """

    class State(models.TextChoices):
        QUEUED = "queued", _("waiting")
        RUNNING = "running", _("importing")
        IMPORTED = "imported", _("imported")
        REJECTED = "rejected", _("rejected")
        FAILED = "failed", _("stopped on an error")

    name = models.CharField(_("file name"), max_length=255)
    content = models.TextField(_("content"))
    correction = models.BooleanField(_("correction"), default=False)
    lines_total = models.PositiveIntegerField(_("lines"), default=0)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.QUEUED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    ebds_file = models.ForeignKey(EbdsFile, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # Line, field and reason of each problem of a rejected file.
    issues = models.JSONField(_("problems"), default=list, blank=True)

    class Meta:
        verbose_name = _("e-BDS import")
        verbose_name_plural = _("e-BDS imports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.state})"

    @property
    def is_finished(self) -> bool:
        return self.state in (self.State.IMPORTED, self.State.REJECTED, self.State.FAILED)
