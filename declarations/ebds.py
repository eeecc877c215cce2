"""The DAMANCOM e-BDS file format: record layouts, a parser and a writer.

Pure Python: no database. ``parse_ebds`` turns the text of a salary declaration
file (records B00 to B06) into an ``EbdsDeclaration`` or raises ``EbdsError``
listing every problem found; ``write_ebds`` does the reverse, computing the capped
salaries, control sums and totals. ``declarations.services.import_ebds`` stores a
parsed file; ``docs/ebds.md`` describes the format for people. The rules of an
employee line (days, capped salary, control sum...) are not written here but in
``declarations.ebds_rules``, which the PostgreSQL fast path applies too.

Layout (``docs/ebds.md``): one record per line, 260 ASCII
characters, CRLF or LF line ends. ``N`` fields are digits, right-aligned and
zero-padded; ``AN`` fields are upper-case text, left-aligned and space-padded;
amounts are centimes, dates ``AAAAMMJJ``, periods ``AAAAMM``. A file is::

    B00        transfer header
    B01        employer header (affiliation number, period, name, address...)
    B02 * n    one line per employee already known to the fund
    B03        totals of the B02 lines
    B04 * m    one line per new employee (entrant)
    B05        totals of the B04 lines
    B06        grand totals (B03 + B05)

Control sums (``S_Ctr``), as integers::

    B02: N_Num_Assure + N_AF_A_Reverser + N_Jours_Declares + N_Salaire_Reel
         + N_Salaire_Plaf + rank(L_Situation)
    B04: N_Num_Assure + N_Nbr_Jours + N_Sal_Reel + N_Sal_Plaf

Decisions (points the specification leaves open; also in docs/ebds.md):

1. Structure. Every file has exactly one B00, B01, B03, B05 and B06, in that
   order, with the B02 lines between B01 and B03 and the B04 lines between B03
   and B05. B05 is required even without any B04 (its counts are then zero):
   one shape for every file, and a truncated file cannot pass for one without
   entrants. Files with only B02 lines, only B04 lines, or none at all are
   accepted; a file with no employee lines is a "nil" declaration: the employer
   declares that it had no salaried staff in the period.
2. B04 control sum: ``N_Num_Assure + N_Nbr_Jours + N_Sal_Reel + N_Sal_Plaf``,
   the reading payroll software uses.
3. B06 is checked against the lines themselves (B02 and B04 together), so a
   wrong B03 or B05 is reported once, on its own line, and B06 is judged on its
   own figures.
4. A CNSS number appears at most once per file, across B02 and B04.
5. Family-allowance amounts (``N_AF_*``) and ``N_Enfants`` are checked only
   against the B03 totals; the specification gives no rule linking them.
6. Fillers must be blank. ``L_Cat`` must be ``DS``. ``A00``-``A03`` (the fund's
   pre-filled file) and ``E00``-``E06`` (complementary declarations) are refused
   with a reason saying so.
7. Dates (``D_Date_Emission``, ``D_Date_Exig``) are a valid ``AAAAMMJJ`` date or
   blank (spaces or zeros), which reads as unknown. ``N_Identif_Transfert`` of
   all zeros reads as no transfer id.
8. ``AN`` fields accept printable ASCII; lower-case letters are read as upper
   case. A name (``L_Nom_Prenom``) must not be blank. ``L_Num_CIN`` may be blank
   (a foreign worker without a Moroccan ID); when present it must have the CIN
   shape (1-2 letters then 1-6 digits).
9. Trailing empty lines at the end of the file are ignored; an empty line
   anywhere else is a line of the wrong length.
10. Once a line has the wrong length, a non-numeric field or an unknown record
    type, totals that may depend on it are not compared: the line's own problem
    is reported, not its echoes. Fix it and the totals are checked next time.
11. ``write_ebds`` writes what it is given. It refuses (``ValueError``) only
    values that cannot be laid out: a number that is negative or wider than its
    field, an unknown situation code, a situation or family allowances on a new
    employee (B04 has no such fields). Business rules (26 days, the capped
    salary when one is given) are the parser's to enforce, so tests and tools
    can write files that the importer must reject. Text is upper-cased and
    transliterated to ASCII (accents stripped; characters with no Latin
    equivalent, e.g. Arabic, are dropped) and cut to the field's width.

Issue line numbers are 1-based; line 0 means the file as a whole. Decisions of
the import itself (names, new employees, employer details, corrections,
employments, encoding) are in docs/ebds.md.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date

from django.utils.translation import gettext as _

from declarations.ebds_rules import (
    DUPLICATE,
    EMPLOYEE_RULES,
    HEADER_RULES,
    SITUATION_RANKS,
    TOTALS,
    Context,
    EbdsIssue,
    expected_control,
    record_row,
)
from declarations.periods import Period

RECORD_LENGTH = 260
N, AN, D, FILLER = "N", "AN", "D", "filler"

# Situations that end an employment: left the company, deceased.
EXIT_SITUATIONS = frozenset({"SO", "DE"})


@dataclass(frozen=True)
class FieldSpec:
    name: str
    start: int
    end: int
    kind: str

    @property
    def width(self) -> int:
        return self.end - self.start


def _record(*fields: tuple[str, int, int, str]) -> tuple[FieldSpec, ...]:
    specs = tuple(FieldSpec(*f) for f in fields)
    position = 0
    for spec in specs:
        if spec.start != position or spec.end <= spec.start:
            raise AssertionError(f"layout gap or overlap at {spec.name}")
        position = spec.end
    if position != RECORD_LENGTH:
        raise AssertionError(f"layout is {position} characters, not {RECORD_LENGTH}")
    return specs


_TOTALS_B05_B06 = (
    ("L_Type_Enreg", 0, 3, AN),
    ("N_Num_Affilie", 3, 10, N),
    ("L_Periode", 10, 16, AN),
    ("N_Nbr_Salaries", 16, 22, N),
    ("N_T_Num_Imma", 22, 37, N),
    ("N_T_Jours_Declares", 37, 43, N),
    ("N_T_Salaire_Reel", 43, 58, N),
    ("N_T_Salaire_Plaf", 58, 71, N),
    ("N_T_Ctr", 71, 90, N),
    ("filler", 90, 260, FILLER),
)

# The record layouts, as in the specification (0-based, end-exclusive slices).
LAYOUTS: dict[str, tuple[FieldSpec, ...]] = {
    "B00": _record(
        ("L_Type_Enreg", 0, 3, AN),
        ("N_Identif_Transfert", 3, 17, N),
        ("L_Cat", 17, 19, AN),
        ("filler", 19, 260, FILLER),
    ),
    "B01": _record(
        ("L_Type_Enreg", 0, 3, AN),
        ("N_Num_Affilie", 3, 10, N),
        ("L_Periode", 10, 16, AN),
        ("L_Raison_Sociale", 16, 56, AN),
        ("L_Activite", 56, 96, AN),
        ("L_Adresse", 96, 216, AN),
        ("L_Ville", 216, 236, AN),
        ("C_Code_Postal", 236, 242, AN),
        ("C_Code_Agence", 242, 244, AN),
        ("D_Date_Emission", 244, 252, D),
        ("D_Date_Exig", 252, 260, D),
    ),
    "B02": _record(
        ("L_Type_Enreg", 0, 3, AN),
        ("N_Num_Affilie", 3, 10, N),
        ("L_Periode", 10, 16, AN),
        ("N_Num_Assure", 16, 25, N),
        ("L_Nom_Prenom", 25, 85, AN),
        ("N_Enfants", 85, 87, N),
        ("N_AF_A_Payer", 87, 93, N),
        ("N_AF_A_Deduire", 93, 99, N),
        ("N_AF_Net_A_Payer", 99, 105, N),
        ("N_AF_A_Reverser", 105, 111, N),
        ("N_Jours_Declares", 111, 113, N),
        ("N_Salaire_Reel", 113, 126, N),
        ("N_Salaire_Plaf", 126, 135, N),
        ("L_Situation", 135, 137, AN),
        ("S_Ctr", 137, 156, N),
        ("filler", 156, 260, FILLER),
    ),
    "B03": _record(
        ("L_Type_Enreg", 0, 3, AN),
        ("N_Num_Affilie", 3, 10, N),
        ("L_Periode", 10, 16, AN),
        ("N_Nbr_Salaries", 16, 22, N),
        ("N_T_Enfants", 22, 28, N),
        ("N_T_AF_A_Payer", 28, 40, N),
        ("N_T_AF_A_Deduire", 40, 52, N),
        ("N_T_AF_Net_A_Payer", 52, 64, N),
        ("N_T_Num_Imma", 64, 79, N),
        ("N_T_AF_A_Reverser", 79, 91, N),
        ("N_T_Jours_Declares", 91, 97, N),
        ("N_T_Salaire_Reel", 97, 112, N),
        ("N_T_Salaire_Plaf", 112, 125, N),
        ("N_T_Ctr", 125, 144, N),
        ("filler", 144, 260, FILLER),
    ),
    "B04": _record(
        ("L_Type_Enreg", 0, 3, AN),
        ("N_Num_Affilie", 3, 10, N),
        ("L_Periode", 10, 16, AN),
        ("N_Num_Assure", 16, 25, N),
        ("L_Nom_Prenom", 25, 85, AN),
        ("L_Num_CIN", 85, 93, AN),
        ("N_Nbr_Jours", 93, 95, N),
        ("N_Sal_Reel", 95, 108, N),
        ("N_Sal_Plaf", 108, 117, N),
        ("S_Ctr", 117, 136, N),
        ("filler", 136, 260, FILLER),
    ),
    "B05": _record(*_TOTALS_B05_B06),
    "B06": _record(*_TOTALS_B05_B06),
}

# Order of the records in a file; B02 and B04 repeat, the others appear once.
RECORD_ORDER = ("B00", "B01", "B02", "B03", "B04", "B05", "B06")
REPEATED_RECORDS = frozenset({"B02", "B04"})
SINGLE_RECORDS = ("B00", "B01", "B03", "B05", "B06")

# Field names of the same quantity in the two employee records.
_LINE_FIELDS = {
    "B02": {"days": "N_Jours_Declares", "real": "N_Salaire_Reel", "capped": "N_Salaire_Plaf"},
    "B04": {"days": "N_Nbr_Jours", "real": "N_Sal_Reel", "capped": "N_Sal_Plaf"},
}


# --- Data ----------------------------------------------------------------------


@dataclass
class EbdsLine:
    """A B02 (known employee) or B04 (new employee) record."""

    cnss_number: str
    name: str
    days: int
    real_salary: int  # centimes
    capped_salary: int | None = None  # None when writing: min(real, ceiling)
    situation: str = ""
    children: int = 0
    af_due: int = 0
    af_deducted: int = 0
    af_net: int = 0
    af_returned: int = 0
    cin: str = ""  # B04 only
    is_new: bool = False  # True: written as B04
    # Where the parser found the line (1-based); 0 for lines built in code.
    source_line: int = field(default=0, compare=False, repr=False)


@dataclass
class EbdsDeclaration:
    affiliation_number: str
    period: Period
    employer_name: str
    activity: str = ""
    address: str = ""
    city: str = ""
    postal_code: str = ""
    agency_code: str = ""
    issued_on: date | None = None
    due_on: date | None = None
    transfer_id: str = ""
    lines: list[EbdsLine] = field(default_factory=list)
    # Where the parser found the B01 header; 0 for declarations built in code.
    header_line: int = field(default=0, compare=False, repr=False)


class EbdsError(Exception):
    def __init__(self, issues: list[EbdsIssue]):
        self.issues = issues
        super().__init__("; ".join(str(issue) for issue in issues[:5]))


# --- Parser ----------------------------------------------------------------------


@dataclass
class _Record:
    line: int
    type: str
    raw: str
    values: dict[str, str] = field(default_factory=dict)
    numbers: dict[str, int] = field(default_factory=dict)
    # False when the line's length or a number in it is wrong: figures derived
    # from it are not trusted.
    sound: bool = True
    # The record as the rules read it (``ebds_rules.record_row``), once made.
    row: dict | None = None


def _split_lines(text: str) -> list[str]:
    lines = text.split("\n")
    lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    while lines and lines[-1] == "":
        lines.pop()
    return lines


def _field_at(record_type: str | None, position: int) -> str:
    for spec in LAYOUTS.get(record_type or "", ()):
        if spec.start <= position < spec.end:
            return spec.name
    return "L_Type_Enreg" if position < 3 else "line"


def _parse_date(value: str) -> date | None:
    if value.strip() in ("", "00000000"):
        return None
    if not (value.isdigit() and value.isascii()):
        raise ValueError(value)
    return date(int(value[:4]), int(value[4:6]), int(value[6:8]))


class _Parser:
    def __init__(self, text: str, *, ceiling: int, max_days: int):
        self.text = text
        self.ceiling = ceiling
        self.max_days = max_days
        self.issues: list[EbdsIssue] = []
        # A line of unknown type may be a mangled employee line: totals are then
        # not compared (decision 10).
        self.unreadable = False

    def add(self, line: int, field_name: str, reason: str) -> None:
        self.issues.append(EbdsIssue(line, field_name, reason))

    def run(self) -> EbdsDeclaration:
        lines = _split_lines(self.text)
        if not lines:
            self.add(0, "file", _("The file is empty."))
            raise EbdsError(self.issues)

        records = [record for number, raw in enumerate(lines, start=1) if (record := self.read_line(number, raw))]
        self.check_order(records)
        by_type: dict[str, list[_Record]] = {t: [r for r in records if r.type == t] for t in RECORD_ORDER}

        header = by_type["B01"][0] if by_type["B01"] else None
        if header:
            self.check_header(header, by_type["B00"][0] if by_type["B00"] else None)
        for record in records:
            if record.type in ("B00", "B01") or not record.values or not header or not header.values:
                continue
            self.check_matches_header(record, header)

        lines_b02 = [self.read_employee(r) for r in by_type["B02"]]
        lines_b04 = [self.read_employee(r) for r in by_type["B04"]]
        self.check_duplicates(by_type["B02"] + by_type["B04"])

        totals = {"B03": by_type["B02"], "B05": by_type["B04"], "B06": by_type["B02"] + by_type["B04"]}
        for total_type, members in totals.items():
            for record in by_type[total_type]:
                self.check_totals(record, members)

        if self.issues:
            raise EbdsError(self.issues)
        assert header is not None  # no issues implies a sound header
        transfer = by_type["B00"][0].values["N_Identif_Transfert"]
        return EbdsDeclaration(
            affiliation_number=header.values["N_Num_Affilie"],
            period=Period.parse(header.values["L_Periode"]),
            employer_name=header.values["L_Raison_Sociale"],
            activity=header.values["L_Activite"],
            address=header.values["L_Adresse"],
            city=header.values["L_Ville"],
            postal_code=header.values["C_Code_Postal"],
            agency_code=header.values["C_Code_Agence"],
            issued_on=_parse_date(header.values["D_Date_Emission"]),
            due_on=_parse_date(header.values["D_Date_Exig"]),
            transfer_id="" if set(transfer) == {"0"} else transfer,
            lines=[line for line in lines_b02 + lines_b04 if line is not None],
            header_line=header.line,
        )

    # Line by line: length, characters, record type, field kinds.
    def read_line(self, number: int, raw: str) -> _Record | None:
        record_type = raw[:3]
        known = record_type in LAYOUTS
        if not known:
            self.unreadable = True
            if record_type[:1] in ("A", "E") and record_type[1:].isdigit():
                self.add(
                    number,
                    "L_Type_Enreg",
                    _(
                        "Record type %(type)s is not accepted here: only salary declarations "
                        "(records B00 to B06) are imported."
                    )
                    % {"type": record_type},
                )
            else:
                self.add(number, "L_Type_Enreg", _("Unknown record type %(type)r.") % {"type": raw[:3]})

        for position, char in enumerate(raw):
            if not " " <= char <= "~":
                self.add(
                    number,
                    _field_at(record_type if known else None, position),
                    _("Character %(char)r at position %(position)d is not printable ASCII.")
                    % {"char": char, "position": position + 1},
                )
                break

        if len(raw) != RECORD_LENGTH:
            self.add(
                number,
                "line",
                _("The line has %(length)d characters; every record has exactly %(expected)d.")
                % {"length": len(raw), "expected": RECORD_LENGTH},
            )
            return _Record(number, record_type, raw, sound=False) if known else None
        if not known:
            return None

        record = _Record(number, record_type, raw)
        for spec in LAYOUTS[record_type]:
            value = raw[spec.start : spec.end]
            if spec.kind == N:
                if value.isdigit() and value.isascii():
                    record.numbers[spec.name] = int(value)
                    record.values[spec.name] = value
                else:
                    record.sound = False
                    self.add(
                        number,
                        spec.name,
                        _("%(value)r is not a number: this field holds %(width)d digits.")
                        % {"value": value, "width": spec.width},
                    )
            elif spec.kind == FILLER:
                if value.strip():
                    self.add(number, spec.name, _("The filler at the end of the record must be blank."))
            elif spec.kind == D:
                try:
                    _parse_date(value)
                except ValueError:
                    self.add(number, spec.name, _("%(value)r is not a date (YYYYMMDD).") % {"value": value})
                record.values[spec.name] = value
            else:
                record.values[spec.name] = value.rstrip().upper()
        return record

    def check_order(self, records: list[_Record]) -> None:
        previous: _Record | None = None
        for record in records:
            rank = RECORD_ORDER.index(record.type)
            if previous is not None:
                previous_rank = RECORD_ORDER.index(previous.type)
                if rank < previous_rank or (rank == previous_rank and record.type not in REPEATED_RECORDS):
                    self.add(
                        record.line,
                        "L_Type_Enreg",
                        _(
                            "Record %(type)s is out of order after %(previous)s (line %(previous_line)d): "
                            "the order is B00, B01, B02..., B03, B04..., B05, B06, each once except B02 and B04."
                        )
                        % {"type": record.type, "previous": previous.type, "previous_line": previous.line},
                    )
                    continue
            previous = record
        present = {record.type for record in records}
        for record_type in SINGLE_RECORDS:
            if record_type not in present:
                if record_type == "B01":
                    reason = _("The file has no employer header (record B01).")
                elif record_type == "B00":
                    reason = _("The file has no transfer header (record B00).")
                else:
                    reason = _("The file has no totals record %(type)s.") % {"type": record_type}
                self.add(0, record_type, reason)

    def check_header(self, header: _Record, transfer: _Record | None) -> None:
        if not header.values:
            return
        period = header.values.get("L_Periode", "")
        try:
            Period.parse(period)
        except ValueError:
            self.add(header.line, "L_Periode", _("%(value)r is not a valid period (YYYYMM).") % {"value": period})
        if not header.values.get("L_Raison_Sociale"):
            self.add(header.line, "L_Raison_Sociale", _("The employer's name is blank."))
        if transfer and transfer.values and transfer.values["L_Cat"] != "DS":
            self.add(
                transfer.line,
                "L_Cat",
                _("Category %(value)r is not DS (salary declaration).") % {"value": transfer.values["L_Cat"]},
            )

    def context(self, header: _Record | None = None) -> Context:
        """What lines are judged against (``declarations.ebds_rules``)."""
        if header is None or not header.values:
            return Context(ceiling=self.ceiling, max_days=self.max_days)
        return Context(
            ceiling=self.ceiling,
            max_days=self.max_days,
            affiliation=header.values.get("N_Num_Affilie"),
            period=header.values.get("L_Periode"),
            header_line=header.line,
        )

    def apply(self, rules, record: _Record, context: Context) -> None:
        if record.row is None:
            record.row = record_row(record.type, record.values, record.numbers, sound=record.sound)
        row = record.row
        for rule in rules:
            if rule.check(row, context):
                self.issues.append(rule.issue(record.type, record.line, row, context))

    def check_matches_header(self, record: _Record, header: _Record) -> None:
        self.apply(HEADER_RULES, record, self.context(header))

    def read_employee(self, record: _Record) -> EbdsLine | None:
        if not record.values:
            return None
        self.apply(EMPLOYEE_RULES[record.type], record, self.context())
        if not record.sound:
            return None
        names = _LINE_FIELDS[record.type]
        n = record.numbers
        return EbdsLine(
            cnss_number=record.values["N_Num_Assure"],
            name=record.values["L_Nom_Prenom"],
            days=n[names["days"]],
            real_salary=n[names["real"]],
            capped_salary=n[names["capped"]],
            situation=record.values.get("L_Situation", ""),
            children=n.get("N_Enfants", 0),
            af_due=n.get("N_AF_A_Payer", 0),
            af_deducted=n.get("N_AF_A_Deduire", 0),
            af_net=n.get("N_AF_Net_A_Payer", 0),
            af_returned=n.get("N_AF_A_Reverser", 0),
            cin=record.values.get("L_Num_CIN", ""),
            is_new=record.type == "B04",
            source_line=record.line,
        )

    def check_duplicates(self, records: list[_Record]) -> None:
        first_seen: dict[str, int] = {}
        for record in sorted(records, key=lambda r: r.line):
            number = record.values.get("N_Num_Assure")
            if number is None:
                continue
            if number in first_seen:
                row = {"cnss_number": number, "first_line": first_seen[number]}
                self.issues.append(DUPLICATE.issue(record.type, record.line, row, self.context()))
            else:
                first_seen[number] = record.line

    def check_totals(self, record: _Record, members: list[_Record]) -> None:
        if self.unreadable or not record.sound or not all(m.sound for m in members):
            return
        expected = _totals(record.type, [(m.type, m.numbers, m.values.get("L_Situation", "")) for m in members])
        self.compare_totals(record, expected)

    def compare_totals(self, record: _Record, expected: dict[str, int | None]) -> None:
        """Each figure of a totals record against what its lines add up to
        (``None``: not comparable); the fast path calls it with its SQL sums."""
        for name, value in expected.items():
            if value is not None and record.numbers[name] != value:
                row = {"value": record.numbers[name], "expected": value}
                self.issues.append(TOTALS.issue(record.type, record.line, row, self.context(), field_name=name))


def _control_sum(record_type: str, n: dict[str, int], situation: str) -> int | None:
    """S_Ctr of a B02 or B04 record (``ebds_rules.expected_control``); None when
    the situation code is unknown."""
    names = _LINE_FIELDS[record_type]
    row = {
        "cnss_number": n["N_Num_Assure"],
        "af_returned": n.get("N_AF_A_Reverser", 0),
        "days": n[names["days"]],
        "real_salary": n[names["real"]],
        "capped_salary": n[names["capped"]],
        "rank": SITUATION_RANKS.get(situation) if record_type == "B02" else 0,
    }
    return expected_control(row)


def _totals(total_type: str, members: list[tuple[str, dict[str, int], str]]) -> dict[str, int | None]:
    """The figures a totals record must hold, from its member lines."""

    def total(field_of: dict[str, str] | str) -> int:
        result = 0
        for record_type, n, _situation in members:
            name = field_of if isinstance(field_of, str) else field_of[record_type]
            result += n.get(name, 0)
        return result

    def control() -> int | None:
        result = 0
        for record_type, n, situation in members:
            value = _control_sum(record_type, n, situation)
            if value is None:
                return None
            result += value
        return result

    days = {t: f["days"] for t, f in _LINE_FIELDS.items()}
    real = {t: f["real"] for t, f in _LINE_FIELDS.items()}
    capped = {t: f["capped"] for t, f in _LINE_FIELDS.items()}
    figures: dict[str, int | None] = {
        "N_Nbr_Salaries": len(members),
        "N_T_Num_Imma": total("N_Num_Assure"),
        "N_T_Jours_Declares": total(days),
        "N_T_Salaire_Reel": total(real),
        "N_T_Salaire_Plaf": total(capped),
        "N_T_Ctr": control(),
    }
    if total_type == "B03":
        figures.update(
            {
                "N_T_Enfants": total("N_Enfants"),
                "N_T_AF_A_Payer": total("N_AF_A_Payer"),
                "N_T_AF_A_Deduire": total("N_AF_A_Deduire"),
                "N_T_AF_Net_A_Payer": total("N_AF_Net_A_Payer"),
                "N_T_AF_A_Reverser": total("N_AF_A_Reverser"),
            }
        )
    return figures


def parse_ebds(text: str, *, ceiling: int, max_days: int = 26) -> EbdsDeclaration:
    """Read an e-BDS salary declaration; raise ``EbdsError`` listing every problem.

    ``ceiling`` is the salary ceiling in centimes (``N_Salaire_Plaf`` must be
    ``min(real, ceiling)``); ``max_days`` the most days a month can hold.
    """
    return _Parser(text, ceiling=ceiling, max_days=max_days).run()


# --- Writer ----------------------------------------------------------------------

# Latin letters that NFKD does not decompose into ASCII.
_TRANSLITERATION = str.maketrans(
    {"ß": "SS", "Æ": "AE", "æ": "AE", "Œ": "OE", "œ": "OE", "Ø": "O", "ø": "O", "Đ": "D", "đ": "D", "Ł": "L", "ł": "L"}
)


def to_ebds_text(value: str) -> str:
    """Upper-case ASCII for an AN field: ``"Fès, Café"`` -> ``"FES, CAFE"``.

    Characters without a Latin equivalent (Arabic script, symbols) are dropped,
    control characters become spaces, runs of spaces are collapsed.
    """
    decomposed = unicodedata.normalize("NFKD", (value or "").translate(_TRANSLITERATION))
    chars = []
    for char in decomposed:
        if unicodedata.combining(char):
            continue
        if char.isspace() or unicodedata.category(char).startswith("C"):
            chars.append(" ")
        elif " " <= char <= "~":
            chars.append(char)
    return " ".join("".join(chars).upper().split())


def _text(value: str, spec: FieldSpec) -> str:
    return to_ebds_text(value)[: spec.width].ljust(spec.width)


def _number(value: int, spec: FieldSpec) -> str:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{spec.name}: {value!r} is not a non-negative integer")
    text = str(value)
    if len(text) > spec.width:
        raise ValueError(f"{spec.name}: {value} does not fit in {spec.width} digits")
    return text.zfill(spec.width)


def _digits(value: str, name: str, width: int) -> int:
    if not (value.isdigit() and value.isascii() and len(value) <= width):
        raise ValueError(f"{name}: {value!r} is not a number of at most {width} digits")
    return int(value)


def _date(value: date | None, spec: FieldSpec) -> str:
    return value.strftime("%Y%m%d") if value else " " * spec.width


def _render(record_type: str, values: dict[str, object]) -> str:
    parts = []
    for spec in LAYOUTS[record_type]:
        if spec.name == "L_Type_Enreg":
            parts.append(record_type)
        elif spec.kind == FILLER:
            parts.append(" " * spec.width)
        elif spec.kind == N:
            parts.append(_number(values.get(spec.name, 0), spec))
        elif spec.kind == D:
            parts.append(_date(values.get(spec.name), spec))
        else:
            parts.append(_text(str(values.get(spec.name, "")), spec))
    line = "".join(parts)
    if len(line) != RECORD_LENGTH:  # a guard on the layout table, not on the data
        raise AssertionError(f"{record_type} rendered as {len(line)} characters")
    return line


def _line_numbers(line: EbdsLine, *, ceiling: int) -> tuple[dict[str, int], str]:
    situation = (line.situation or "").strip().upper()
    if situation not in SITUATION_RANKS:
        raise ValueError(f"L_Situation: unknown situation code {line.situation!r}")
    if line.is_new and (
        situation or line.children or line.af_due or line.af_deducted or line.af_net or line.af_returned
    ):
        raise ValueError(
            f"{line.cnss_number}: a new employee (B04) has no situation, children or family-allowance fields"
        )
    capped = min(line.real_salary, ceiling) if line.capped_salary is None else line.capped_salary
    number = _digits(line.cnss_number, "N_Num_Assure", 9)
    names = _LINE_FIELDS["B04" if line.is_new else "B02"]
    n = {"N_Num_Assure": number, names["days"]: line.days, names["real"]: line.real_salary, names["capped"]: capped}
    if not line.is_new:
        n.update(
            {
                "N_Enfants": line.children,
                "N_AF_A_Payer": line.af_due,
                "N_AF_A_Deduire": line.af_deducted,
                "N_AF_Net_A_Payer": line.af_net,
                "N_AF_A_Reverser": line.af_returned,
            }
        )
    n["S_Ctr"] = _control_sum("B04" if line.is_new else "B02", n, situation)
    return n, situation


def write_ebds(declaration: EbdsDeclaration, *, ceiling: int) -> str:
    """The e-BDS file of ``declaration``: B00, B01, B02*, B03, B04*, B05, B06.

    Capped salaries left as None are computed as ``min(real, ceiling)``; control
    sums and totals are always computed. Lines end with CRLF.
    """
    d = declaration
    common = {"N_Num_Affilie": _digits(d.affiliation_number, "N_Num_Affilie", 7), "L_Periode": str(d.period)}
    transfer = _digits(d.transfer_id or "0", "N_Identif_Transfert", 14)

    out = [
        _render("B00", {"N_Identif_Transfert": transfer, "L_Cat": "DS"}),
        _render(
            "B01",
            {
                **common,
                "L_Raison_Sociale": d.employer_name,
                "L_Activite": d.activity,
                "L_Adresse": d.address,
                "L_Ville": d.city,
                "C_Code_Postal": d.postal_code,
                "C_Code_Agence": d.agency_code,
                "D_Date_Emission": d.issued_on,
                "D_Date_Exig": d.due_on,
            },
        ),
    ]
    members: dict[str, list[tuple[str, dict[str, int], str]]] = {"B02": [], "B04": []}
    rendered: dict[str, list[str]] = {"B02": [], "B04": []}
    for line in d.lines:
        record_type = "B04" if line.is_new else "B02"
        n, situation = _line_numbers(line, ceiling=ceiling)
        members[record_type].append((record_type, n, situation))
        values: dict[str, object] = {**common, **n, "L_Nom_Prenom": line.name}
        if line.is_new:
            values["L_Num_CIN"] = (line.cin or "").replace(" ", "")
        else:
            values["L_Situation"] = situation
        rendered[record_type].append(_render(record_type, values))

    out += rendered["B02"]
    out.append(_render("B03", {**common, **_totals("B03", members["B02"])}))
    out += rendered["B04"]
    out.append(_render("B05", {**common, **_totals("B05", members["B04"])}))
    out.append(_render("B06", {**common, **_totals("B06", members["B02"] + members["B04"])}))
    return "".join(line + "\r\n" for line in out)


def ebds_filename(declaration: EbdsDeclaration) -> str:
    """The name payroll software gives the file: ``DS_<affiliation>_<period>.txt``."""
    return f"DS_{declaration.affiliation_number}_{declaration.period}.txt"
