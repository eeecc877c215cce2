"""The e-BDS format: what the parser refuses (one test per rule) and what the writer writes."""

import itertools
from datetime import date

import pytest

from declarations.ebds import LAYOUTS, RECORD_LENGTH, EbdsError, ebds_filename, parse_ebds, to_ebds_text, write_ebds
from declarations.periods import Period
from tests.declarations.ebds_testkit import CEILING, make_declaration, make_line, replace_field, write

# Line numbers in a file with one B02 and one B04 line:
# 1 B00, 2 B01, 3 B02, 4 B03, 5 B04, 6 B05, 7 B06.
B00, B01, B02, B03, B04, B05, B06 = range(1, 8)


def two_line_file() -> str:
    return write(
        make_declaration(
            lines=[
                make_line("100000001", "ALAMI YOUSSEF", days=26, real_salary=650_000, children=2, af_due=60_000),
                make_line("100000002", "TAZI KARIM", days=20, real_salary=300_000, cin="JB234567", is_new=True),
            ]
        )
    )


def issues_of(text: str) -> set[tuple[int, str]]:
    with pytest.raises(EbdsError) as caught:
        parse_ebds(text, ceiling=CEILING)
    return {(issue.line, issue.field) for issue in caught.value.issues}


def reasons_of(text: str) -> list[str]:
    with pytest.raises(EbdsError) as caught:
        parse_ebds(text, ceiling=CEILING)
    return [issue.reason for issue in caught.value.issues]


def field_slice(record_type: str, name: str) -> tuple[int, int]:
    spec = next(s for s in LAYOUTS[record_type] if s.name == name)
    return spec.start, spec.end


# --- The layout table matches the specification ---------------------------------


def test_every_layout_covers_exactly_260_characters_without_gaps():
    for record_type, fields in LAYOUTS.items():
        assert fields[0].start == 0, record_type
        assert fields[-1].end == RECORD_LENGTH, record_type
        for before, after in itertools.pairwise(fields):
            assert before.end == after.start, (record_type, after.name)


def test_the_layout_uses_the_slices_of_the_specification():
    assert field_slice("B02", "N_Jours_Declares") == (111, 113)
    assert field_slice("B02", "S_Ctr") == (137, 156)
    assert field_slice("B03", "N_T_Ctr") == (125, 144)
    assert field_slice("B04", "L_Num_CIN") == (85, 93)
    assert field_slice("B04", "S_Ctr") == (117, 136)
    assert field_slice("B06", "N_T_Salaire_Plaf") == (58, 71)
    assert field_slice("B01", "D_Date_Exig") == (252, 260)


# --- A valid file ---------------------------------------------------------------


def test_it_reads_a_valid_file_back_into_the_declaration():
    declaration = parse_ebds(two_line_file(), ceiling=CEILING)
    assert declaration.affiliation_number == "1234567"
    assert declaration.period == Period(2025, 1)
    assert declaration.employer_name == "ATLAS TEXTILES SARL"
    assert declaration.issued_on == date(2025, 2, 5)
    assert declaration.transfer_id == "12345670202501"
    known, new = declaration.lines
    assert (known.cnss_number, known.days, known.real_salary) == ("100000001", 26, 650_000)
    assert known.capped_salary == 600_000
    assert (known.children, known.af_due, known.is_new, known.source_line) == (2, 60_000, False, B02)
    assert (new.cnss_number, new.cin, new.is_new, new.source_line) == ("100000002", "JB234567", True, B04)


def test_it_accepts_lf_line_ends_as_well_as_crlf():
    text = two_line_file().replace("\r\n", "\n")
    assert len(parse_ebds(text, ceiling=CEILING).lines) == 2


def test_it_ignores_empty_lines_at_the_end_of_the_file():
    assert len(parse_ebds(two_line_file() + "\r\n\r\n", ceiling=CEILING).lines) == 2


def test_a_file_with_no_employee_lines_is_a_valid_nil_declaration():
    declaration = parse_ebds(write(make_declaration(lines=[])), ceiling=CEILING)
    assert declaration.lines == []


def test_a_file_with_only_new_employees_is_valid():
    text = write(make_declaration(lines=[make_line(is_new=True, cin="BE123456")]))
    assert parse_ebds(text, ceiling=CEILING).lines[0].is_new


# --- One test per rule ----------------------------------------------------------


def test_it_refuses_a_line_shorter_than_260_characters():
    lines = two_line_file().split("\r\n")
    lines[B02 - 1] = lines[B02 - 1][:259]
    assert (B02, "line") in issues_of("\r\n".join(lines))


def test_it_refuses_a_line_longer_than_260_characters():
    lines = two_line_file().split("\r\n")
    lines[B03 - 1] += " "
    assert (B03, "line") in issues_of("\r\n".join(lines))


def test_it_refuses_an_empty_line_inside_the_file():
    lines = two_line_file().split("\r\n")
    lines.insert(B02, "")
    assert (B02 + 1, "line") in issues_of("\r\n".join(lines))


def test_it_refuses_an_unknown_record_type():
    text = replace_field(two_line_file(), B02, 0, 3, "B07")
    assert issues_of(text) == {(B02, "L_Type_Enreg")}


def test_it_refuses_pre_filled_and_complementary_records_saying_why():
    text = replace_field(two_line_file(), B02, 0, 3, "E02")
    assert any("only salary declarations" in reason for reason in reasons_of(text))


def test_it_refuses_a_letter_in_a_numeric_field():
    start, end = field_slice("B02", "N_Jours_Declares")
    text = replace_field(two_line_file(), B02, start, end, "2A")
    assert (B02, "N_Jours_Declares") in issues_of(text)


def test_it_refuses_spaces_in_a_numeric_field():
    start, end = field_slice("B02", "N_Salaire_Reel")
    text = replace_field(two_line_file(), B02, start, end, "       650000")
    assert (B02, "N_Salaire_Reel") in issues_of(text)


def test_it_refuses_a_period_differing_from_the_employer_header():
    start, end = field_slice("B02", "L_Periode")
    text = replace_field(two_line_file(), B02, start, end, "202502")
    assert issues_of(text) == {(B02, "L_Periode")}


def test_it_refuses_an_affiliation_number_differing_from_the_employer_header():
    start, end = field_slice("B04", "N_Num_Affilie")
    text = replace_field(two_line_file(), B04, start, end, "7654321")
    assert issues_of(text) == {(B04, "N_Num_Affilie")}


def test_it_refuses_more_than_26_days_on_a_known_employee():
    text = write(make_declaration(lines=[make_line(days=27)]))
    assert issues_of(text) == {(B02, "N_Jours_Declares")}


def test_it_refuses_more_than_26_days_on_a_new_employee():
    text = write(make_declaration(lines=[make_line(days=31, is_new=True)]))
    assert issues_of(text) == {(4, "N_Nbr_Jours")}  # B00, B01, B03, then the B04


def test_it_refuses_a_capped_salary_that_is_not_the_real_salary_capped_at_the_ceiling():
    text = write(make_declaration(lines=[make_line(real_salary=650_000, capped_salary=650_000)]))
    assert issues_of(text) == {(B02, "N_Salaire_Plaf")}


def test_it_refuses_a_capped_salary_below_a_real_salary_under_the_ceiling():
    text = write(make_declaration(lines=[make_line(real_salary=300_000, capped_salary=290_000, is_new=True)]))
    assert issues_of(text) == {(4, "N_Sal_Plaf")}


def test_it_refuses_a_control_sum_that_does_not_add_up():
    start, end = field_slice("B02", "S_Ctr")
    text = two_line_file()
    value = int(text.split("\r\n")[B02 - 1][start:end])
    text = replace_field(text, B02, start, end, str(value + 1).zfill(end - start))
    assert (B02, "S_Ctr") in issues_of(text)


def test_the_new_employee_control_sum_is_number_plus_days_plus_real_plus_capped():
    line = two_line_file().split("\r\n")[B04 - 1]
    start, end = field_slice("B04", "S_Ctr")
    assert int(line[start:end]) == 100000002 + 20 + 300_000 + 300_000


def test_the_known_employee_control_sum_adds_the_rank_of_the_situation():
    text = write(make_declaration(lines=[make_line("100234561", real_salary=650_000, situation="SO")]))
    line = text.split("\r\n")[B02 - 1]
    assert line[111:113] == "26"
    assert line[113:126] == "0000000650000"
    assert line[126:135] == "000600000"
    assert line[135:137] == "SO"
    assert int(line[137:156]) == 100234561 + 0 + 26 + 650_000 + 600_000 + 1


@pytest.mark.parametrize(
    ("record", "name"),
    [
        (B03, "N_Nbr_Salaries"),
        (B03, "N_T_Enfants"),
        (B03, "N_T_AF_A_Payer"),
        (B03, "N_T_Num_Imma"),
        (B03, "N_T_Salaire_Reel"),
        (B03, "N_T_Ctr"),
        (B05, "N_T_Jours_Declares"),
        (B05, "N_T_Salaire_Plaf"),
        (B06, "N_Nbr_Salaries"),
        (B06, "N_T_Salaire_Reel"),
    ],
)
def test_it_refuses_totals_that_do_not_match_their_lines(record, name):
    record_type = {B03: "B03", B05: "B05", B06: "B06"}[record]
    start, end = field_slice(record_type, name)
    text = two_line_file()
    value = int(text.split("\r\n")[record - 1][start:end])
    text = replace_field(text, record, start, end, str(value + 1).zfill(end - start))
    assert issues_of(text) == {(record, name)}


def test_it_refuses_a_file_without_employer_header():
    lines = two_line_file().split("\r\n")
    del lines[B01 - 1]
    assert (0, "B01") in issues_of("\r\n".join(lines))


@pytest.mark.parametrize("missing", [B03, B05, B06])
def test_it_refuses_a_file_without_a_totals_record(missing):
    lines = two_line_file().split("\r\n")
    record_type = lines[missing - 1][:3]
    del lines[missing - 1]
    assert (0, record_type) in issues_of("\r\n".join(lines))


def test_it_refuses_a_cnss_number_declared_twice():
    text = write(make_declaration(lines=[make_line("100000001"), make_line("100000001", "AUTRE NOM")]))
    assert issues_of(text) == {(B02 + 1, "N_Num_Assure")}


def test_it_refuses_a_cnss_number_both_known_and_new():
    text = write(make_declaration(lines=[make_line("100000001"), make_line("100000001", is_new=True)]))
    assert (B04, "N_Num_Assure") in issues_of(text)


def test_it_refuses_records_out_of_order():
    lines = two_line_file().split("\r\n")
    lines[B02 - 1], lines[B03 - 1] = lines[B03 - 1], lines[B02 - 1]
    assert (B03, "L_Type_Enreg") in issues_of("\r\n".join(lines))


def test_it_refuses_a_second_employer_header():
    lines = two_line_file().split("\r\n")
    lines.insert(B02 - 1, lines[B01 - 1])
    assert (B02, "L_Type_Enreg") in issues_of("\r\n".join(lines))


def test_it_refuses_an_invalid_period():
    text = two_line_file().replace("202501", "202513")
    assert issues_of(text) == {(B01, "L_Periode")}


def test_it_refuses_an_invalid_date():
    start, end = field_slice("B01", "D_Date_Emission")
    text = replace_field(two_line_file(), B01, start, end, "20250231")
    assert issues_of(text) == {(B01, "D_Date_Emission")}


def test_it_refuses_an_unknown_situation_code():
    start, end = field_slice("B02", "L_Situation")
    text = replace_field(two_line_file(), B02, start, end, "XX")
    assert (B02, "L_Situation") in issues_of(text)


def test_it_refuses_a_blank_employee_name():
    start, end = field_slice("B04", "L_Nom_Prenom")
    text = replace_field(two_line_file(), B04, start, end, " " * 60)
    assert issues_of(text) == {(B04, "L_Nom_Prenom")}


def test_it_refuses_a_malformed_national_id_on_a_new_employee():
    start, end = field_slice("B04", "L_Num_CIN")
    text = replace_field(two_line_file(), B04, start, end, "123ABC  ")
    assert issues_of(text) == {(B04, "L_Num_CIN")}


def test_it_refuses_a_category_other_than_ds():
    text = replace_field(two_line_file(), B00, 17, 19, "DC")
    assert issues_of(text) == {(B00, "L_Cat")}


def test_it_refuses_text_in_the_filler():
    text = replace_field(two_line_file(), B02, 200, 203, "XYZ")
    assert issues_of(text) == {(B02, "filler")}


def test_it_refuses_non_ascii_characters_naming_the_field():
    start, _end = field_slice("B02", "L_Nom_Prenom")
    text = replace_field(two_line_file(), B02, start, start + 1, "É")
    assert (B02, "L_Nom_Prenom") in issues_of(text)


def test_it_refuses_an_empty_file():
    assert issues_of("") == {(0, "file")}


def test_it_lists_every_problem_of_a_file_at_once():
    text = write(make_declaration(lines=[make_line("100000001", days=27), make_line("100000002", capped_salary=1)]))
    text = text.replace("B00", "X00", 1)
    assert {(1, "L_Type_Enreg"), (0, "B00"), (3, "N_Jours_Declares"), (4, "N_Salaire_Plaf")} <= issues_of(text)


def test_reasons_say_what_is_wrong_in_words():
    text = write(make_declaration(lines=[make_line(days=27)]))
    assert reasons_of(text) == ["27 days declared: at most 26 days a month can be declared."]


# --- The writer -----------------------------------------------------------------


def test_the_writer_writes_the_records_in_order_with_crlf_and_260_characters():
    text = two_line_file()
    assert text.endswith("\r\n")
    lines = text.split("\r\n")[:-1]
    assert [line[:3] for line in lines] == ["B00", "B01", "B02", "B03", "B04", "B05", "B06"]
    assert {len(line) for line in lines} == {260}


def test_the_writer_writes_b05_with_zero_totals_when_there_is_no_new_employee():
    lines = write(make_declaration(lines=[make_line()])).split("\r\n")
    assert lines[4][:3] == "B05"
    assert lines[4][16:90] == "0" * 74


def test_the_writer_computes_the_capped_salary_from_the_ceiling():
    text = write(make_declaration(lines=[make_line(real_salary=1_850_000)]))
    assert parse_ebds(text, ceiling=CEILING).lines[0].capped_salary == 600_000


def test_the_writer_transliterates_accents_and_does_not_crash_on_arabic():
    declaration = make_declaration(
        employer_name="Café de Fès", city="Salé", lines=[make_line(name="Benjelloun Hélène محمد")]
    )
    parsed = parse_ebds(write(declaration), ceiling=CEILING)
    assert parsed.employer_name == "CAFE DE FES"
    assert parsed.city == "SALE"
    assert parsed.lines[0].name == "BENJELLOUN HELENE"


def test_to_ebds_text_upper_cases_strips_accents_and_collapses_spaces():
    assert to_ebds_text("  Œuvre   Straße\tÀ ") == "OEUVRE STRASSE A"
    assert to_ebds_text("العربية") == ""


def test_the_writer_cuts_text_to_the_width_of_its_field():
    parsed = parse_ebds(write(make_declaration(employer_name="X" * 50)), ceiling=CEILING)
    assert parsed.employer_name == "X" * 40


def test_the_writer_refuses_a_number_wider_than_its_field():
    with pytest.raises(ValueError, match="N_Jours_Declares"):
        write(make_declaration(lines=[make_line(days=100)]))


def test_the_writer_refuses_a_situation_on_a_new_employee():
    with pytest.raises(ValueError, match="B04"):
        write(make_declaration(lines=[make_line(situation="SO", is_new=True)]))


def test_the_writer_refuses_a_cnss_number_that_is_not_digits():
    with pytest.raises(ValueError, match="N_Num_Assure"):
        write_ebds(make_declaration(lines=[make_line("10000000A")]), ceiling=CEILING)


def test_blank_dates_and_transfer_id_read_back_as_unknown():
    parsed = parse_ebds(write(make_declaration(issued_on=None, due_on=None, transfer_id="")), ceiling=CEILING)
    assert (parsed.issued_on, parsed.due_on, parsed.transfer_id) == (None, None, "")


def test_the_file_name_is_the_one_payroll_software_uses():
    assert ebds_filename(make_declaration(period="202503")) == "DS_1234567_202503.txt"
