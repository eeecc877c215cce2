"""The counting rule of a convention, on plain data."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from treaties.rules import Period, Rule, calendar_split, cumulate, period_days, spread

RULE = Rule()


def fr(start, end, unit, amount):
    return Period("FR", "CNAV", start, end, unit, amount, "ref")


def test_a_foreign_quarter_counts_78_days_a_month_26_and_days_as_reported():
    assert period_days(fr(date(2000, 1, 1), date(2000, 12, 31), "quarters", 4), RULE) == 312
    assert period_days(fr(date(2000, 1, 1), date(2000, 12, 31), "months", 12), RULE) == 312
    assert period_days(fr(date(2000, 1, 1), date(2000, 12, 31), "days", 250), RULE) == 250
    assert period_days(fr(date(2000, 1, 1), date(2000, 12, 31), "quarters", 4), Rule(days_per_quarter=90)) == 360


def test_a_period_splits_into_calendar_quarters_by_calendar_days():
    assert calendar_split(date(2001, 2, 15), date(2001, 4, 10)) == [((2001, 1), 45), ((2001, 2), 10)]


def test_spread_keeps_the_exact_sum():
    shares = spread(100, date(2001, 2, 15), date(2001, 4, 10))
    assert sum(shares.values()) == 100
    assert shares[(2001, 1)] > shares[(2001, 2)]


@given(
    days=st.integers(min_value=0, max_value=20_000),
    start=st.dates(min_value=date(1950, 1, 1), max_value=date(2025, 1, 1)),
    length=st.integers(min_value=0, max_value=9000),
)
def test_spread_never_loses_or_invents_a_day(days, start, length):
    from datetime import timedelta

    shares = spread(days, start, start + timedelta(days=length))
    assert sum(shares.values()) == days
    assert all(value >= 0 for value in shares.values())


def test_foreign_periods_without_moroccan_ones_all_count():
    result = cumulate(
        moroccan={}, periods=[fr(date(1990, 1, 1), date(1999, 12, 31), "quarters", 40)], rule=RULE, threshold=3240
    )
    assert result["totals"]["foreign_days"] == 3120
    assert result["totals"]["foreign_counted_days"] == 3120
    assert result["totals"]["total_days"] == 3120
    assert result["totals"]["threshold_reached"] is False


def test_a_quarter_worked_in_both_countries_counts_once():
    moroccan = {(2003, 3): 78}
    result = cumulate(
        moroccan=moroccan, periods=[fr(date(2003, 7, 1), date(2003, 9, 30), "quarters", 1)], rule=RULE, threshold=3240
    )
    totals = result["totals"]
    assert totals["moroccan_days"] == 78
    assert totals["foreign_days"] == 78
    assert totals["foreign_counted_days"] == 0
    assert totals["not_counted_days"] == 78
    assert totals["overlapping_quarters"] == 1
    assert totals["total_days"] == 78


def test_a_partly_worked_quarter_is_topped_up_to_the_quarter_maximum_only():
    result = cumulate(
        moroccan={(2003, 3): 50},
        periods=[fr(date(2003, 7, 1), date(2003, 9, 30), "days", 60)],
        rule=RULE,
        threshold=3240,
    )
    assert result["totals"]["foreign_counted_days"] == 28
    assert result["totals"]["total_days"] == 78


def test_the_totals_reach_the_pension_threshold_together():
    moroccan = {(year, q): 78 for year in range(2010, 2020) for q in (1, 2, 3, 4)}  # 3,120 days
    result = cumulate(
        moroccan=moroccan, periods=[fr(date(2000, 1, 1), date(2001, 3, 31), "months", 6)], rule=RULE, threshold=3240
    )
    assert result["totals"]["total_days"] == 3120 + 156
    assert result["totals"]["threshold_reached"] is True


def test_countries_are_summed_by_institution():
    periods = [
        fr(date(1990, 1, 1), date(1990, 12, 31), "quarters", 4),
        fr(date(1991, 1, 1), date(1991, 6, 30), "quarters", 2),
        Period("BE", "SFP", date(1992, 1, 1), date(1992, 12, 31), "days", 200, "B-1"),
    ]
    result = cumulate(moroccan={}, periods=periods, rule=RULE, threshold=3240)
    assert result["countries"] == [
        {"country": "BE", "institution": "SFP", "days": 200},
        {"country": "FR", "institution": "CNAV", "days": 468},
    ]
    assert [row["start"] for row in result["foreign"]] == ["1990-01-01", "1991-01-01", "1992-01-01"]


def test_an_unknown_unit_is_refused():
    with pytest.raises(ValueError):
        period_days(fr(date(2000, 1, 1), date(2000, 12, 31), "weeks", 4), RULE)


def test_forty_quarters_reported_over_forty_calendar_quarters_fill_each_one_exactly():
    shares = spread(40 * 78, date(1990, 1, 1), date(1999, 12, 31), cap=78)
    assert set(shares.values()) == {78}
    assert len(shares) == 40


@given(
    quarters=st.integers(min_value=1, max_value=60),
    start=st.dates(min_value=date(1950, 1, 1), max_value=date(2010, 1, 1)),
    extra=st.integers(min_value=0, max_value=30),
)
def test_reported_quarters_that_fit_their_span_count_in_full_when_nothing_overlaps(quarters, start, extra):
    from datetime import timedelta

    end = start + timedelta(days=quarters * 92 + extra)
    span = len(calendar_split(start, end))
    reported = min(quarters, span)
    result = cumulate(moroccan={}, periods=[fr(start, end, "quarters", reported)], rule=RULE, threshold=3240)
    assert result["totals"]["foreign_counted_days"] == reported * 78
    assert result["totals"]["not_counted_days"] == 0
