"""The facts of the affiliation certificate: the keys its document prints (checked before signing).

Their JSON-schema fragment is ``facts.schema.json`` next to this file.
"""

# No "from __future__ import annotations": TypedDict only sees NotRequired
# keys in evaluated annotations on Python 3.11.
from typing import TypedDict


class AffiliationEmployerRow(TypedDict):
    name: str
    affiliation_number: str
    first_period: str
    last_period: str
    active: bool


class AffiliationFacts(TypedDict):
    """Attestation d'affiliation: the person, every employer that declared them."""

    registered_on: str
    employers: list[AffiliationEmployerRow]
