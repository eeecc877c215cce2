"""Attestation de non-affiliation: no salaried activity over the lookback window.

The rules of this kind (docs/domain.md "The six certificates"): pure, over the
record ``certificates.selectors.insured_record`` builds.
"""

from __future__ import annotations

from datetime import date

from django.utils.translation import gettext as _

from certificates.registry import Limits
from certificates.rules import Allowed, Blocked, InsuredRecord, Options
from damane.formats import month_label
from declarations.status import expected_period


def evaluate(record: InsuredRecord, options: Options, *, today: date, limits: Limits) -> Allowed | Blocked:
    return _non_affiliation(record, today, limits.lookback_periods)


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
