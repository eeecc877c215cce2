"""When an employer's missing declaration becomes an arrears alert (pure, injectable today).

docs/domain.md "Arrears alerts": an opted-in worker is told once per employer and
period when an employer of an active employment misses a declaration, that is
when the declaration of a period is past its due day (the 10th of the next
month, ``DAMANE_DECLARATION_DUE_DAY``) and still absent. Before the due day
nothing is missed yet, even though the employer already shows as one period
behind.

The period looked at is the latest one whose due day has passed: E (the month
before today) from the day after its due day, E-1 before. An employer that
stays in arrears is therefore the subject of one alert a month, each for a new
period; one that declares late but before the next run is never alerted.
"""

from __future__ import annotations

from collections.abc import Container
from datetime import date

from declarations.periods import Period
from declarations.status import expected_period


def overdue_period(*, today: date, due_day: int) -> Period:
    """The latest period whose declaration was due before ``today``."""
    expected = expected_period(today)
    return expected if today > expected.due_date(due_day) else expected - 1


def missed_period(*, declared: Container[Period], employment_start: Period, today: date, due_day: int) -> Period | None:
    """The period an alert is due for, or None.

    ``declared`` holds the periods the employer declared; an employment that
    started after the overdue period cannot have been missed in it.
    """
    period = overdue_period(today=today, due_day=due_day)
    if employment_start > period or period in declared:
        return None
    return period
