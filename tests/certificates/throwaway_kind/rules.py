"""Blocked for a person no employer ever declared; otherwise the years since registration."""

from datetime import date

from certificates.registry import Limits
from certificates.rules import Allowed, Blocked, InsuredRecord, Options


def evaluate(record: InsuredRecord, options: Options, *, today: date, limits: Limits) -> Allowed | Blocked:
    if not record.employments:
        return Blocked(code="never_declared", message="No employer ever declared you.")
    registered = record.registered_on
    years = today.year - registered.year - ((today.month, today.day) < (registered.month, registered.day))
    return Allowed(
        facts={
            "registered_on": registered.isoformat(),
            "years": years,
            "employers": len({e.employer.id for e in record.employments}),
        }
    )
