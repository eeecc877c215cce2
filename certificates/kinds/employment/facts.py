"""The facts of the employment certificate: the keys its document prints (checked before signing).

Their JSON-schema fragment is ``facts.schema.json`` next to this file.
"""

# No "from __future__ import annotations": TypedDict only sees NotRequired
# keys in evaluated annotations on Python 3.11.
from typing import TypedDict

from certificates.documents import EmployerFacts


class EmploymentFacts(TypedDict):
    """Attestation de travail: one employer, one reference period."""

    employer: EmployerFacts
    start_date: str  # first day declared by this employer
    reference_period: str
    days: int  # days declared for the reference period
    last_declared_period_option: bool  # the insured asked for the last declared period (E-1)
