"""Properties of the e-BDS parser and writer over generated declarations."""

from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from declarations.ebds import LAYOUTS, EbdsDeclaration, EbdsError, EbdsLine, N, parse_ebds, write_ebds
from declarations.periods import Period

CEILING = 600_000
UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def words(max_size: int, alphabet: str = UPPER + "-'"):
    """Upper-case words separated by single spaces, as the writer normalises text."""
    return (
        st.lists(st.text(alphabet=alphabet, min_size=1, max_size=12), min_size=1, max_size=6)
        .map(" ".join)
        .map(lambda text: text[:max_size].rstrip())
        .filter(bool)
    )


cins = st.builds(
    lambda letters, digits: letters + digits,
    st.text(alphabet=UPPER, min_size=1, max_size=2),
    st.integers(1, 999_999).map(str),
)


@st.composite
def employee_lines(draw, cnss_number: str) -> EbdsLine:
    real = draw(st.one_of(st.integers(0, 2 * CEILING), st.integers(0, 10**11)))
    common = {
        "cnss_number": cnss_number,
        "name": draw(words(60)),
        "days": draw(st.integers(0, 26)),
        "real_salary": real,
        "capped_salary": min(real, CEILING),
    }
    if draw(st.booleans()):
        return EbdsLine(**common, cin=draw(st.one_of(st.just(""), cins)), is_new=True)
    return EbdsLine(
        **common,
        situation=draw(st.sampled_from(["", "SO", "DE", "IT", "IL", "AT", "CS", "MS", "MP"])),
        children=draw(st.integers(0, 99)),
        af_due=draw(st.integers(0, 999_999)),
        af_deducted=draw(st.integers(0, 999_999)),
        af_net=draw(st.integers(0, 999_999)),
        af_returned=draw(st.integers(0, 999_999)),
    )


@st.composite
def declarations(draw) -> EbdsDeclaration:
    numbers = draw(st.lists(st.integers(0, 999_999_999).map("{:09d}".format), max_size=8, unique=True))
    lines = [draw(employee_lines(number)) for number in numbers]
    # The file holds the B02 lines first, then the B04 lines.
    lines = [line for line in lines if not line.is_new] + [line for line in lines if line.is_new]
    dates = st.one_of(st.none(), st.dates(date(2000, 1, 1), date(2099, 12, 31)))
    return EbdsDeclaration(
        affiliation_number=draw(st.integers(0, 9_999_999).map("{:07d}".format)),
        period=Period(draw(st.integers(2000, 2099)), draw(st.integers(1, 12))),
        employer_name=draw(words(40, UPPER + "0123456789&.")),
        activity=draw(st.one_of(st.just(""), words(40))),
        address=draw(st.one_of(st.just(""), words(120, UPPER + "0123456789,"))),
        city=draw(st.one_of(st.just(""), words(20))),
        postal_code=draw(st.one_of(st.just(""), st.integers(10000, 99999).map(str))),
        agency_code=draw(st.one_of(st.just(""), st.integers(1, 99).map("{:02d}".format))),
        issued_on=draw(dates),
        due_on=draw(dates),
        transfer_id=draw(st.one_of(st.just(""), st.integers(1, 10**14 - 1).map("{:014d}".format))),
        lines=lines,
    )


@settings(max_examples=200, deadline=None)
@given(declarations())
def test_parsing_what_the_writer_wrote_gives_back_the_declaration(declaration):
    text = write_ebds(declaration, ceiling=CEILING)
    assert parse_ebds(text, ceiling=CEILING) == declaration


@settings(max_examples=150, deadline=None)
@given(declarations())
def test_the_writer_computes_the_capped_salary_when_it_is_left_out(declaration):
    stripped = replace(declaration, lines=[replace(line, capped_salary=None) for line in declaration.lines])
    assert parse_ebds(write_ebds(stripped, ceiling=CEILING), ceiling=CEILING) == declaration


def _numeric_positions(lines: list[str]) -> list[tuple[int, int, str]]:
    """(line index, column, field name) of every digit of every N field, except
    the transfer id: nothing in the format checks it, so a changed digit there is
    a different but valid transfer id."""
    positions = []
    for index, line in enumerate(lines):
        for spec in LAYOUTS[line[:3]]:
            if spec.kind == N and spec.name != "N_Identif_Transfert":
                positions.extend((index, column, spec.name) for column in range(spec.start, spec.end))
    return positions


@settings(max_examples=200, deadline=None)
@given(declarations(), st.data())
def test_changing_any_digit_of_any_numeric_field_is_caught(declaration, data):
    lines = write_ebds(declaration, ceiling=CEILING).split("\r\n")[:-1]
    index, column, _field = data.draw(st.sampled_from(_numeric_positions(lines)), label="position")
    old = lines[index][column]
    new = data.draw(st.sampled_from([d for d in "0123456789A " if d != old]), label="replacement")
    lines[index] = lines[index][:column] + new + lines[index][column + 1 :]
    with pytest.raises(EbdsError):
        parse_ebds("\r\n".join(lines), ceiling=CEILING)


@settings(max_examples=150, deadline=None)
@given(declarations(), st.data())
def test_a_line_made_longer_or_shorter_is_caught(declaration, data):
    lines = write_ebds(declaration, ceiling=CEILING).split("\r\n")[:-1]
    index = data.draw(st.integers(0, len(lines) - 1), label="line")
    column = data.draw(st.integers(0, 259), label="column")
    if data.draw(st.booleans(), label="longer"):
        lines[index] = lines[index][:column] + data.draw(st.sampled_from("0 A"), label="char") + lines[index][column:]
    else:
        lines[index] = lines[index][:column] + lines[index][column + 1 :]
    with pytest.raises(EbdsError):
        parse_ebds("\r\n".join(lines), ceiling=CEILING)


@settings(max_examples=150, deadline=None)
@given(declarations(), st.data())
def test_a_wrong_record_type_is_caught(declaration, data):
    lines = write_ebds(declaration, ceiling=CEILING).split("\r\n")[:-1]
    index = data.draw(st.integers(0, len(lines) - 1), label="line")
    codes = ["B00", "B01", "B02", "B03", "B04", "B05", "B06", "B07", "A01", "E02", "b02", "   ", "XYZ"]
    code = data.draw(st.sampled_from([c for c in codes if c != lines[index][:3]]), label="code")
    lines[index] = code + lines[index][3:]
    with pytest.raises(EbdsError):
        parse_ebds("\r\n".join(lines), ceiling=CEILING)
