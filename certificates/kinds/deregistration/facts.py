"""The facts of the deregistration certificate: the keys its document prints (checked before signing).

Their JSON-schema fragment is ``facts.schema.json`` next to this file.
"""

# No "from __future__ import annotations": TypedDict only sees NotRequired
# keys in evaluated annotations on Python 3.11.
from typing import TypedDict

from certificates.documents import EmployerFacts


class DeregistrationFacts(TypedDict):
    """Attestation de radiation: one ended employment."""

    employer: EmployerFacts
    start_date: str
    end_date: str
    last_period: str
    exit_reason: str  # e-BDS situation code: "SO" (left), "DE" (deceased), or ""
