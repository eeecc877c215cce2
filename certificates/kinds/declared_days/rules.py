"""Relevé des jours déclarés: never blocked; notes the treaty way out.

The rules of this kind (docs/domain.md "The six certificates"): pure, over the
record ``certificates.selectors.insured_record`` builds.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.utils.translation import gettext as _

from certificates.registry import Limits
from certificates.rules import WAY_TREATY, Allowed, Blocked, InsuredRecord, Options


def evaluate(record: InsuredRecord, options: Options, *, today: date, limits: Limits) -> Allowed | Blocked:
    return _declared_days(record, today, limits.max_days_per_quarter, limits.pension_days_threshold)


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
