"""The facts of the non-affiliation certificate: the keys its document prints (checked before signing).

Their JSON-schema fragment is ``facts.schema.json`` next to this file.
"""

# No "from __future__ import annotations": TypedDict only sees NotRequired
# keys in evaluated annotations on Python 3.11.
from typing import NotRequired, TypedDict


class NonAffiliationFacts(TypedDict):
    """Attestation de non-affiliation: no salaried declaration over the lookback window."""

    from_period: str
    to_period: str
    last_salaried_period: str | None  # before the window; None if never declared
    # A person absent from the registry, certified at the agency (unregistered app):
    unregistered: NotRequired[bool]
    record_reference: NotRequired[str]  # "NR-0000001"
    searched_on: NotRequired[str]  # the day the registry was searched
