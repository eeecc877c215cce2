"""The facts of the annual salary certificate: the keys its document prints (checked before signing).

Their JSON-schema fragment is ``facts.schema.json`` next to this file.
"""

# No "from __future__ import annotations": TypedDict only sees NotRequired
# keys in evaluated annotations on Python 3.11.
from typing import NotRequired, TypedDict


class SalaryRow(TypedDict):
    period: str
    employer: str
    affiliation_number: str
    days: int
    real_salary: int  # centimes
    capped_salary: int  # centimes


class SalaryTotals(TypedDict):
    days: int
    real_salary: int
    capped_salary: int


class AnnualSalaryFacts(TypedDict):
    """Attestation de salaire annuelle: 12 periods ending at the reference period.

    ``rows`` holds the declared lines only (several per period with several
    employers); the document shows a period without any line as "not declared".
    """

    from_period: str
    to_period: str
    rows: list[SalaryRow]
    totals: SalaryTotals
    ceiling: NotRequired[int]  # monthly ceiling in force, centimes; settings value when absent
