"""Which certificate may be issued online, with what facts, and if not, why.

Pure functions over plain data (docs/domain.md "The six certificates" and "Blocking
cases"): ``evaluate(record, kind, options, today)`` returns either ``Allowed``
with the exact facts to print, or ``Blocked`` with the reason and its ways out.
Nothing here touches the database; ``certificates.selectors.insured_record``
builds the record from it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from django.utils.translation import gettext as _

from damane.formats import month_label, short_date
from declarations.periods import Period
from declarations.status import IN_ARREARS, ONE_BEHIND, EmployerStatus, expected_period

EMPLOYMENT = "employment"
AFFILIATION = "affiliation"
NON_AFFILIATION = "non_affiliation"
ANNUAL_SALARY = "annual_salary"
DECLARED_DAYS = "declared_days"
DEREGISTRATION = "deregistration"
KINDS = (EMPLOYMENT, AFFILIATION, NON_AFFILIATION, ANNUAL_SALARY, DECLARED_DAYS, DEREGISTRATION)
# Issued by the International Treaties service only (treaties app), never by these rules.
TREATY_PERIODS = "treaty_periods"
AGENCY_KINDS = (TREATY_PERIODS,)
ALL_KINDS = KINDS + AGENCY_KINDS

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
    options = options or Options()
    if kind == EMPLOYMENT:
        return _employment(record, options, today)
    if kind == AFFILIATION:
        return _affiliation(record)
    if kind == NON_AFFILIATION:
        return _non_affiliation(record, today, lookback_periods)
    if kind == ANNUAL_SALARY:
        return _annual_salary(record, options, today, lookback_periods, salary_ceiling)
    if kind == DECLARED_DAYS:
        return _declared_days(record, today, max_days_per_quarter, pension_days_threshold)
    if kind == DEREGISTRATION:
        return _deregistration(record, options)
    raise ValueError(f"unknown certificate kind {kind!r}")


def _employer_fact(employer: EmployerRef) -> dict:
    return {"name": employer.name, "affiliation_number": employer.affiliation_number}


def _arrears(employer: EmployerRef, status: EmployerStatus) -> Blocked:
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


def _one_behind(employer: EmployerRef, status: EmployerStatus) -> Blocked:
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


def _reference_period(
    employer: EmployerRef, status: EmployerStatus | None, options: Options, today: date
) -> Period | Blocked:
    """E, or E-1 with the *last declared period* option when the employer is one behind."""
    if status is None:
        return expected_period(today)
    if status.state == IN_ARREARS:
        return _arrears(employer, status)
    if status.state == ONE_BEHIND:
        if not options.last_declared_period:
            return _one_behind(employer, status)
        return status.last_declared
    return status.expected


def _employment(record: InsuredRecord, options: Options, today: date) -> Allowed | Blocked:
    active = record.active_employments
    if options.employer_id is not None:
        chosen = [e for e in record.employments if e.employer.id == options.employer_id]
        if not chosen:
            return Blocked(
                code="unknown_employer",
                message=_("This employer has not declared you."),
                ways_out=(WAY_CHOOSE_EMPLOYER,),
                choices=tuple(e.employer for e in active),
            )
        employment = max(chosen, key=lambda e: e.start_period)
        if not employment.is_active:
            return Blocked(
                code="employment_ended",
                message=_(
                    "Your employment with %(employer)s ended on %(end)s. An employment certificate is only "
                    "issued for a current employment; the deregistration certificate states this one."
                )
                % {"employer": employment.employer.name, "end": short_date(employment.end_date)},
                ways_out=(WAY_DEREGISTRATION,),
                employer=employment.employer,
            )
    elif not active:
        return Blocked(
            code="no_active_employment",
            message=_("No employer currently declares you. An employment certificate needs a current employment."),
            ways_out=(WAY_DEREGISTRATION,) if record.ended_employments else (),
        )
    elif len(active) > 1:
        return Blocked(
            code="choose_main_employer",
            message=_("Several employers declare you at the same time: choose your main employer."),
            ways_out=(WAY_CHOOSE_EMPLOYER,),
            choices=tuple(e.employer for e in active),
        )
    else:
        employment = active[0]

    employer = employment.employer
    reference = _reference_period(employer, record.employer_status.get(employer.id), options, today)
    if isinstance(reference, Blocked):
        return reference
    line = next((li for li in record.lines if li.employer_id == employer.id and li.period == reference), None)
    if line is None:
        return Blocked(
            code="not_declared_for_period",
            message=_(
                "%(employer)s did not declare you for %(period)s, the reference period of the certificate. "
                "Ask your employer to correct its declaration, or file a request with the agency."
            )
            % {"employer": employer.name, "period": month_label(reference)},
            ways_out=(WAY_EMPLOYER_NOTICE, WAY_ARREARS_REPORT),
            employer=employer,
            missing_periods=(reference,),
        )
    return Allowed(
        facts={
            "employer": _employer_fact(employer),
            "start_date": employment.start_date.isoformat(),
            "reference_period": str(reference),
            "days": line.days,
            "last_declared_period_option": reference != expected_period(today),
        },
        employer=employer,
        reference_period=reference,
    )


def _employers_summary(record: InsuredRecord) -> list[dict]:
    by_employer: dict[int, list[EmploymentRecord]] = defaultdict(list)
    for employment in record.employments:
        by_employer[employment.employer.id].append(employment)
    rows = []
    for spells in by_employer.values():
        employer = spells[0].employer
        rows.append(
            {
                **_employer_fact(employer),
                "first_period": str(min(s.start_period for s in spells)),
                "last_period": str(max(s.last_period for s in spells)),
                "active": any(s.is_active for s in spells),
            }
        )
    return sorted(rows, key=lambda r: r["first_period"])


def _affiliation(record: InsuredRecord) -> Allowed | Blocked:
    if record.identity_under_correction:
        return Blocked(
            code="identity_under_correction",
            message=_(
                "Your identity record is being corrected by the agency. The affiliation certificate will be "
                "available once the correction is decided."
            ),
            ways_out=(WAY_CASES,),
        )
    return Allowed(facts={"registered_on": record.registered_on.isoformat(), "employers": _employers_summary(record)})


def _non_affiliation(record: InsuredRecord, today: date, lookback: int) -> Allowed | Blocked:
    last = expected_period(today)
    first = last - (lookback - 1)
    salaried = [li for li in record.lines if first <= li.period <= last and (li.days > 0 or li.real_salary > 0)]
    if salaried or record.active_employments:
        latest = max((li.period for li in salaried), default=None)
        return Blocked(
            code="recent_salaried_activity",
            message=_(
                "A salaried activity was declared for you between %(first)s and %(last)s "
                "(last declared period: %(latest)s), so a non-affiliation certificate cannot be issued."
            )
            % {
                "first": month_label(first),
                "last": month_label(last),
                "latest": month_label(latest) if latest else _("employment still open"),
            },
        )
    previous = max((li.period for li in record.lines), default=None)
    return Allowed(
        facts={
            "from_period": str(first),
            "to_period": str(last),
            "last_salaried_period": str(previous) if previous else None,
        }
    )


def _annual_salary(
    record: InsuredRecord, options: Options, today: date, lookback: int, ceiling: int
) -> Allowed | Blocked:
    reference = expected_period(today)
    for employment in record.active_employments:
        status = record.employer_status.get(employment.employer.id)
        period = _reference_period(employment.employer, status, options, today)
        if isinstance(period, Blocked):
            return period
        reference = min(reference, period)
    first = reference - (lookback - 1)
    employers = {e.employer.id: e.employer for e in record.employments}
    rows = []
    for line in sorted(record.lines, key=lambda li: (li.period, li.employer_id)):
        if first <= line.period <= reference:
            employer = employers.get(line.employer_id)
            rows.append(
                {
                    "period": str(line.period),
                    "employer": employer.name if employer else "",
                    "affiliation_number": employer.affiliation_number if employer else "",
                    "days": line.days,
                    "real_salary": line.real_salary,
                    "capped_salary": line.capped_salary,
                }
            )
    return Allowed(
        facts={
            "from_period": str(first),
            "to_period": str(reference),
            "rows": rows,
            "totals": {
                "days": sum(r["days"] for r in rows),
                "real_salary": sum(r["real_salary"] for r in rows),
                "capped_salary": sum(r["capped_salary"] for r in rows),
            },
            # The ceiling in force when issued: printed, so part of the snapshot.
            "ceiling": ceiling,
        },
        reference_period=reference,
    )


def _declared_days(record: InsuredRecord, today: date, max_per_quarter: int, threshold: int) -> Allowed:
    quarters: dict[tuple[int, int], int] = defaultdict(int)
    for line in record.lines:
        quarters[(line.period.year, line.period.quarter)] += line.days
    years = []
    for year in sorted({y for y, _q in quarters}):
        counted = [min(quarters.get((year, q), 0), max_per_quarter) for q in (1, 2, 3, 4)]
        years.append({"year": year, "quarters": counted, "total": sum(counted)})
    total = sum(y["total"] for y in years)
    notes = ()
    ways_out = ()
    if record.treaty_country:
        notes = (
            _(
                "Periods worked abroad are not included. Under a social-security treaty the International "
                "Treaties service can issue a cumulative periods certificate."
            ),
        )
        ways_out = (WAY_TREATY,)
    last = max((li.period for li in record.lines), default=None)
    return Allowed(
        facts={
            "as_of": today.isoformat(),
            "years": years,
            "total_days": total,
            "threshold": threshold,
            "threshold_reached": total >= threshold,
            "quarter_max": max_per_quarter,
            "first_period": str(min(li.period for li in record.lines)) if record.lines else None,
            "last_period": str(last) if last else None,
        },
        notes=notes,
        ways_out=ways_out,
    )


def _deregistration(record: InsuredRecord, options: Options) -> Allowed | Blocked:
    ended = record.ended_employments
    if options.employer_id is not None:
        ended = [e for e in ended if e.employer.id == options.employer_id]
        if not ended:
            employer = record.employer(options.employer_id)
            return Blocked(
                code="no_ended_employment",
                message=_("No ended employment with %(employer)s is on record: it still declares you or never did.")
                % {"employer": employer.name if employer else "?"},
                employer=employer,
                choices=tuple(e.employer for e in record.ended_employments),
                ways_out=(WAY_CHOOSE_EMPLOYER,) if record.ended_employments else (),
            )
    elif not ended:
        return Blocked(
            code="no_ended_employment",
            message=_("No ended employment is on record: a deregistration certificate states the end of one."),
        )
    elif len({e.employer.id for e in ended}) > 1:
        return Blocked(
            code="choose_ended_employer",
            message=_("Several employments have ended: choose the employer the certificate is about."),
            ways_out=(WAY_CHOOSE_EMPLOYER,),
            choices=tuple({e.employer.id: e.employer for e in ended}.values()),
        )
    employment = max(ended, key=lambda e: e.end_date)
    return Allowed(
        facts={
            "employer": _employer_fact(employment.employer),
            "start_date": employment.start_date.isoformat(),
            "end_date": employment.end_date.isoformat(),
            "last_period": str(employment.last_period),
            "exit_reason": employment.exit_reason,
        },
        employer=employment.employer,
    )
