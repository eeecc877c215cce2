"""Counting insurance periods under a convention: pure functions over plain data.

The rule (docs/domain.md "Agency-issued certificates", kept per convention): one
foreign quarter counts ``days_per_quarter`` days (78), one foreign month
``days_per_month`` (26), days count as reported. A foreign period's days are
spread over the calendar quarters it covers, in proportion to the calendar days
of each. A calendar quarter counts at most ``quarter_max`` days (78) all
countries together, so a quarter worked in Morocco and abroad at the same time
is counted once; the Moroccan days count first, the foreign ones fill the rest.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

QUARTERS = "quarters"
MONTHS = "months"
DAYS = "days"


@dataclass(frozen=True)
class Rule:
    days_per_quarter: int = 78
    days_per_month: int = 26
    quarter_max: int = 78


@dataclass(frozen=True)
class Period:
    country: str
    institution: str
    start: date
    end: date
    unit: str
    amount: int
    reference: str


def period_days(period: Period, rule: Rule) -> int:
    """The days a reported period stands for under the rule."""
    if period.unit == QUARTERS:
        return period.amount * rule.days_per_quarter
    if period.unit == MONTHS:
        return period.amount * rule.days_per_month
    if period.unit == DAYS:
        return period.amount
    raise ValueError(f"unknown unit {period.unit!r}")


def quarter_of(day: date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def _quarter_end(year: int, quarter: int) -> date:
    if quarter == 4:
        return date(year, 12, 31)
    return date(year, quarter * 3 + 1, 1) - timedelta(days=1)


def calendar_split(start: date, end: date) -> list[tuple[tuple[int, int], int]]:
    """The calendar quarters from ``start`` to ``end`` (inclusive) with the calendar days of each."""
    parts = []
    day = start
    while day <= end:
        year, quarter = quarter_of(day)
        last = min(end, _quarter_end(year, quarter))
        parts.append(((year, quarter), (last - day).days + 1))
        day = last + timedelta(days=1)
    return parts


def spread(days: int, start: date, end: date, cap: int | None = None) -> dict[tuple[int, int], int]:
    """``days`` spread over the quarters of start..end by calendar days (largest remainder, exact sum).

    With ``cap``, no quarter gets more than ``cap`` days: what a longer quarter
    would get beyond it goes to the quarters that still have room, so that 40
    quarters reported over 40 calendar quarters fill each with exactly ``cap``.
    Days beyond ``cap`` times the number of quarters stay unspread (the sum is
    then less than ``days``): a quarter never counts more than ``cap``.
    """
    parts = calendar_split(start, end)
    span = sum(length for _key, length in parts)
    shares = [(key, days * length // span, days * length % span) for key, length in parts]
    result = {key: whole for key, whole, _rest in shares}
    missing = days - sum(result.values())
    for key, _whole, _rest in sorted(shares, key=lambda s: (-s[2], s[0]))[:missing]:
        result[key] += 1
    if cap is not None:
        excess = sum(max(0, value - cap) for value in result.values())
        result = {key: min(value, cap) for key, value in result.items()}
        for key in sorted(result, key=lambda k: (result[k], k)):
            if excess <= 0:
                break
            room = cap - result[key]
            moved = min(room, excess)
            result[key] += moved
            excess -= moved
    return result


def cumulate(
    *,
    moroccan: dict[tuple[int, int], int],
    periods: list[Period],
    rule: Rule,
    threshold: int,
) -> dict:
    """The totals printed on the certificate.

    ``moroccan``: declared days per (year, quarter), each already at most the
    quarter maximum. Returns the foreign rows with their days, the days per
    country, and the totals: Moroccan days, foreign days as reported, foreign
    days that count (after counting overlapping quarters once), the total and
    whether it reaches ``threshold``.
    """
    foreign_by_quarter: dict[tuple[int, int], int] = defaultdict(int)
    rows = []
    by_country: dict[tuple[str, str], int] = defaultdict(int)
    for period in sorted(periods, key=lambda p: (p.start, p.end, p.country)):
        days = period_days(period, rule)
        for key, value in spread(days, period.start, period.end, rule.quarter_max).items():
            foreign_by_quarter[key] += value
        by_country[(period.country, period.institution)] += days
        rows.append(
            {
                "country": period.country,
                "institution": period.institution,
                "start": period.start.isoformat(),
                "end": period.end.isoformat(),
                "unit": period.unit,
                "amount": period.amount,
                "reference": period.reference,
                "days": days,
            }
        )
    moroccan_total = sum(moroccan.values())
    foreign_counted = 0
    overlapping_quarters = 0
    for key, foreign in foreign_by_quarter.items():
        here = moroccan.get(key, 0)
        counted = max(0, min(rule.quarter_max, here + foreign) - here)
        foreign_counted += counted
        if here and foreign:
            overlapping_quarters += 1
    foreign_reported = sum(row["days"] for row in rows)
    total = moroccan_total + foreign_counted
    return {
        "foreign": rows,
        "countries": [
            {"country": country, "institution": institution, "days": days}
            for (country, institution), days in sorted(by_country.items())
        ],
        "totals": {
            "moroccan_days": moroccan_total,
            "foreign_days": foreign_reported,
            "foreign_counted_days": foreign_counted,
            "not_counted_days": foreign_reported - foreign_counted,
            "overlapping_quarters": overlapping_quarters,
            "total_days": total,
            "threshold": threshold,
            "threshold_reached": total >= threshold,
        },
    }
