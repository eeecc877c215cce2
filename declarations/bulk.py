"""The fast path of the e-BDS import, for PostgreSQL (``docs/ebds.md``, "Speed").

``import_fast`` stores a file whose every line is well formed in one pass: the
B02 lines (employees already known to the fund) are checked in Python against a
strict pattern and streamed with ``COPY`` into a temporary staging table, then
written with set-based SQL (``INSERT … SELECT`` joined on the registry by CNSS
number); employments are extended or opened with two statements instead of
re-reading each person's history.

It never rejects a file itself. Anything it is not sure about (a line the strict
pattern does not match, a rule broken, a total off, an unknown CNSS number, a
period already declared, a correction, a period later than one already
imported for the same people) raises ``NotFast`` inside the transaction, which
rolls back; ``declarations.services.import_ebds`` then runs the full parser and
the original store, which give the exact reasons. So every validation rule and
every message stays that of ``declarations.ebds``, and a file is stored the
same way on either path (``tests/declarations/test_ebds_bulk.py`` compares
them).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable

from declarations.ebds import (
    EXIT_SITUATIONS,
    LAYOUTS,
    SITUATION_RANKS,
    EbdsDeclaration,
    _parse_date,
    _Parser,
    _Record,
)
from declarations.periods import Period

# A B02 record whose every field has the right kind: N fields digits, AN fields
# printable ASCII, the filler blank. Anything else goes to the full parser.
_B02 = re.compile(
    "".join(
        "B02"
        if spec.name == "L_Type_Enreg"
        else (f"([0-9]{{{spec.width}}})" if spec.kind == "N" else f"([ -~]{{{spec.width}}})")
        if spec.kind != "filler"
        else f" {{{spec.width}}}"
        for spec in LAYOUTS["B02"]
    )
)
_STAGE_COLUMNS = (
    "line_no, cnss_number, declared_name, children, af_due, af_deducted, af_net, af_returned, days, "
    "real_salary, capped_salary, situation"
)
# How often (in lines) the progress callback hears from the scan.
PROGRESS_EVERY = 5000


class NotFast(Exception):
    """The file needs the full parser (it may be fine, or it is rejected)."""


class _Totals:
    """Running sums of the B02 lines, compared with B03 and B06."""

    def __init__(self):
        self.count = self.numbers = self.children = self.days = self.real = self.capped = self.ctr = 0
        self.af_due = self.af_deducted = self.af_net = self.af_returned = 0


def _lines(text: str):
    """(number, line) without the line end, as ``ebds._split_lines`` reads them,
    one at a time: no list of every line is built."""
    for number, raw in enumerate(io.StringIO(text, newline="\n"), start=1):
        if raw.endswith("\n"):
            raw = raw[:-1]
        if raw.endswith("\r"):
            raw = raw[:-1]
        yield number, raw


def scan(text: str, *, ceiling: int, max_days: int, copy, progress: Callable[[int], None] | None = None):
    """Check the file and write its B02 lines to ``copy`` (a psycopg ``Copy``).

    Returns the declaration (header, and the B04 lines only) and the B02 totals;
    raises ``NotFast`` at the first doubt.
    """
    parser = _Parser(text, ceiling=ceiling, max_days=max_days)
    lines = _lines(text)
    singles: dict[str, _Record] = {}

    def single(expected: str, number: int, raw: str) -> _Record:
        if raw[:3] != expected:
            raise NotFast
        record = parser.read_line(number, raw)
        if record is None or not record.sound or parser.issues:
            raise NotFast
        singles[expected] = record
        return record

    number, raw = next(lines, (0, ""))
    single("B00", number, raw)
    number, raw = next(lines, (0, ""))
    header = single("B01", number, raw)
    parser.check_header(header, singles["B00"])
    if parser.issues:
        raise NotFast
    affiliation = header.values["N_Num_Affilie"]
    period = header.values["L_Periode"]
    if len(period) != 6:
        raise NotFast

    seen: set[str] = set()
    b02 = _Totals()
    write_row = copy.write_row
    match = _B02.fullmatch
    ranks = SITUATION_RANKS
    # B02 lines, until the B03.
    for number, raw in lines:
        m = match(raw)
        if m is None:
            if raw[:3] == "B03":
                break
            raise NotFast
        (aff, per, cnss, name, children, af_due, af_ded, af_net, af_ret, days, real, capped, situation, ctr) = (
            m.groups()
        )
        if aff != affiliation or per != period or cnss in seen:
            raise NotFast
        seen.add(cnss)
        name = name.rstrip().upper()
        situation = situation.rstrip().upper()
        if not name or situation not in ranks:
            raise NotFast
        n_cnss, n_ret, n_days, n_real, n_capped = int(cnss), int(af_ret), int(days), int(real), int(capped)
        n_ctr = int(ctr)
        if n_days > max_days or n_capped != min(n_real, ceiling):
            raise NotFast
        if n_ctr != n_cnss + n_ret + n_days + n_real + n_capped + ranks[situation]:
            raise NotFast
        n_children, n_due, n_ded, n_net = int(children), int(af_due), int(af_ded), int(af_net)
        b02.count += 1
        b02.numbers += n_cnss
        b02.children += n_children
        b02.af_due += n_due
        b02.af_deducted += n_ded
        b02.af_net += n_net
        b02.af_returned += n_ret
        b02.days += n_days
        b02.real += n_real
        b02.capped += n_capped
        b02.ctr += n_ctr
        write_row((number, cnss, name, n_children, n_due, n_ded, n_net, n_ret, n_days, n_real, n_capped, situation))
        if progress and b02.count % PROGRESS_EVERY == 0:
            progress(b02.count)
    else:
        raise NotFast
    b03 = single("B03", number, raw)

    # B04 lines (new employees): few, read by the full parser's own methods.
    b04_records: list[_Record] = []
    for number, raw in lines:
        if raw[:3] == "B05":
            break
        if raw[:3] != "B04":
            raise NotFast
        record = parser.read_line(number, raw)
        if record is None or not record.sound or record.values["N_Num_Assure"] in seen:
            raise NotFast
        seen.add(record.values["N_Num_Assure"])
        b04_records.append(record)
    else:
        raise NotFast
    b05 = single("B05", number, raw)
    number, raw = next(lines, (0, ""))
    b06 = single("B06", number, raw)
    for _number, raw in lines:
        if raw:
            raise NotFast  # only empty lines may follow B06

    for record in (b03, *b04_records, b05, b06):
        parser.check_matches_header(record, header)
    b04_lines = [parser.read_employee(record) for record in b04_records]
    parser.check_totals(b05, b04_records)
    if parser.issues:
        raise NotFast

    expected_b03 = {
        "N_Nbr_Salaries": b02.count,
        "N_T_Enfants": b02.children,
        "N_T_AF_A_Payer": b02.af_due,
        "N_T_AF_A_Deduire": b02.af_deducted,
        "N_T_AF_Net_A_Payer": b02.af_net,
        "N_T_Num_Imma": b02.numbers,
        "N_T_AF_A_Reverser": b02.af_returned,
        "N_T_Jours_Declares": b02.days,
        "N_T_Salaire_Reel": b02.real,
        "N_T_Salaire_Plaf": b02.capped,
        "N_T_Ctr": b02.ctr,
    }
    b05n = b05.numbers
    expected_b06 = {
        "N_Nbr_Salaries": b02.count + b05n["N_Nbr_Salaries"],
        "N_T_Num_Imma": b02.numbers + b05n["N_T_Num_Imma"],
        "N_T_Jours_Declares": b02.days + b05n["N_T_Jours_Declares"],
        "N_T_Salaire_Reel": b02.real + b05n["N_T_Salaire_Reel"],
        "N_T_Salaire_Plaf": b02.capped + b05n["N_T_Salaire_Plaf"],
        "N_T_Ctr": b02.ctr + b05n["N_T_Ctr"],
    }
    for record, expected in ((b03, expected_b03), (b06, expected_b06)):
        if any(record.numbers[name] != value for name, value in expected.items()):
            raise NotFast

    transfer = singles["B00"].values["N_Identif_Transfert"]
    values = header.values
    declaration = EbdsDeclaration(
        affiliation_number=affiliation,
        period=Period.parse(period),
        employer_name=values["L_Raison_Sociale"],
        activity=values["L_Activite"],
        address=values["L_Adresse"],
        city=values["L_Ville"],
        postal_code=values["C_Code_Postal"],
        agency_code=values["C_Code_Agence"],
        issued_on=_parse_date(values["D_Date_Emission"]),
        due_on=_parse_date(values["D_Date_Exig"]),
        transfer_id="" if set(transfer) == {"0"} else transfer,
        lines=b04_lines,
        header_line=header.line,
    )
    if progress:
        progress(b02.count + len(b04_lines))
    return declaration, b02


def counts_of(b02: _Totals, declaration: EbdsDeclaration) -> dict[str, int]:
    """The counts ``services.ebds_counts`` gives, from the B02 totals and the B04 lines."""
    new = declaration.lines
    return {
        "employees": b02.count + len(new),
        "new_employees": len(new),
        "days": b02.days + sum(line.days for line in new),
        "real_salary_total": b02.real + sum(line.real_salary for line in new),
        "capped_salary_total": b02.capped + sum(line.capped_salary or 0 for line in new),
    }


def open_stage(cursor) -> None:
    cursor.execute("DROP TABLE IF EXISTS ebds_stage")
    cursor.execute(
        "CREATE TEMPORARY TABLE ebds_stage (line_no integer, cnss_number varchar(9), declared_name varchar(60), "
        "children smallint, af_due bigint, af_deducted bigint, af_net bigint, af_returned bigint, days smallint, "
        "real_salary bigint, capped_salary bigint, situation varchar(2)) ON COMMIT DROP"
    )


def copy_statement() -> str:
    return f"COPY ebds_stage ({_STAGE_COLUMNS}) FROM STDIN"


def insert_known_lines(cursor, *, declaration_id: int, employer_id: int, period: str, expected: int) -> None:
    """Declaration lines of the staged B02 records; ``NotFast`` if a CNSS number is unknown."""
    cursor.execute(
        """
        INSERT INTO declarations_declarationline (
            declaration_id, insured_id, employer_id, period, is_current, is_new_employee, declared_name,
            children, family_allowance_due, family_allowance_deducted, family_allowance_net,
            family_allowance_returned, days, real_salary, capped_salary, situation)
        SELECT %s, i.id, %s, %s, true, false, s.declared_name, s.children, s.af_due, s.af_deducted, s.af_net,
               s.af_returned, s.days, s.real_salary, s.capped_salary, s.situation
        FROM ebds_stage s JOIN registry_insured i ON i.cnss_number = s.cnss_number
        ORDER BY s.line_no
        """,
        [declaration_id, employer_id, period],
    )
    if cursor.rowcount != expected:
        raise NotFast


def extend_employments(cursor, *, declaration_id: int, employer_id: int, period: Period) -> list[int]:
    """Employments after appending ``period`` (set-based, ``registry.services.derive_spells``'s rules).

    For each person of the declaration whose latest line with this employer is
    earlier than ``period``: the open employment now runs to ``period`` (ending
    on its last day with an exit situation); without an open one, a new one
    starts. Returns the people for whom ``period`` is not the latest (a late
    file): their employments need ``rebuild_employments``.
    """
    p = str(period)
    last_day = period.last_day
    exits = tuple(sorted(EXIT_SITUATIONS))
    cursor.execute(
        """
        SELECT DISTINCT e.insured_id FROM registry_employment e
        JOIN declarations_declarationline l ON l.insured_id = e.insured_id
        WHERE l.declaration_id = %s AND e.employer_id = %s AND e.last_period > %s
        """,
        [declaration_id, employer_id, p],
    )
    late = [row[0] for row in cursor.fetchall()]
    cursor.execute(
        """
        UPDATE registry_employment e
        SET last_period = %s,
            end_date = CASE WHEN l.situation = ANY(%s) THEN %s::date END,
            exit_reason = CASE WHEN l.situation = ANY(%s) THEN l.situation ELSE '' END
        FROM declarations_declarationline l
        WHERE l.declaration_id = %s AND e.insured_id = l.insured_id AND e.employer_id = %s
          AND e.end_date IS NULL AND e.last_period < %s
        """,
        [p, list(exits), last_day, list(exits), declaration_id, employer_id, p],
    )
    cursor.execute(
        """
        INSERT INTO registry_employment (insured_id, employer_id, start_period, start_date, last_period, end_date,
                                         exit_reason)
        SELECT l.insured_id, %s, %s, %s, %s, CASE WHEN l.situation = ANY(%s) THEN %s::date END,
               CASE WHEN l.situation = ANY(%s) THEN l.situation ELSE '' END
        FROM declarations_declarationline l
        WHERE l.declaration_id = %s AND NOT EXISTS (
            SELECT 1 FROM registry_employment e
            WHERE e.insured_id = l.insured_id AND e.employer_id = %s AND e.last_period >= %s)
        """,
        [employer_id, p, period.first_day, p, list(exits), last_day, list(exits), declaration_id, employer_id, p],
    )
    return late
