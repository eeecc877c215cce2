"""Employments derived from declarations (declarations.employments.rebuild_employments)."""

from datetime import date

import pytest

from declarations.ebds import EbdsDeclaration, EbdsLine, write_ebds
from declarations.employments import derive_spells, rebuild_employments
from declarations.periods import Period
from declarations.services import import_ebds
from registry.models import Employer, Employment, Insured

PERSON = "100000001"


def declare(period, *lines, affiliation="1234567", correction=False):
    declaration = EbdsDeclaration(
        affiliation_number=affiliation,
        period=Period.parse(period),
        employer_name=f"EMPLOYER {affiliation}",
        lines=list(lines),
    )
    import_ebds(
        text=write_ebds(declaration, ceiling=600_000),
        filename=f"DS_{affiliation}_{period}.txt",
        correction=correction,
    )


def hired():
    return EbdsLine(PERSON, "ALAMI YOUSSEF", 26, 500_000, cin="J456789", is_new=True)


def works(situation="", days=26):
    return EbdsLine(PERSON, "ALAMI YOUSSEF", days, 500_000, situation=situation)


def spells(affiliation="1234567"):
    rows = Employment.objects.filter(insured__cnss_number=PERSON, employer__affiliation_number=affiliation)
    fields = ["start_period", "start_date", "last_period", "end_date", "exit_reason"]
    return list(rows.order_by("start_period").values_list(*fields))


@pytest.mark.django_db
def test_an_employment_starts_on_the_first_day_of_the_first_declared_period():
    declare("202501", hired())
    declare("202502", works())
    assert spells() == [("202501", date(2025, 1, 1), "202502", None, "")]


@pytest.mark.django_db
def test_leaving_the_company_ends_the_employment_on_the_last_day_of_that_period():
    declare("202501", hired())
    declare("202502", works("SO", days=10))
    assert spells() == [("202501", date(2025, 1, 1), "202502", date(2025, 2, 28), "SO")]


@pytest.mark.django_db
def test_death_ends_the_employment():
    declare("202501", hired())
    declare("202503", works("DE"))
    assert spells() == [("202501", date(2025, 1, 1), "202503", date(2025, 3, 31), "DE")]


@pytest.mark.django_db
def test_a_rehire_after_an_exit_starts_a_new_employment():
    declare("202501", hired())
    declare("202502", works("SO"))
    declare("202505", works())
    assert spells() == [
        ("202501", date(2025, 1, 1), "202502", date(2025, 2, 28), "SO"),
        ("202505", date(2025, 5, 1), "202505", None, ""),
    ]


@pytest.mark.django_db
def test_a_correction_that_removes_the_exit_reopens_the_employment():
    declare("202501", hired())
    declare("202502", works("SO"))
    declare("202503", works())
    assert len(spells()) == 2

    declare("202502", works(), correction=True)

    assert spells() == [("202501", date(2025, 1, 1), "202503", None, "")]


@pytest.mark.django_db
def test_a_correction_that_drops_the_person_from_the_only_period_removes_the_employment():
    declare("202501", hired(), EbdsLine("100000002", "TAZI KARIM", 26, 400_000, cin="JB234567", is_new=True))
    declare("202501", EbdsLine("100000002", "TAZI KARIM", 26, 400_000, cin="JB234567", is_new=True), correction=True)
    assert spells() == []
    assert Employment.objects.count() == 1


@pytest.mark.django_db
def test_declarations_arriving_out_of_order_give_the_same_employments():
    declare("202503", hired())
    declare("202501", hired())
    declare("202502", works("SO"))
    assert spells() == [
        ("202501", date(2025, 1, 1), "202502", date(2025, 2, 28), "SO"),
        ("202503", date(2025, 3, 1), "202503", None, ""),
    ]


@pytest.mark.django_db
def test_employments_with_two_employers_are_kept_apart():
    declare("202501", hired())
    declare("202501", hired(), affiliation="7654321")
    declare("202502", works("SO"), affiliation="7654321")
    assert spells("1234567") == [("202501", date(2025, 1, 1), "202501", None, "")]
    assert spells("7654321") == [("202501", date(2025, 1, 1), "202502", date(2025, 2, 28), "SO")]


@pytest.mark.django_db
def test_rebuilding_twice_changes_nothing():
    declare("202501", hired())
    declare("202502", works("SO"))
    before = list(Employment.objects.values())
    person, employer = Insured.objects.get(), Employer.objects.get()

    rebuild_employments(insured_ids=[person.pk], employer=employer)

    assert list(Employment.objects.values()) == before


def test_a_gap_without_an_exit_code_does_not_end_an_employment():
    result = derive_spells([("202501", ""), ("202506", ""), ("202507", "SO"), ("202509", "")])
    assert [(s.start_period, s.last_period, s.end_date, s.exit_reason) for s in result] == [
        ("202501", "202507", date(2025, 7, 31), "SO"),
        ("202509", "202509", None, ""),
    ]


def test_other_situations_do_not_end_an_employment():
    result = derive_spells([("202501", ""), ("202502", "AT"), ("202503", "CS"), ("202504", "MP")])
    assert [(s.start_period, s.last_period, s.end_date) for s in result] == [("202501", "202504", None)]
