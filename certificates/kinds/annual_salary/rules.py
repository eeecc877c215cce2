"""Attestation de salaire annuelle: 12 periods ending at the employers' reference period.

The rules of this kind (docs/domain.md "The six certificates"): pure, over the
record ``certificates.selectors.insured_record`` builds.
"""

from __future__ import annotations

from datetime import date

from certificates.registry import Limits
from certificates.rules import Allowed, Blocked, InsuredRecord, Options, reference_period
from declarations.status import expected_period


def evaluate(record: InsuredRecord, options: Options, *, today: date, limits: Limits) -> Allowed | Blocked:
    return _annual_salary(record, options, today, limits.lookback_periods, limits.salary_ceiling)


def _annual_salary(
    record: InsuredRecord, options: Options, today: date, lookback: int, ceiling: int
) -> Allowed | Blocked:
    reference = expected_period(today)
    for employment in record.active_employments:
        status = record.employer_status.get(employment.employer.id)
        period = reference_period(employment.employer, status, options, today)
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
