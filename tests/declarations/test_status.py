from datetime import date

import pytest

from declarations.periods import Period, period_range
from declarations.status import IN_ARREARS, ONE_BEHIND, UP_TO_DATE, employer_status, expected_period


def P(text):
    return Period.parse(text)


def status(declared, today, **kwargs):
    return employer_status(declared_periods=[P(p) for p in declared], today=today, **kwargs)


def test_the_expected_period_is_the_month_before_today():
    assert expected_period(date(2026, 11, 28)) == P("202610")


def test_the_expected_period_crosses_the_year_boundary_in_january():
    assert expected_period(date(2027, 1, 1)) == P("202612")


def test_an_employer_who_declared_the_expected_period_is_up_to_date():
    result = status(["202609", "202610"], date(2026, 11, 28))
    assert result.state == UP_TO_DATE
    assert result.missing == []
    assert result.usable_period == P("202610")


def test_an_employer_whose_last_period_is_one_before_expected_is_one_behind():
    result = status(["202608", "202609"], date(2026, 11, 2))
    assert result.state == ONE_BEHIND
    assert result.last_declared == P("202609")
    assert result.missing == [P("202610")]
    assert result.usable_period == P("202609")
    assert result.overdue_since is None


def test_one_behind_across_a_year_boundary():
    result = status(["202611"], date(2027, 1, 15))
    assert result.state == ONE_BEHIND
    assert result.expected == P("202612")


def test_an_employer_two_periods_behind_is_in_arrears_with_the_missing_periods():
    result = status(["202607", "202608"], date(2026, 11, 28))
    assert result.state == IN_ARREARS
    assert result.missing == [P("202609"), P("202610")]
    assert result.usable_period is None


def test_arrears_are_overdue_since_the_due_date_of_the_first_missing_period():
    result = status(["202607", "202608"], date(2026, 11, 28), due_day=10)
    assert result.overdue_since == date(2026, 10, 10)


def test_arrears_across_a_year_boundary_list_december_and_january():
    result = status(["202611"], date(2027, 2, 3))
    assert result.state == IN_ARREARS
    assert result.missing == [P("202612"), P("202701")]
    assert result.overdue_since == date(2027, 1, 10)


def test_an_employer_who_never_declared_is_in_arrears_from_the_first_expected_period():
    result = status([], date(2026, 11, 28), first_expected=P("202608"))
    assert result.state == IN_ARREARS
    assert result.last_declared is None
    assert result.missing == period_range(P("202608"), P("202610"))


def test_an_employer_who_never_declared_and_has_no_known_start_misses_the_expected_period():
    result = status([], date(2026, 11, 28))
    assert result.state == IN_ARREARS
    assert result.missing == [P("202610")]


def test_a_declaration_for_the_current_month_does_not_count_ahead_of_time():
    result = status(["202608", "202611"], date(2026, 11, 28))
    assert result.state == IN_ARREARS
    assert result.last_declared == P("202608")


def test_a_wider_tolerance_keeps_an_employer_two_behind_out_of_arrears():
    result = status(["202608"], date(2026, 11, 28), tolerance=2)
    assert result.state == ONE_BEHIND


def test_no_tolerance_puts_an_employer_one_behind_in_arrears():
    result = status(["202609"], date(2026, 11, 28), tolerance=0)
    assert result.state == IN_ARREARS


def test_the_due_date_is_clamped_to_the_end_of_a_short_month():
    assert P("202601").due_date(31) == date(2026, 2, 28)


@pytest.mark.parametrize(
    ("today", "declared", "state"),
    [
        (date(2026, 3, 1), ["202602"], UP_TO_DATE),
        (date(2026, 3, 31), ["202601"], ONE_BEHIND),
        (date(2026, 3, 31), ["202512"], IN_ARREARS),
        (date(2026, 1, 31), ["202512"], UP_TO_DATE),
        (date(2026, 1, 31), ["202511"], ONE_BEHIND),
        (date(2026, 1, 31), ["202510"], IN_ARREARS),
        (date(2024, 3, 1), ["202401"], ONE_BEHIND),
    ],
)
def test_status_on_month_and_year_boundaries(today, declared, state):
    assert status(declared, today).state == state


def test_period_arithmetic_round_trips_across_years():
    assert P("202501") - 1 == P("202412")
    assert P("202412") + 1 == P("202501")
    assert P("202501") - P("202412") == 1
    assert str(P("202412") + 13) == "202601"


@pytest.mark.parametrize("text", ["202613", "202600", "20261", "abcdef", "", "2026011"])
def test_invalid_periods_are_refused(text):
    with pytest.raises(ValueError):
        Period.parse(text)
