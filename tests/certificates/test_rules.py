"""The certificate rules, case by case (docs/domain.md "The six certificates")."""

from datetime import date

import pytest

from certificates import rules
from certificates.rules import EmployerRef, EmploymentRecord, Holder, InsuredRecord, LineRecord, Options, evaluate
from declarations.periods import Period, period_range
from declarations.status import employer_status

TODAY = date(2026, 11, 28)  # E = 2026-10
E = Period(2026, 10)
HOLDER = Holder("100234561", "BE123456", "BENNANI", "AMINA", "بناني", "أمينة", date(1984, 5, 14))
ACME = EmployerRef(1, "ACME SARL", "1234567")
BETA = EmployerRef(2, "BETA SA", "2345678")


def employment(employer, start, end=None, exit_reason="", pk=None):
    return EmploymentRecord(
        id=pk or employer.id,
        employer=employer,
        start_date=start.first_day,
        start_period=start,
        last_period=end or E,
        end_date=end.last_day if end else None,
        exit_reason=exit_reason,
    )


def lines(employer, first, last, days=26, salary=800_000):
    return tuple(LineRecord(employer.id, p, days, salary, min(salary, 600_000)) for p in period_range(first, last))


def record(employments=(), line_records=(), declared=None, **kwargs):
    """``declared`` maps employer -> last declared period (default: E)."""
    declared = declared or {}
    statuses = {}
    for e in employments:
        last = declared.get(e.employer.id, E)
        statuses[e.employer.id] = employer_status(declared_periods=[last] if last else [], today=TODAY)
    return InsuredRecord(
        holder=HOLDER,
        registered_on=date(2011, 3, 1),
        employments=tuple(employments),
        lines=tuple(line_records),
        employer_status=statuses,
        **kwargs,
    )


def up_to_date_worker():
    return record([employment(ACME, E - 30)], lines(ACME, E - 30, E))


# --- employment -------------------------------------------------------------


def test_employment_states_employer_start_and_days_of_the_expected_period():
    result = evaluate(up_to_date_worker(), "employment", today=TODAY)
    assert result.allowed
    assert result.facts == {
        "employer": {"name": "ACME SARL", "affiliation_number": "1234567"},
        "start_date": "2024-04-01",
        "reference_period": "202610",
        "days": 26,
        "last_declared_period_option": False,
    }


def test_employment_is_blocked_when_the_employer_is_in_arrears_naming_the_missing_periods():
    rec = record([employment(ACME, E - 30)], lines(ACME, E - 30, E - 3), declared={ACME.id: E - 3})
    result = evaluate(rec, "employment", today=TODAY)
    assert not result.allowed
    assert result.code == "employer_in_arrears"
    assert result.missing_periods == (E - 2, E - 1, E)
    assert "August 2026, September 2026, October 2026" in result.message
    assert result.ways_out == (rules.WAY_EMPLOYER_NOTICE, rules.WAY_ARREARS_REPORT)


def test_employment_with_an_employer_one_behind_asks_for_the_last_declared_period_option():
    rec = record([employment(ACME, E - 30)], lines(ACME, E - 30, E - 1), declared={ACME.id: E - 1})
    result = evaluate(rec, "employment", today=TODAY)
    assert result.code == "employer_one_period_behind"
    assert result.ways_out == (rules.WAY_LAST_DECLARED,)


def test_employment_on_the_last_declared_period_when_the_option_is_ticked():
    rec = record([employment(ACME, E - 30)], lines(ACME, E - 30, E - 1), declared={ACME.id: E - 1})
    result = evaluate(rec, "employment", Options(last_declared_period=True), today=TODAY)
    assert result.allowed
    assert result.reference_period == E - 1
    assert result.facts["last_declared_period_option"] is True


def test_employment_is_blocked_when_the_employment_ended():
    rec = record([employment(ACME, E - 30, E - 5, "SO")], lines(ACME, E - 30, E - 5))
    result = evaluate(rec, "employment", Options(employer_id=ACME.id), today=TODAY)
    assert result.code == "employment_ended"
    assert rules.WAY_DEREGISTRATION in result.ways_out


def test_employment_without_any_current_employment_is_blocked():
    rec = record([employment(ACME, E - 30, E - 5, "SO")], lines(ACME, E - 30, E - 5))
    assert evaluate(rec, "employment", today=TODAY).code == "no_active_employment"


def test_employment_is_blocked_when_the_employer_did_not_declare_the_person_for_the_reference_period():
    # ACME is up to date (it declared E for others), but not this person.
    rec = record([employment(ACME, E - 30)], lines(ACME, E - 30, E - 1))
    result = evaluate(rec, "employment", today=TODAY)
    assert result.code == "not_declared_for_period"
    assert result.missing_periods == (E,)


def test_several_active_employers_require_choosing_the_main_one():
    rec = record(
        [employment(ACME, E - 30), employment(BETA, E - 10)], lines(ACME, E - 30, E) + lines(BETA, E - 10, E, 13)
    )
    result = evaluate(rec, "employment", today=TODAY)
    assert result.code == "choose_main_employer"
    assert set(result.choices) == {ACME, BETA}
    chosen = evaluate(rec, "employment", Options(employer_id=BETA.id), today=TODAY)
    assert chosen.allowed
    assert chosen.facts["employer"]["name"] == "BETA SA"
    assert chosen.facts["days"] == 13


def test_choosing_an_employer_that_never_declared_the_person_is_refused():
    result = evaluate(up_to_date_worker(), "employment", Options(employer_id=99), today=TODAY)
    assert result.code == "unknown_employer"


# --- affiliation ---------------------------------------------------------------


def test_affiliation_lists_registration_date_and_every_employer():
    rec = record(
        [employment(ACME, Period(2011, 3), Period(2016, 6), "SO"), employment(BETA, Period(2016, 9))],
        lines(ACME, Period(2011, 3), Period(2016, 6)) + lines(BETA, Period(2016, 9), E),
    )
    result = evaluate(rec, "affiliation", today=TODAY)
    assert result.facts["registered_on"] == "2011-03-01"
    assert [(e["name"], e["first_period"], e["last_period"], e["active"]) for e in result.facts["employers"]] == [
        ("ACME SARL", "201103", "201606", False),
        ("BETA SA", "201609", "202610", True),
    ]


def test_affiliation_is_blocked_while_the_identity_is_under_correction():
    rec = record([employment(ACME, E - 30)], lines(ACME, E - 30, E), identity_under_correction=True)
    result = evaluate(rec, "affiliation", today=TODAY)
    assert result.code == "identity_under_correction"


def test_affiliation_is_not_blocked_by_an_employer_in_arrears():
    rec = record([employment(ACME, E - 30)], lines(ACME, E - 30, E - 6), declared={ACME.id: E - 6})
    assert evaluate(rec, "affiliation", today=TODAY).allowed


# --- non-affiliation -------------------------------------------------------------


def test_non_affiliation_after_more_than_twelve_periods_without_declaration():
    rec = record([employment(ACME, E - 60, E - 14, "SO")], lines(ACME, E - 60, E - 14))
    result = evaluate(rec, "non_affiliation", today=TODAY)
    assert result.allowed
    assert result.facts == {"from_period": "202511", "to_period": "202610", "last_salaried_period": "202508"}


def test_non_affiliation_is_blocked_by_a_declaration_within_the_last_twelve_periods():
    rec = record([employment(ACME, E - 60, E - 11, "SO")], lines(ACME, E - 60, E - 11))
    result = evaluate(rec, "non_affiliation", today=TODAY)
    assert result.code == "recent_salaried_activity"
    assert "November 2025" in result.message


def test_non_affiliation_is_blocked_while_an_employment_is_open_even_without_recent_lines():
    rec = record([employment(ACME, E - 60)], lines(ACME, E - 60, E - 20), declared={ACME.id: E - 20})
    assert evaluate(rec, "non_affiliation", today=TODAY).code == "recent_salaried_activity"


def test_non_affiliation_for_someone_never_declared():
    result = evaluate(record(), "non_affiliation", today=TODAY)
    assert result.allowed
    assert result.facts["last_salaried_period"] is None


# --- annual salary ------------------------------------------------------------------


def test_annual_salary_lists_twelve_periods_of_every_employer_with_totals():
    rec = record(
        [employment(ACME, E - 30), employment(BETA, E - 5)],
        lines(ACME, E - 30, E, salary=800_000) + lines(BETA, E - 5, E, days=10, salary=300_000),
    )
    result = evaluate(rec, "annual_salary", today=TODAY)
    assert result.allowed
    facts = result.facts
    assert (facts["from_period"], facts["to_period"]) == ("202511", "202610")
    assert len(facts["rows"]) == 12 + 6
    assert facts["totals"] == {
        "days": 12 * 26 + 6 * 10,
        "real_salary": 12 * 800_000 + 6 * 300_000,
        "capped_salary": 12 * 600_000 + 6 * 300_000,
    }


def test_annual_salary_is_blocked_when_an_active_employer_is_in_arrears():
    rec = record(
        [employment(ACME, E - 30), employment(BETA, E - 20)],
        lines(ACME, E - 30, E) + lines(BETA, E - 20, E - 4),
        declared={BETA.id: E - 4},
    )
    result = evaluate(rec, "annual_salary", today=TODAY)
    assert result.code == "employer_in_arrears"
    assert result.employer == BETA


def test_annual_salary_ignores_the_arrears_of_a_former_employer():
    rec = record(
        [employment(ACME, E - 30), employment(BETA, E - 40, E - 20, "SO")],
        lines(ACME, E - 30, E) + lines(BETA, E - 40, E - 20),
        declared={BETA.id: E - 20},
    )
    assert evaluate(rec, "annual_salary", today=TODAY).allowed


def test_annual_salary_on_the_last_declared_period_ends_one_period_earlier():
    rec = record([employment(ACME, E - 30)], lines(ACME, E - 30, E - 1), declared={ACME.id: E - 1})
    assert evaluate(rec, "annual_salary", today=TODAY).code == "employer_one_period_behind"
    result = evaluate(rec, "annual_salary", Options(last_declared_period=True), today=TODAY)
    assert result.facts["to_period"] == "202609"
    assert len(result.facts["rows"]) == 12


# --- declared days ------------------------------------------------------------------


def test_declared_days_is_never_blocked_and_counts_by_year_and_quarter():
    rec = record(
        [employment(ACME, E - 30)], lines(ACME, E - 30, E - 3), declared={ACME.id: E - 3}
    )  # in arrears: still issued
    result = evaluate(rec, "declared_days", today=TODAY)
    assert result.allowed
    assert result.facts["as_of"] == "2026-11-28"
    years = {y["year"]: y for y in result.facts["years"]}
    assert years[2024]["quarters"] == [0, 78, 78, 78]
    assert years[2026]["quarters"] == [78, 78, 26, 0]
    assert result.facts["total_days"] == sum(y["total"] for y in result.facts["years"])


def test_a_quarter_holds_at_most_78_days_across_employers():
    rec = record([employment(ACME, E - 5), employment(BETA, E - 5)], lines(ACME, E - 5, E) + lines(BETA, E - 5, E))
    years = evaluate(rec, "declared_days", today=TODAY).facts["years"]
    assert years[0]["quarters"][2] == 78


def test_declared_days_says_whether_the_pension_threshold_is_reached():
    long_career = record([employment(ACME, Period(2011, 3))], lines(ACME, Period(2011, 3), E))
    short_career = up_to_date_worker()
    assert evaluate(long_career, "declared_days", today=TODAY).facts["threshold_reached"] is True
    assert evaluate(short_career, "declared_days", today=TODAY).facts["threshold_reached"] is False


def test_declared_days_of_someone_who_worked_abroad_points_to_the_treaty_request():
    rec = record([employment(ACME, E - 30)], lines(ACME, E - 30, E), treaty_country="FR")
    result = evaluate(rec, "declared_days", today=TODAY)
    assert result.allowed
    assert result.ways_out == (rules.WAY_TREATY,)
    assert result.notes


# --- deregistration ------------------------------------------------------------------


def test_deregistration_states_the_ended_employment():
    rec = record([employment(ACME, E - 70, E - 14, "SO")], lines(ACME, E - 70, E - 14))
    result = evaluate(rec, "deregistration", today=TODAY)
    assert result.facts == {
        "employer": {"name": "ACME SARL", "affiliation_number": "1234567"},
        "start_date": (E - 70).first_day.isoformat(),
        "end_date": (E - 14).last_day.isoformat(),
        "last_period": str(E - 14),
        "exit_reason": "SO",
    }


def test_deregistration_is_blocked_without_an_ended_employment():
    assert evaluate(up_to_date_worker(), "deregistration", today=TODAY).code == "no_ended_employment"


def test_deregistration_for_an_employer_who_still_declares_the_person_is_blocked():
    rec = record(
        [employment(ACME, E - 30), employment(BETA, E - 40, E - 31, "SO", pk=5)],
        lines(ACME, E - 30, E) + lines(BETA, E - 40, E - 31),
    )
    result = evaluate(rec, "deregistration", Options(employer_id=ACME.id), today=TODAY)
    assert result.code == "no_ended_employment"
    assert result.choices == (BETA,)


def test_deregistration_with_several_ended_employers_asks_which():
    rec = record(
        [employment(ACME, E - 60, E - 40, "SO"), employment(BETA, E - 30, E - 20, "SO")],
        lines(ACME, E - 60, E - 40) + lines(BETA, E - 30, E - 20),
    )
    assert evaluate(rec, "deregistration", today=TODAY).code == "choose_ended_employer"
    chosen = evaluate(rec, "deregistration", Options(employer_id=ACME.id), today=TODAY)
    assert chosen.facts["end_date"] == (E - 40).last_day.isoformat()


def test_an_unknown_kind_is_a_programming_error():
    with pytest.raises(ValueError):
        evaluate(record(), "passport", today=TODAY)
