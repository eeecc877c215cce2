"""Builders for e-BDS test files (imported by the tests of this folder)."""

from datetime import date

from django.conf import settings

from declarations.ebds import EbdsDeclaration, EbdsLine, write_ebds
from declarations.periods import Period

CEILING = 600_000


def make_line(cnss_number="100000001", name="ALAMI YOUSSEF", days=26, real_salary=500_000, **kwargs) -> EbdsLine:
    return EbdsLine(cnss_number=cnss_number, name=name, days=days, real_salary=real_salary, **kwargs)


def make_declaration(period="202501", lines=None, affiliation_number="1234567", **kwargs) -> EbdsDeclaration:
    defaults = {
        "employer_name": "ATLAS TEXTILES SARL",
        "activity": "CONFECTION",
        "address": "12 RUE DE FES",
        "city": "TANGER",
        "postal_code": "90000",
        "agency_code": "12",
        "issued_on": date(2025, 2, 5),
        "due_on": date(2025, 2, 10),
        "transfer_id": "12345670202501",
    }
    defaults.update(kwargs)
    return EbdsDeclaration(
        affiliation_number=affiliation_number,
        period=Period.parse(period),
        lines=list(lines) if lines is not None else [make_line()],
        **defaults,
    )


def write(declaration: EbdsDeclaration) -> str:
    return write_ebds(declaration, ceiling=settings.DAMANE_SALARY_CEILING_CENTIMES)


def replace_field(text: str, line_number: int, start: int, end: int, value: str) -> str:
    """``text`` with columns [start:end] of line ``line_number`` (1-based) set to ``value``."""
    lines = text.split("\r\n")
    line = lines[line_number - 1]
    assert len(value) == end - start
    lines[line_number - 1] = line[:start] + value + line[end:]
    return "\r\n".join(lines)
