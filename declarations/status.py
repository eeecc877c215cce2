"""Employer status: is an employer up to date with its monthly declarations?

The rule is our own (docs/domain.md "Employer status", assumed):

- The expected period E is the month before the current one.
- Up to date: the employer declared E.
- One period behind: the last declared period is E-1 (with the default tolerance
  of one period). Certificates that need the current period can still be issued
  on the *last declared period*.
- In arrears: the last declared period is older, or the employer never declared.
  Online certificates that depend on this employer's declarations are blocked.

The due day only dates the arrears: a declaration for period P is due on the
``due_day`` of the month after P, so an employer in arrears is overdue since the
due date of its first missing period.

``employer_status`` is pure (plain data in, plain data out, injectable today);
``status_for_employer`` reads the database and the settings.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from declarations.periods import Period, period_range

UP_TO_DATE = "up_to_date"
ONE_BEHIND = "one_behind"
IN_ARREARS = "in_arrears"

STATE_LABELS = {
    UP_TO_DATE: _("Up to date"),
    ONE_BEHIND: _("One period behind"),
    IN_ARREARS: _("In arrears"),
}


@dataclass(frozen=True)
class EmployerStatus:
    state: str
    expected: Period
    last_declared: Period | None
    # Periods from the first one that should have been declared up to E that are
    # missing, oldest first (only those after the last declared period).
    missing: list[Period] = field(default_factory=list)
    overdue_since: date | None = None

    @property
    def label(self):
        return STATE_LABELS[self.state]

    @property
    def is_up_to_date(self) -> bool:
        return self.state == UP_TO_DATE

    @property
    def is_in_arrears(self) -> bool:
        return self.state == IN_ARREARS

    @property
    def usable_period(self) -> Period | None:
        """The latest period certificates may refer to, or None when blocked."""
        if self.state == UP_TO_DATE:
            return self.expected
        if self.state == ONE_BEHIND:
            return self.last_declared
        return None


def expected_period(today: date) -> Period:
    """E: the month before the current one."""
    return Period.of(today) - 1


def employer_status(
    *,
    declared_periods: Iterable[Period],
    today: date,
    tolerance: int = 1,
    due_day: int = 10,
    first_expected: Period | None = None,
) -> EmployerStatus:
    """Status of an employer given the periods it declared.

    ``first_expected`` is the first period the employer had to declare (for
    example the first period of an active employee); when the employer never
    declared, the missing periods start there (or at E alone when unknown).
    """
    expected = expected_period(today)
    declared = [p for p in declared_periods if p <= expected]
    last = max(declared) if declared else None

    if last is not None and expected - last <= 0:
        return EmployerStatus(state=UP_TO_DATE, expected=expected, last_declared=last)

    first_missing = last + 1 if last is not None else (first_expected or expected)
    first_missing = min(first_missing, expected)
    missing = period_range(first_missing, expected)
    if last is not None and expected - last <= tolerance:
        return EmployerStatus(state=ONE_BEHIND, expected=expected, last_declared=last, missing=missing)
    return EmployerStatus(
        state=IN_ARREARS,
        expected=expected,
        last_declared=last,
        missing=missing,
        overdue_since=missing[0].due_date(due_day),
    )


def status_for_employer(employer, *, today: date | None = None) -> EmployerStatus:
    """Status of one ``registry.Employer`` from its current declarations."""
    from declarations.models import Declaration

    periods = Declaration.objects.current().filter(employer=employer).values_list("period", flat=True)
    return employer_status(
        declared_periods=[Period.parse(p) for p in periods],
        today=today or timezone.localdate(),
        tolerance=settings.DAMANE_STATUS_TOLERANCE_PERIODS,
        due_day=settings.DAMANE_DECLARATION_DUE_DAY,
    )


def statuses_for_employers(employers, *, today: date | None = None) -> dict[int, EmployerStatus]:
    """Statuses of several employers in one query, keyed by employer id."""
    from declarations.models import Declaration

    employers = list(employers)
    periods: dict[int, list[Period]] = {e.pk: [] for e in employers}
    rows = Declaration.objects.current().filter(employer__in=employers).values_list("employer_id", "period")
    for employer_id, period in rows:
        periods[employer_id].append(Period.parse(period))
    today = today or timezone.localdate()
    return {
        employer_id: employer_status(
            declared_periods=declared,
            today=today,
            tolerance=settings.DAMANE_STATUS_TOLERANCE_PERIODS,
            due_day=settings.DAMANE_DECLARATION_DUE_DAY,
        )
        for employer_id, declared in periods.items()
    }
