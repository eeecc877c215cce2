"""Attestation d'affiliation: blocked only while the identity is being corrected.

The rules of this kind (docs/domain.md "The six certificates"): pure, over the
record ``certificates.selectors.insured_record`` builds.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.utils.translation import gettext as _

from certificates.registry import Limits
from certificates.rules import WAY_CASES, Allowed, Blocked, EmploymentRecord, InsuredRecord, Options, employer_fact


def evaluate(record: InsuredRecord, options: Options, *, today: date, limits: Limits) -> Allowed | Blocked:
    return _affiliation(record)


def _employers_summary(record: InsuredRecord) -> list[dict]:
    by_employer: dict[int, list[EmploymentRecord]] = defaultdict(list)
    for employment in record.employments:
        by_employer[employment.employer.id].append(employment)
    rows = []
    for spells in by_employer.values():
        employer = spells[0].employer
        rows.append(
            {
                **employer_fact(employer),
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
