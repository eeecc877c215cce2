"""Which certificate may be issued online, with what facts, and if not, why.

Pure functions over plain data (docs/domain.md "The six certificates" and "Blocking
cases"): ``evaluate(record, kind, options, today)`` returns either ``Allowed``
with the exact facts to print, or ``Blocked`` with the reason and its ways out.
Each kind's own rules are in its folder (``certificates/kinds/<kind>/rules.py``,
found through certificates.registry); this module holds what they share: the
record they read, the decisions they return, the ways out and the employer's
reference period. Nothing here touches the database;
``certificates.selectors.insured_record`` builds the record from it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from django.utils.translation import gettext as _

from damane.formats import month_label
from declarations.periods import Period
from declarations.status import IN_ARREARS, ONE_BEHIND, EmployerStatus, expected_period

# Ways out of a blocking case, each an action the portal offers.
WAY_EMPLOYER_NOTICE = "employer_notice"  # formal notice to the employer
WAY_ARREARS_REPORT = "arrears_report"  # request to the agency about the employer
WAY_CHOOSE_EMPLOYER = "choose_employer"  # pick the main (or the ended) employer
WAY_LAST_DECLARED = "last_declared_period"  # tick "last declared period"
WAY_NAME_CORRECTION = "name_correction"
WAY_ID_UPDATE = "id_update"
WAY_TREATY = "treaty"
WAY_DEREGISTRATION = "deregistration_certificate"
WAY_CASES = "my_requests"

# Exit situations that end an employment (e-BDS L_Situation).
EXIT_SITUATIONS = {"SO", "DE"}


@dataclass(frozen=True)
class Holder:
    cnss_number: str
    cin: str
    last_name: str
    first_name: str
    last_name_ar: str
    first_name_ar: str
    birth_date: date | None


@dataclass(frozen=True)
class EmployerRef:
    id: int
    name: str
    affiliation_number: str


@dataclass(frozen=True)
class EmploymentRecord:
    id: int
    employer: EmployerRef
    start_date: date
    start_period: Period
    last_period: Period
    end_date: date | None = None
    exit_reason: str = ""

    @property
    def is_active(self) -> bool:
        return self.end_date is None


@dataclass(frozen=True)
class LineRecord:
    employer_id: int
    period: Period
    days: int
    real_salary: int
    capped_salary: int
    situation: str = ""


@dataclass(frozen=True)
class InsuredRecord:
    holder: Holder
    registered_on: date
    employments: tuple[EmploymentRecord, ...] = ()
    lines: tuple[LineRecord, ...] = ()
    employer_status: Mapping[int, EmployerStatus] = field(default_factory=dict)
    identity_under_correction: bool = False
    treaty_country: str = ""

    @property
    def active_employments(self) -> list[EmploymentRecord]:
        return [e for e in self.employments if e.is_active]

    @property
    def ended_employments(self) -> list[EmploymentRecord]:
        return [e for e in self.employments if not e.is_active]

    def employer(self, employer_id: int) -> EmployerRef | None:
        for employment in self.employments:
            if employment.employer.id == employer_id:
                return employment.employer
        return None


@dataclass(frozen=True)
class Options:
    employer_id: int | None = None
    last_declared_period: bool = False


@dataclass(frozen=True)
class Blocked:
    code: str
    message: str
    ways_out: tuple[str, ...] = ()
    employer: EmployerRef | None = None
    missing_periods: tuple[Period, ...] = ()
    # Employers to choose from when the way out is WAY_CHOOSE_EMPLOYER.
    choices: tuple[EmployerRef, ...] = ()

    allowed = False


@dataclass(frozen=True)
class Allowed:
    facts: dict
    employer: EmployerRef | None = None
    reference_period: Period | None = None
    notes: tuple[str, ...] = ()
    ways_out: tuple[str, ...] = ()

    allowed = True


def evaluate(
    record: InsuredRecord,
    kind: str,
    options: Options | None = None,
    *,
    today: date,
    max_days_per_quarter: int = 78,
    pension_days_threshold: int = 3240,
    lookback_periods: int = 12,
    salary_ceiling: int = 600_000,
) -> Allowed | Blocked:
    """The decision of the rules of ``kind`` (its folder's ``rules.py``, found in certificates.registry)."""
    from certificates import registry

    spec = registry.find(kind)
    if spec is None or not spec.online:
        raise ValueError(f"unknown certificate kind {kind!r}")
    limits = registry.Limits(
        max_days_per_quarter=max_days_per_quarter,
        pension_days_threshold=pension_days_threshold,
        lookback_periods=lookback_periods,
        salary_ceiling=salary_ceiling,
    )
    return spec.evaluate(record, options or Options(), today=today, limits=limits)


def employer_fact(employer: EmployerRef) -> dict:
    return {"name": employer.name, "affiliation_number": employer.affiliation_number}


def arrears(employer: EmployerRef, status: EmployerStatus) -> Blocked:
    missing = ", ".join(month_label(p) for p in status.missing)
    return Blocked(
        code="employer_in_arrears",
        message=_(
            "Your employer %(employer)s has not declared the salaries of these periods: %(missing)s. "
            "Certificates that depend on its declarations cannot be issued online until it does."
        )
        % {"employer": employer.name, "missing": missing},
        ways_out=(WAY_EMPLOYER_NOTICE, WAY_ARREARS_REPORT),
        employer=employer,
        missing_periods=tuple(status.missing),
    )


def one_behind(employer: EmployerRef, status: EmployerStatus) -> Blocked:
    return Blocked(
        code="employer_one_period_behind",
        message=_(
            "%(employer)s has not yet declared %(expected)s. You can still get the certificate "
            "on the last declared period (%(last)s)."
        )
        % {
            "employer": employer.name,
            "expected": month_label(status.expected),
            "last": month_label(status.last_declared) if status.last_declared else "",
        },
        ways_out=(WAY_LAST_DECLARED,),
        employer=employer,
        missing_periods=tuple(status.missing),
    )


def reference_period(
    employer: EmployerRef, status: EmployerStatus | None, options: Options, today: date
) -> Period | Blocked:
    """E, or E-1 with the *last declared period* option when the employer is one behind."""
    if status is None:
        return expected_period(today)
    if status.state == IN_ARREARS:
        return arrears(employer, status)
    if status.state == ONE_BEHIND:
        if not options.last_declared_period:
            return one_behind(employer, status)
        return status.last_declared
    return status.expected
