"""Registration records CSV: service and management command."""

import io
from datetime import date

import pytest
from django.core.management import call_command

from audit.models import AuditEntry
from registry.models import Insured, PreviousCin
from registry.services import REGISTRATION_COLUMNS, RegistrationRecordsRejected, import_registration_records

pytestmark = pytest.mark.django_db

HEADER = ",".join(REGISTRATION_COLUMNS)


def csv_text(*rows: str) -> str:
    return "\n".join([HEADER, *rows]) + "\n"


SALMA = "100789016,bk 654321,Chraibi,Salma,الشرايبي,سلمى,1995-09-17,f,06 12 34 56 06,2023-01-01,B345678,fr"


def existing(cnss_number="100000001", cin="J456789", **kwargs):
    defaults = {"last_name": "ALAMI", "first_name": "YOUSSEF", "registered_on": date(2020, 1, 1)}
    return Insured.objects.create(cnss_number=cnss_number, cin=cin, **{**defaults, **kwargs})


def rejected(text) -> set[tuple[int, str]]:
    with pytest.raises(RegistrationRecordsRejected) as caught:
        import_registration_records(text=text)
    return {(issue.row, issue.column) for issue in caught.value.issues}


def test_it_registers_an_unknown_person_with_normalised_values():
    result = import_registration_records(text=csv_text(SALMA))

    salma = Insured.objects.get(cnss_number="100789016")
    assert (salma.cin, salma.last_name, salma.first_name) == ("BK654321", "CHRAIBI", "SALMA")
    assert (salma.last_name_ar, salma.first_name_ar) == ("الشرايبي", "سلمى")
    assert (salma.birth_date, salma.sex, salma.phone) == (date(1995, 9, 17), "F", "+212612345606")
    assert (salma.registered_on, salma.treaty_country) == (date(2023, 1, 1), "FR")
    assert list(salma.previous_cins.values_list("cin", flat=True)) == ["B345678"]
    assert Insured.objects.by_cin("B345678").get() == salma
    assert (result.created, result.updated, result.previous_cins_added) == (1, 0, 1)


def test_blank_cells_leave_values_unchanged():
    person = existing(phone="+212600000001", birth_date=date(1990, 2, 3))

    import_registration_records(text=csv_text("100000001,,,,العلمي,يوسف,,,,,,"))

    person.refresh_from_db()
    assert (person.cin, person.last_name, person.phone) == ("J456789", "ALAMI", "+212600000001")
    assert (person.birth_date, person.last_name_ar) == (date(1990, 2, 3), "العلمي")


def test_a_new_cin_keeps_the_former_one_as_an_earlier_cin():
    person = existing(cin="B345678")

    import_registration_records(text=csv_text("100000001,BK654321,,,,,,,,,,"))

    person.refresh_from_db()
    assert person.cin == "BK654321"
    assert list(person.previous_cins.values_list("cin", flat=True)) == ["B345678"]


def test_applying_the_same_records_twice_changes_nothing_the_second_time():
    import_registration_records(text=csv_text(SALMA))
    entries = AuditEntry.objects.count()

    result = import_registration_records(text=csv_text(SALMA))

    assert (result.created, result.updated, result.unchanged) == (0, 0, 1)
    assert PreviousCin.objects.count() == 1
    assert AuditEntry.objects.count() == entries


def test_every_change_is_in_the_audit_trail_with_before_and_after():
    existing()
    import_registration_records(text=csv_text("100000001,,BENALI,,,,,,,,,"), reason="civil registry extract")

    entry = AuditEntry.objects.get(action="registry.insured.updated")
    assert (entry.before["last_name"], entry.after["last_name"]) == ("ALAMI", "BENALI")
    assert entry.reason == "civil registry extract"


def test_a_bad_row_is_reported_by_row_and_column_and_changes_nothing():
    person = existing()
    text = csv_text(
        "100000001,,NEWNAME,,,,,,,,,",
        "100000002,XX,DOE,,,,1990-13-01,Q,0512345678,2024-01-01,,FRA",
        "12345,,,,,,,,,,,",
    )

    problems = rejected(text)

    assert problems == {
        (3, "cin"),
        (3, "birth_date"),
        (3, "sex"),
        (3, "phone"),
        (3, "treaty_country"),
        (4, "cnss_number"),
    }
    person.refresh_from_db()
    assert person.last_name == "ALAMI"
    assert Insured.objects.count() == 1


def test_an_unknown_person_needs_a_last_name_and_a_registration_date():
    assert rejected(csv_text("100000002,J1,,,,,,,,,,")) == {(2, "last_name"), (2, "registered_on")}


def test_a_cin_of_someone_else_is_refused():
    existing("100000001", cin="J456789")
    other = existing("100000002", cin="K1")
    PreviousCin.objects.create(insured=other, cin="K0")

    assert rejected(csv_text("100000003,J456789,DOE,,,,,,,2024-01-01,,")) == {(2, "cin")}
    assert rejected(csv_text("100000001,,,,,,,,,,K0,")) == {(2, "previous_cins")}


def test_the_same_person_or_cin_twice_in_a_file_is_refused():
    text = csv_text("100000001,J1,A,,,,,,,2024-01-01,,", "100000001,J1,A,,,,,,,2024-01-01,,")
    assert (3, "cnss_number") in rejected(text)
    text = csv_text("100000001,J1,A,,,,,,,2024-01-01,,", "100000002,J1,B,,,,,,,2024-01-01,,")
    assert (3, "cin") in rejected(text)


def test_a_wrong_header_is_refused():
    assert rejected("cnss_number,name\n100000001,X\n") == {(1, "")}


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_registration_records", *[str(a) for a in args], stdout=out, stderr=err)
    except SystemExit as exit_:
        return exit_.code, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def test_the_command_applies_a_file_and_reports_counts(tmp_path):
    path = tmp_path / "records.csv"
    path.write_text(csv_text(SALMA), encoding="utf-8")

    status, out, err = run(path)

    assert (status, err) == (0, "")
    assert "1 registered, 0 updated, 0 unchanged, 1 earlier CIN(s) added" in out
    assert Insured.objects.filter(cnss_number="100789016").exists()


def test_the_command_reports_bad_rows_and_exits_1(tmp_path):
    path = tmp_path / "records.csv"
    path.write_text(csv_text(SALMA, "100000002,,DOE,,,,,,,yesterday,,"), encoding="utf-8")

    status, _out, err = run(path)

    assert status == 1
    assert f"{path}:3: registered_on: 'yesterday' is not a date in the form YYYY-MM-DD." in err
    assert Insured.objects.count() == 0


def test_the_command_dry_run_changes_nothing(tmp_path):
    path = tmp_path / "records.csv"
    path.write_text(csv_text(SALMA), encoding="utf-8")

    status, out, _err = run(path, "--dry-run")

    assert status == 0
    assert "valid (dry run)" in out
    assert Insured.objects.count() == 0


def test_the_example_of_the_documentation_applies():
    from django.conf import settings

    doc = (settings.BASE_DIR / "docs" / "registration-records.md").read_text(encoding="utf-8")
    example = doc.split("```csv\n", 1)[1].split("```", 1)[0]
    existing("100890127", cin="BH112233", last_name="BENJLLOUN", first_name="MOHAMED")

    result = import_registration_records(text=example)

    assert (result.created, result.updated) == (2, 1)
    assert Insured.objects.get(cnss_number="100890127").last_name == "BENJELLOUN"
    assert Insured.objects.get(cnss_number="100901238").treaty_country == "FR"
