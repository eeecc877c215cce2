"""The facts of the statement of declared days: the keys its document prints (checked before signing).

Their JSON-schema fragment is ``facts.schema.json`` next to this file.
"""

# No "from __future__ import annotations": TypedDict only sees NotRequired
# keys in evaluated annotations on Python 3.11.
from typing import NotRequired, TypedDict

from certificates.documents import DeclaredDaysYear


class DeclaredDaysFacts(TypedDict):
    """Relevé des jours déclarés: whole career, per year and quarter."""

    as_of: str  # "as declared on" date
    years: list[DeclaredDaysYear]
    total_days: int
    threshold: int  # pension threshold (3,240 days)
    threshold_reached: bool
    first_period: str | None
    last_period: str | None
    quarter_max: NotRequired[int]  # days a quarter counts at most; settings value when absent
