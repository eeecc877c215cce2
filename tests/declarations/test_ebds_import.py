"""Importing e-BDS files into the database (declarations.services.import_ebds)."""

import hashlib
from datetime import date

import pytest
from freezegun import freeze_time

from audit.models import AuditEntry
from declarations.models import Declaration, DeclarationLine, EbdsFile
from declarations.services import ImportRejected, decode_ebds, import_ebds
from registry.models import Employer, Employment, Insured, PreviousCin
from tests.declarations.ebds_testkit import make_declaration, make_line, replace_field, write

pytestmark = pytest.mark.django_db


def load(declaration, *, name=None, **kwargs):
    return import_ebds(text=write(declaration), filename=name or f"DS_{declaration.period}.txt", **kwargs)


def rejected(declaration_or_text, **kwargs) -> ImportRejected:
    text = declaration_or_text if isinstance(declaration_or_text, str) else write(declaration_or_text)
    with pytest.raises(ImportRejected) as caught:
        import_ebds(text=text, filename="DS_bad.txt", **kwargs)
    return caught.value


def table_counts() -> dict[str, int]:
    models = [Employer, Insured, PreviousCin, Employment, EbdsFile, Declaration, DeclarationLine, AuditEntry]
    return {model.__name__: model.objects.count() for model in models}


def new_hire(cnss_number="100000001", name="ALAMI YOUSSEF", cin="J456789", **kwargs):
    return make_line(cnss_number, name, is_new=True, cin=cin, **kwargs)


def test_a_first_file_registers_the_employer_the_new_employees_and_the_declaration():
    declaration = make_declaration(
        "202501",
        [new_hire("100000001", "EL FASSI NADIA", "BE123456", real_salary=650_000), new_hire("100000002", "TAZI")],
    )
    result = load(declaration)

    employer = Employer.objects.get()
    assert (employer.affiliation_number, employer.name, employer.city) == ("1234567", "ATLAS TEXTILES SARL", "TANGER")
    nadia = Insured.objects.get(cnss_number="100000001")
    assert (nadia.last_name, nadia.first_name, nadia.cin) == ("EL", "FASSI NADIA", "BE123456")
    assert nadia.registered_on == date(2025, 1, 1)
    assert Insured.objects.get(cnss_number="100000002").first_name == ""

    stored = Declaration.objects.get()
    assert (stored.period, stored.version, stored.is_current) == ("202501", 1, True)
    assert (stored.employee_count, stored.total_days) == (2, 52)
    assert (stored.total_real_salary, stored.total_capped_salary) == (1_150_000, 1_100_000)
    line = DeclarationLine.objects.get(insured=nadia)
    assert (line.employer, line.period, line.is_current, line.is_new_employee) == (employer, "202501", True, True)
    assert (line.real_salary, line.capped_salary, line.declared_name) == (650_000, 600_000, "EL FASSI NADIA")

    ebds_file = EbdsFile.objects.get()
    assert ebds_file.counts == {
        "employees": 2,
        "new_employees": 2,
        "days": 52,
        "real_salary_total": 1_150_000,
        "capped_salary_total": 1_100_000,
    }
    assert result.counts == ebds_file.counts
    assert ebds_file.content == write(declaration)
    assert ebds_file.sha256 == hashlib.sha256(write(declaration).encode()).hexdigest()
    assert ebds_file.transfer_id == "12345670202501"


def test_a_known_employee_is_declared_month_after_month():
    load(make_declaration("202501", [new_hire()]))
    load(make_declaration("202502", [make_line("100000001", days=20)]))

    assert Insured.objects.count() == 1
    lines = DeclarationLine.objects.filter(insured__cnss_number="100000001").order_by("period")
    assert [(line.period, line.days, line.is_new_employee) for line in lines] == [
        ("202501", 26, True),
        ("202502", 20, False),
    ]


def test_it_refuses_a_known_employee_line_for_an_unknown_cnss_number_naming_the_line():
    error = rejected(make_declaration("202501", [new_hire("100000001"), make_line("100000009")]))
    assert [(issue.line, issue.field) for issue in error.issues] == [(3, "N_Num_Assure")]
    assert "100000009" in error.issues[0].reason
    assert "B04" in error.issues[0].reason


def test_a_rejected_file_changes_nothing_in_the_database():
    load(make_declaration("202501", [new_hire("100000001")]))
    before = table_counts()

    rejected(make_declaration("202502", [new_hire("100000002", cin="BK111111"), make_line("100000009")]))
    # A file for a new employer, refused at its last line: the employer is not kept.
    rejected(make_declaration("202502", [new_hire("100000003", cin="BK222222"), make_line("999999999")], "7654321"))

    assert table_counts() == before


def test_a_file_the_parser_refuses_is_rejected_with_every_issue():
    text = write(make_declaration("202501", [new_hire(days=27)]))
    text = replace_field(text, 1, 17, 19, "XX")
    error = rejected(text)
    assert {(issue.line, issue.field) for issue in error.issues} == {(1, "L_Cat"), (4, "N_Nbr_Jours")}
    assert table_counts()["EbdsFile"] == 0


def test_it_refuses_the_same_file_twice_with_a_clear_message():
    declaration = make_declaration("202501", [new_hire()])
    load(declaration, name="DS_1234567_202501.txt")

    error = rejected(declaration)

    assert len(error.issues) == 1
    assert "already imported" in error.issues[0].reason
    assert "DS_1234567_202501.txt" in error.issues[0].reason
    assert EbdsFile.objects.count() == 1


def test_it_refuses_a_second_file_for_a_declared_period_unless_it_is_a_correction():
    load(make_declaration("202501", [new_hire()]))

    error = rejected(make_declaration("202501", [new_hire(days=20)]))

    assert [(issue.line, issue.field) for issue in error.issues] == [(2, "L_Periode")]
    assert "correction" in error.issues[0].reason
    assert Declaration.objects.count() == 1


def test_a_correction_replaces_the_declaration_and_keeps_the_earlier_one_in_history():
    first = load(make_declaration("202501", [new_hire(days=26)]))

    second = load(make_declaration("202501", [new_hire(days=20)]), correction=True)

    assert second.replaced == first.declaration
    old, new = Declaration.objects.order_by("version")
    assert (old.version, old.is_current, new.version, new.is_current) == (1, False, 2, True)
    assert list(old.lines.values_list("days", "is_current")) == [(26, False)]
    assert list(new.lines.values_list("days", "is_current")) == [(20, True)]
    assert list(DeclarationLine.objects.filter(is_current=True).values_list("days", flat=True)) == [20]
    assert EbdsFile.objects.filter(is_correction=True).get().declarations.get() == new
    assert AuditEntry.objects.filter(action="declarations.declaration.corrected").count() == 1


def test_a_second_correction_becomes_version_three():
    load(make_declaration("202501", [new_hire(days=26)]))
    load(make_declaration("202501", [new_hire(days=20)]), correction=True)
    load(make_declaration("202501", [new_hire(days=10)]), correction=True)

    assert list(Declaration.objects.order_by("version").values_list("version", "is_current")) == [
        (1, False),
        (2, False),
        (3, True),
    ]


def test_it_refuses_a_correction_of_a_period_never_declared():
    error = rejected(make_declaration("202501", [new_hire()]), correction=True)
    assert "no declaration" in error.issues[0].reason
    assert table_counts()["Declaration"] == 0


@freeze_time("2025-03-15")
def test_it_refuses_a_period_that_has_not_begun():
    error = rejected(make_declaration("202504", [new_hire()]))
    assert [(issue.line, issue.field) for issue in error.issues] == [(2, "L_Periode")]


@freeze_time("2025-03-15")
def test_it_accepts_the_current_month():
    load(make_declaration("202503", [new_hire()]))
    assert Declaration.objects.get().period == "202503"


def test_a_new_employee_line_for_a_known_person_with_the_same_cin_is_recorded():
    load(make_declaration("202501", [new_hire("100000001", cin="J456789")]))
    load(make_declaration("202501", [new_hire("100000001", cin="J456789")], "7654321", employer_name="OTHER"))

    assert Insured.objects.count() == 1
    assert DeclarationLine.objects.filter(insured__cnss_number="100000001").count() == 2


def test_a_new_employee_line_with_an_earlier_cin_of_the_person_is_recorded():
    load(make_declaration("202501", [new_hire("100000001", cin="BK654321")]))
    person = Insured.objects.get()
    PreviousCin.objects.create(insured=person, cin="B345678")

    load(make_declaration("202501", [new_hire("100000001", cin="B345678")], "7654321", employer_name="OTHER"))

    person.refresh_from_db()
    assert person.cin == "BK654321"


def test_it_refuses_a_new_employee_line_whose_cin_conflicts_with_the_registry():
    load(make_declaration("202501", [new_hire("100000001", cin="J456789")]))

    error = rejected(make_declaration("202501", [new_hire("100000001", cin="J999999")], "7654321"))

    assert [(issue.line, issue.field) for issue in error.issues] == [(4, "L_Num_CIN")]
    assert "J456789" in error.issues[0].reason


def test_it_refuses_a_new_person_with_a_cin_that_belongs_to_someone_else():
    load(make_declaration("202501", [new_hire("100000001", cin="J456789")]))

    error = rejected(make_declaration("202501", [new_hire("100000002", cin="J456789")], "7654321"))

    assert [(issue.line, issue.field) for issue in error.issues] == [(4, "L_Num_CIN")]
    assert "100000001" in error.issues[0].reason


def test_it_refuses_two_new_people_with_the_same_cin_in_one_file():
    error = rejected(make_declaration("202501", [new_hire("100000001", cin="J1"), new_hire("100000002", cin="J1")]))
    assert [(issue.line, issue.field) for issue in error.issues] == [(5, "L_Num_CIN")]


def test_a_new_employee_line_fills_in_a_missing_cin():
    load(make_declaration("202501", [new_hire("100000001", cin="")]))
    load(make_declaration("202502", [new_hire("100000001", cin="J456789")]))
    assert Insured.objects.get().cin == "J456789"


def test_the_employer_takes_its_details_from_the_latest_period_only():
    load(make_declaration("202501", [new_hire()], address="OLD ADDRESS"))
    load(make_declaration("202502", [make_line()], address="NEW ADDRESS", city=""))
    assert (Employer.objects.get().address, Employer.objects.get().city) == ("NEW ADDRESS", "TANGER")

    load(make_declaration("202501", [new_hire(days=20)], address="OLD ADDRESS"), correction=True)
    assert Employer.objects.get().address == "NEW ADDRESS"


def test_a_nil_declaration_records_the_period_with_no_lines():
    load(make_declaration("202501", []))
    declaration = Declaration.objects.get()
    assert (declaration.employee_count, declaration.lines.count()) == (0, 0)


def test_an_import_is_recorded_in_the_audit_trail():
    load(make_declaration("202501", [new_hire()]))
    entry = AuditEntry.objects.get(action="declarations.declaration.imported")
    assert entry.object_id == str(Declaration.objects.get().pk)
    assert entry.after["employees"] == 1


def test_uploaded_bytes_with_a_stray_accent_are_reported_not_crashed_on():
    data = write(make_declaration("202501", [new_hire(name="ALAMI")])).encode("ascii")
    data = data.replace(b"ALAMI", b"AL\xc9MI")
    error = rejected(decode_ebds(data))
    assert (4, "L_Nom_Prenom") in {(issue.line, issue.field) for issue in error.issues}


def test_importing_many_lines_takes_a_bounded_number_of_queries(django_assert_max_num_queries):
    lines = [new_hire(f"1{i:08d}", f"PERSON {i}", cin=f"AB{i}") for i in range(1, 301)]
    with django_assert_max_num_queries(40):
        load(make_declaration("202501", lines))
    assert DeclarationLine.objects.count() == 300
    assert Employment.objects.count() == 300
