"""The facts of the insurance periods certificate (treaty): the keys its document prints (checked before signing).

Their JSON-schema fragment is ``facts.schema.json`` next to this file.
"""

# No "from __future__ import annotations": TypedDict only sees NotRequired
# keys in evaluated annotations on Python 3.11.
from typing import TypedDict

from certificates.documents import DeclaredDaysYear


class ConventionFacts(TypedDict):
    country: str  # ISO 3166 alpha-2
    name_fr: str
    name_ar: str
    title_fr: str
    title_ar: str
    institution: str  # liaison institution
    institution_ar: str
    rule: dict  # days_per_quarter, days_per_month, quarter_max


class ForeignPeriodRow(TypedDict):
    country: str
    institution: str
    start: str
    end: str
    unit: str  # "quarters", "months" or "days", as the foreign institution reported
    amount: int
    reference: str
    days: int  # what the period counts for under the convention's rule


class TreatyMoroccanFacts(TypedDict):
    years: list[DeclaredDaysYear]
    total_days: int
    first_period: str | None
    last_period: str | None


class TreatyTotals(TypedDict):
    moroccan_days: int
    foreign_days: int  # as reported, converted to days
    foreign_counted_days: int  # what counts once overlapping quarters are counted once
    not_counted_days: int
    overlapping_quarters: int
    total_days: int
    threshold: int
    threshold_reached: bool


class TreatyPeriodsFacts(TypedDict):
    """Attestation de périodes d'assurance (convention): Moroccan and foreign periods, totals under the rule."""

    convention: ConventionFacts
    request_reference: str
    version: int  # the approved version of the foreign periods
    as_of: str
    moroccan: TreatyMoroccanFacts
    foreign: list[ForeignPeriodRow]
    countries: list[dict]
    totals: TreatyTotals
