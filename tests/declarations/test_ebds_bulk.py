"""The set-based import path (declarations.bulk) stores what the original store does.

Every test here runs on PostgreSQL, where ``import_ebds`` takes the fast path for
a well-formed new declaration; ``slow`` forces the original path so the two can
be compared on the same files.
"""

import random

import pytest
from django.db import connection, transaction

from declarations import bulk, services
from declarations.employments import rebuild_employments
from declarations.models import Declaration, DeclarationLine, EbdsFile
from declarations.services import ImportRejected, import_ebds
from registry.models import Employer, Employment, Insured
from tests.declarations.ebds_testkit import make_declaration, make_line, replace_field, write

pytestmark = pytest.mark.django_db


@pytest.fixture
def slow(monkeypatch):
    """Send every import down the original path."""

    def refuse(*args, **kwargs):
        raise bulk.NotFast

    monkeypatch.setattr(bulk, "scan", refuse)


@pytest.fixture
def fast_only(monkeypatch):
    """Fail the test if the original store runs."""
    if connection.vendor != "postgresql":
        pytest.skip("the set-based path is PostgreSQL's")

    def forbidden(*args, **kwargs):
        raise AssertionError("the original store ran: the fast path gave up")

    monkeypatch.setattr(services, "_store", forbidden)


def load(declaration, **kwargs):
    return import_ebds(
        text=write(declaration), filename=f"DS_{declaration.affiliation_number}_{declaration.period}.txt"
    )


def snapshot() -> dict:
    lines = DeclarationLine.objects.order_by("declaration__employer__affiliation_number", "period", "insured")
    return {
        "lines": list(
            lines.values_list(
                "declaration__employer__affiliation_number",
                "insured__cnss_number",
                "period",
                "is_current",
                "is_new_employee",
                "declared_name",
                "children",
                "family_allowance_due",
                "family_allowance_deducted",
                "family_allowance_net",
                "family_allowance_returned",
                "days",
                "real_salary",
                "capped_salary",
                "situation",
            )
        ),
        "employments": sorted(
            Employment.objects.values_list(
                "insured__cnss_number",
                "employer__affiliation_number",
                "start_period",
                "start_date",
                "last_period",
                "end_date",
                "exit_reason",
            )
        ),
        "declarations": sorted(
            Declaration.objects.values_list(
                "employer__affiliation_number",
                "period",
                "version",
                "employee_count",
                "total_days",
                "total_real_salary",
                "total_capped_salary",
            )
        ),
        "files": sorted(EbdsFile.objects.values_list("name", "sha256", "period", "counts", "transfer_id")),
        "insured": sorted(Insured.objects.values_list("cnss_number", "cin", "last_name", "first_name")),
    }


def career_files():
    """Twelve months of two employers: hires, exits (SO, DE), re-entries, gaps,
    other situations, family allowances, salaries above the ceiling."""
    rng = random.Random(10)
    people = [f"2000000{i:02d}" for i in range(30)]
    files = []
    known: dict[str, set[str]] = {"1234567": set(), "7654321": set()}
    for month in range(1, 13):
        period = f"2025{month:02d}"
        for affiliation, staff in (("1234567", people[:20]), ("7654321", people[10:])):
            lines = []
            for number in staff:
                if rng.random() < 0.15:
                    continue  # a gap: not declared this month
                situation = rng.choice(["", "", "", "", "SO", "DE", "CS", "AT", "MS"])
                real = rng.choice([0, 250_000, 599_999, 600_000, 900_000])
                is_new = number not in known[affiliation] and all(number not in k for k in known.values())
                if is_new:
                    line = make_line(number, f"NOM{number} PRENOM", days=rng.randint(0, 26), real_salary=real)
                    line.is_new = True
                    line.cin = f"Z{number[-6:]}"
                else:
                    line = make_line(
                        number,
                        f"nom{number} prenom",
                        days=rng.randint(0, 26),
                        real_salary=real,
                        situation=situation,
                        children=rng.randint(0, 5),
                        af_due=rng.randint(0, 90_000),
                        af_returned=rng.randint(0, 1000),
                    )
                lines.append(line)
            for line in lines:
                known[affiliation].add(line.cnss_number)
            files.append(make_declaration(period, lines, affiliation_number=affiliation, transfer_id=""))
    return files


def test_a_file_of_known_employees_takes_the_fast_path(fast_only):
    load(make_declaration("202501", [make_line("100000001", is_new=True, cin="J1")]))
    load(make_declaration("202502", [make_line("100000001", situation="SO", children=2, af_due=30_000)]))

    line = DeclarationLine.objects.get(period="202502")
    assert (line.children, line.family_allowance_due, line.situation, line.is_new_employee) == (2, 30_000, "SO", False)
    employment = Employment.objects.get()
    assert (employment.start_period, employment.last_period, employment.exit_reason) == ("202501", "202502", "SO")
    assert str(employment.end_date) == "2025-02-28"


def test_both_paths_store_the_same_records(slow, monkeypatch):
    files = career_files()
    for declaration in files:
        load(declaration)
    expected = snapshot()
    assert len(expected["lines"]) > 300

    with transaction.atomic():
        for model in (DeclarationLine, Declaration, Employment):
            model.objects.all().delete()
        from audit.models import AuditEntry

        AuditEntry.objects.all().delete()
        EbdsFile.objects.all().delete()
        Insured.objects.all().delete()
        Employer.objects.all().delete()
    monkeypatch.undo()
    monkeypatch.setattr(services, "_store", lambda *a, **k: pytest.fail("the fast path gave up"))
    for declaration in files:
        load(declaration)
    assert snapshot() == expected


def test_incremental_employments_match_a_full_rebuild(fast_only):
    for declaration in career_files():
        load(declaration)
    before = snapshot()["employments"]
    assert any(row[5] is not None for row in before), "no exit in the scenario"
    assert len({(row[0], row[1]) for row in before}) < len(before), "no re-entry in the scenario"

    for employer in Employer.objects.all():
        rebuild_employments(
            insured_ids=DeclarationLine.objects.filter(employer=employer).values_list("insured_id", flat=True),
            employer=employer,
        )
    assert snapshot()["employments"] == before


def test_a_late_file_rebuilds_the_employments_it_reorders(fast_only):
    load(make_declaration("202501", [make_line("100000001", is_new=True, cin="J1")]))
    load(make_declaration("202503", [make_line("100000001", situation="SO")]))
    # February arrives last and says the person left then: two employments.
    load(make_declaration("202502", [make_line("100000001", situation="SO")]))

    rows = list(Employment.objects.order_by("start_period").values_list("start_period", "last_period", "exit_reason"))
    assert rows == [("202501", "202502", "SO"), ("202503", "202503", "SO")]


def test_an_unknown_cnss_number_is_rejected_with_its_line_and_nothing_stays():
    load(make_declaration("202501", [make_line("100000001", is_new=True, cin="J1")]))
    text = write(make_declaration("202502", [make_line("100000001"), make_line("100000999")]))
    with pytest.raises(ImportRejected) as caught:
        import_ebds(text=text, filename="DS_bad.txt")
    assert [(issue.line, issue.field) for issue in caught.value.issues] == [(4, "N_Num_Assure")]
    assert Declaration.objects.count() == 1
    assert DeclarationLine.objects.count() == 1


@pytest.mark.parametrize(
    "start,end,value",
    [
        (111, 113, "27"),  # days above 26
        (126, 135, "000000001"),  # capped salary not min(real, ceiling)
        (137, 156, "0" * 19),  # control sum
        (135, 137, "XX"),  # unknown situation
        (25, 85, " " * 60),  # blank name
        (3, 10, "7654321"),  # affiliation differs from B01
        (200, 201, "X"),  # filler not blank
        (50, 51, "\xe9"),  # not printable ASCII
    ],
)
def test_every_line_rule_still_rejects_the_file_with_the_full_parsers_reason(start, end, value):
    load(make_declaration("202501", [make_line("100000001", is_new=True, cin="J1")]))
    good = write(make_declaration("202502", [make_line("100000001")]))
    bad = replace_field(good, 3, start, end, value)
    with pytest.raises(ImportRejected) as caught:
        import_ebds(text=bad, filename="DS_bad.txt")
    assert caught.value.issues
    assert all(issue.line in (3, 4, 6) for issue in caught.value.issues)
    assert Declaration.objects.count() == 1


def test_a_wrong_b03_total_is_rejected():
    load(make_declaration("202501", [make_line("100000001", is_new=True, cin="J1")]))
    good = write(make_declaration("202502", [make_line("100000001")]))
    bad = replace_field(good, 4, 91, 97, "000099")
    with pytest.raises(ImportRejected) as caught:
        import_ebds(text=bad, filename="DS_bad.txt")
    assert [(issue.line, issue.field) for issue in caught.value.issues] == [(4, "N_T_Jours_Declares")]


def test_progress_is_reported_while_reading(fast_only, monkeypatch):
    monkeypatch.setattr(bulk, "PROGRESS_EVERY", 2)
    lines = [make_line(f"1000000{i:02d}", is_new=True, cin=f"J{i}") for i in range(5)]
    load(make_declaration("202501", lines))
    seen = []
    known = [make_line(f"1000000{i:02d}") for i in range(5)]
    import_ebds(text=write(make_declaration("202502", known)), filename="DS.txt", progress=seen.append)
    assert seen == [2, 4, 5]


def test_a_person_or_declaration_that_lines_name_cannot_be_deleted_even_in_raw_sql():
    """Lines carry no row-by-row foreign-key checks (they cost the import 40 %);
    the guard triggers keep what those checks also gave: no line is orphaned."""
    if connection.vendor != "postgresql":
        pytest.skip("the guard triggers are PostgreSQL's")
    from django.db import IntegrityError

    load(make_declaration("202501", [make_line("100000001", is_new=True, cin="J1")]))
    person = Insured.objects.get(cnss_number="100000001")
    declaration = Declaration.objects.get()
    for table, pk in (("registry_insured", person.pk), ("declarations_declaration", declaration.pk)):
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table} WHERE id = %s", [pk])  # noqa: S608 (table from the tuple above)
    assert DeclarationLine.objects.filter(insured=person, declaration=declaration).count() == 1

    # A declaration's lines go with it (the ORM deletes them first); then the person may go.
    Employment.objects.filter(insured=person).delete()
    declaration.delete()
    assert not DeclarationLine.objects.exists()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM registry_insured WHERE id = %s", [person.pk])
    assert not Insured.objects.filter(pk=person.pk).exists()
