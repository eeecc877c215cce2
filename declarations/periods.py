"""Declaration periods (``YYYYMM``) as a small value type.

A period is a calendar month. Arithmetic works across year boundaries:
``Period(2025, 1) - 1 == Period(2024, 12)``.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

_PERIOD_RE = re.compile(r"^(\d{4})(0[1-9]|1[0-2])$")


@dataclass(frozen=True, order=True, slots=True)
class Period:
    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12 or not 1900 <= self.year <= 9999:
            raise ValueError(f"invalid period {self.year:04d}{self.month:02d}")

    @classmethod
    def parse(cls, text: str) -> Period:
        match = _PERIOD_RE.match(text or "")
        if not match:
            raise ValueError(f"invalid period {text!r}: expected YYYYMM")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, day: date) -> Period:
        return cls(day.year, day.month)

    @property
    def index(self) -> int:
        """Months since year 0: makes differences and ranges simple."""
        return self.year * 12 + self.month - 1

    @classmethod
    def from_index(cls, index: int) -> Period:
        return cls(index // 12, index % 12 + 1)

    def __add__(self, months: int) -> Period:
        return Period.from_index(self.index + months)

    def __sub__(self, other):
        if isinstance(other, Period):
            return self.index - other.index
        return Period.from_index(self.index - other)

    def __str__(self) -> str:
        return f"{self.year:04d}{self.month:02d}"

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    @property
    def quarter(self) -> int:
        return (self.month - 1) // 3 + 1

    def due_date(self, due_day: int) -> date:
        """The day a declaration for this period is due: ``due_day`` of the next month."""
        following = self + 1
        return date(
            following.year, following.month, min(due_day, calendar.monthrange(following.year, following.month)[1])
        )


def period_range(first: Period, last: Period) -> list[Period]:
    """Every period from ``first`` to ``last`` inclusive (empty if last < first)."""
    return [Period.from_index(i) for i in range(first.index, last.index + 1)]
