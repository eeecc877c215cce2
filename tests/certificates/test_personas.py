"""Every demo persona gets the certificates docs/domain.md says, read from the database."""

import pytest
from django.utils import timezone

from certificates import registry as kind_registry
from certificates import rules
from certificates.services import evaluate_for
from declarations.status import expected_period
from tests.factories import seed_personas

pytestmark = pytest.mark.django_db


@pytest.fixture
def today():
    return timezone.localdate()


def decisions(insured, today, options=None):
    return {
        kind: evaluate_for(insured, kind, options, today=today)
        for kind in kind_registry.values()
        if kind_registry.is_online(kind)
    }


def test_amina_up_to_date_with_a_long_career_gets_every_certificate_but_the_ended_ones(today):
    amina = seed_personas("amina", today=today)["amina"]
    d = decisions(amina, today)
    assert d["employment"].allowed
    assert d["employment"].facts["employer"]["name"] == "MAROC DIGITAL SERVICES SA"
    assert d["employment"].facts["reference_period"] == str(expected_period(today))
    assert d["affiliation"].allowed
    assert [e["name"] for e in d["affiliation"].facts["employers"]] == [
        "ATLAS TEXTILES SARL",
        "MAROC DIGITAL SERVICES SA",
    ]
    assert d["annual_salary"].allowed and len(d["annual_salary"].facts["rows"]) == 12
    assert d["declared_days"].facts["threshold_reached"] is True
    assert d["declared_days"].facts["total_days"] > 3240
    assert d["deregistration"].allowed  # her first employment, with Atlas, ended in 2016
    assert d["deregistration"].facts["end_date"] == "2016-06-30"
    assert d["non_affiliation"].code == "recent_salaried_activity"


def test_youssef_with_two_employers_must_choose_the_main_one(today):
    youssef = seed_personas("youssef", today=today)["youssef"]
    d = decisions(youssef, today)
    assert d["employment"].code == "choose_main_employer"
    assert {e.name for e in d["employment"].choices} == {"MAROC DIGITAL SERVICES SA", "CAFE RESTAURANT LA CORNICHE"}
    corniche = next(e for e in d["employment"].choices if e.name.startswith("CAFE"))
    chosen = evaluate_for(youssef, "employment", rules.Options(employer_id=corniche.id), today=today)
    assert chosen.allowed and chosen.facts["days"] <= 13
    assert {r["employer"] for r in d["annual_salary"].facts["rows"]} == {
        "MAROC DIGITAL SERVICES SA",
        "CAFE RESTAURANT LA CORNICHE",
    }


def test_karim_with_an_employer_one_period_behind_gets_the_last_declared_period(today):
    karim = seed_personas("karim", today=today)["karim"]
    assert evaluate_for(karim, "employment", today=today).code == "employer_one_period_behind"
    result = evaluate_for(karim, "employment", rules.Options(last_declared_period=True), today=today)
    assert result.allowed
    assert result.facts["reference_period"] == str(expected_period(today) - 1)


def test_fatima_with_an_employer_in_arrears_is_blocked_and_offered_the_ways_out(today):
    fatima = seed_personas("fatima", today=today)["fatima"]
    d = decisions(fatima, today)
    e = expected_period(today)
    for kind in ("employment", "annual_salary"):
        assert d[kind].code == "employer_in_arrears"
        assert d[kind].missing_periods == (e - 2, e - 1, e)
        assert d[kind].ways_out == (rules.WAY_EMPLOYER_NOTICE, rules.WAY_ARREARS_REPORT)
    assert d["affiliation"].allowed
    assert d["declared_days"].allowed


def test_rachid_whose_employment_ended_over_a_year_ago_gets_deregistration_and_non_affiliation(today):
    rachid = seed_personas("rachid", today=today)["rachid"]
    d = decisions(rachid, today)
    assert d["deregistration"].allowed
    assert d["deregistration"].facts["exit_reason"] == "SO"
    assert d["deregistration"].facts["last_period"] == str(expected_period(today) - 14)
    assert d["non_affiliation"].allowed
    assert d["employment"].code == "no_active_employment"


def test_salma_keeps_her_old_cin_in_history(today):
    salma = seed_personas("salma", today=today)["salma"]
    assert salma.cin == "BK654321"
    assert list(salma.previous_cins.values_list("cin", flat=True)) == ["B345678"]
    assert evaluate_for(salma, "employment", today=today).allowed


def test_mohamed_whose_name_is_misspelled_can_still_get_certificates_until_he_asks_for_a_correction(today):
    mohamed = seed_personas("mohamed", today=today)["mohamed"]
    assert mohamed.last_name == "BENJLLOUN"
    assert evaluate_for(mohamed, "affiliation", today=today).allowed
    mohamed.identity_under_correction = True
    mohamed.save()
    assert evaluate_for(mohamed, "affiliation", today=today).code == "identity_under_correction"


def test_hassan_who_worked_in_france_is_pointed_to_the_treaty_request(today):
    hassan = seed_personas("hassan", today=today)["hassan"]
    result = evaluate_for(hassan, "declared_days", today=today)
    assert result.allowed
    assert result.ways_out == (rules.WAY_TREATY,)
