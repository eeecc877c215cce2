"""The import_ebds management command: exit codes and output."""

import pytest
from django.core.management import call_command

from declarations.models import Declaration, EbdsFile
from registry.models import Employer
from tests.declarations.ebds_testkit import make_declaration, make_line, write

pytestmark = pytest.mark.django_db


def ebds_file(tmp_path, name, declaration):
    path = tmp_path / name
    path.write_text(write(declaration), encoding="ascii", newline="")
    return path


def run(*args):
    """(exit status, stdout, stderr) of the command."""
    import io

    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_ebds", *[str(a) for a in args], stdout=out, stderr=err)
    except SystemExit as exit_:
        return exit_.code, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def hire(cnss_number="100000001", **kwargs):
    return make_line(cnss_number, is_new=True, cin=kwargs.pop("cin", "J456789"), **kwargs)


def test_it_imports_a_file_and_prints_its_counts(tmp_path):
    path = ebds_file(tmp_path, "DS_1234567_202501.txt", make_declaration("202501", [hire(real_salary=650_000)]))

    status, out, err = run(path)

    assert (status, err) == (0, "")
    assert "imported" in out
    assert "1 employees (1 new), 26 days" in out
    assert "real salary 650000 centimes, capped 600000 centimes" in out
    assert Declaration.objects.get().period == "202501"


def test_it_prints_each_issue_of_a_rejected_file_as_file_line_field_reason_and_exits_1(tmp_path):
    path = ebds_file(
        tmp_path, "DS_bad.txt", make_declaration("202501", [hire(days=27), make_line("100000002", capped_salary=5)])
    )

    status, out, err = run(path)

    assert status == 1
    assert out == ""
    lines = err.splitlines()
    assert f"{path}:3: N_Salaire_Plaf: The capped salary is 5" in "\n".join(lines)
    assert any(line.startswith(f"{path}:5: N_Nbr_Jours: 27 days declared") for line in lines)
    assert lines[-1] == "1 of 1 file(s) rejected."
    assert EbdsFile.objects.count() == 0


def test_each_file_is_its_own_transaction(tmp_path):
    good = ebds_file(tmp_path, "good.txt", make_declaration("202501", [hire()]))
    bad = ebds_file(tmp_path, "bad.txt", make_declaration("202501", [make_line("999999999")], "7654321"))

    status, out, err = run(good, bad)

    assert status == 1
    assert f"{good}: imported" in out
    assert f"{bad}:3: N_Num_Assure:" in err
    assert list(Employer.objects.values_list("affiliation_number", flat=True)) == ["1234567"]


def test_a_dry_run_validates_and_changes_nothing(tmp_path):
    path = ebds_file(tmp_path, "DS.txt", make_declaration("202501", [hire()]))

    status, out, _err = run(path, "--dry-run")

    assert status == 0
    assert "valid (dry run)" in out
    assert (Employer.objects.count(), EbdsFile.objects.count(), Declaration.objects.count()) == (0, 0, 0)


def test_a_dry_run_still_reports_problems(tmp_path):
    path = ebds_file(tmp_path, "DS.txt", make_declaration("202501", [make_line("999999999")]))
    status, _out, err = run(path, "--dry-run")
    assert status == 1
    assert ":3: N_Num_Assure:" in err


def test_the_correction_option_replaces_a_declared_period(tmp_path):
    first = ebds_file(tmp_path, "v1.txt", make_declaration("202501", [hire(days=26)]))
    second = ebds_file(tmp_path, "v2.txt", make_declaration("202501", [hire(days=20)]))
    assert run(first)[0] == 0

    refused = run(second)
    status, out, _err = run(second, "--correction")

    assert refused[0] == 1
    assert "correction" in refused[2]
    assert status == 0
    assert "corrected" in out
    assert "version 2" in out


def test_a_missing_file_is_reported_and_exits_1(tmp_path):
    status, _out, err = run(tmp_path / "nope.txt")
    assert status == 1
    assert f"{tmp_path / 'nope.txt'}:0: file:" in err


def test_it_has_help():
    from declarations.management.commands.import_ebds import Command

    parser = Command().create_parser("manage.py", "import_ebds")
    text = parser.format_help()
    assert "--correction" in text
    assert "--dry-run" in text
    assert "FILE:LINE: FIELD: reason" in text


def test_it_ends_with_a_summary_of_files_lines_and_speed(tmp_path):
    first = ebds_file(
        tmp_path, "DS_1234567_202501.txt", make_declaration("202501", [hire(), hire("100000002", cin="J1")])
    )
    second = ebds_file(
        tmp_path, "DS_1234567_202502.txt", make_declaration("202502", [make_line("100000001"), make_line("100000002")])
    )

    status, out, err = run(first, second)

    assert (status, err) == (0, "")
    summary = out.splitlines()[-1]
    assert summary.startswith("Summary: 2 of 2 file(s) imported, 0 rejected; 4 lines (2 new employees), 104 days")
    assert summary.endswith(" lines/s.")


def test_it_shows_a_progress_bar_when_asked(tmp_path, capsys):
    path = ebds_file(tmp_path, "DS_1234567_202501.txt", make_declaration("202501", [hire()]))

    status, _out, _err = run("--progress", "always", path)

    assert status == 0
    shown = capsys.readouterr().err
    assert "DS_1234567_202501.txt" in shown
    assert "1/1" in shown
