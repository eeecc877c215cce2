"""The fast path of the e-BDS import, for PostgreSQL (``docs/ebds.md``, "Speed").

``import_fast`` stores a file whose every line is well formed in one pass: the
B02 lines (employees already known to the fund) are checked in Python against a
strict pattern and streamed with ``COPY`` into a temporary staging table, then
written with set-based SQL (``INSERT … SELECT`` joined on the registry by CNSS
number); employments are extended or opened with two statements instead of
re-reading each person's history.

The rules of an employee line are not written here: they are those of
``declarations.ebds_rules``, which the parser applies too. Each rule gives its
SQL predicate, and ``check_staged`` checks all of them on the staged B02 rows in
one statement; B04 lines, header and totals records go through the parser's own
methods; the totals are compared by the parser's ``compare_totals`` with sums
taken in SQL. A broken rule is reported as the parser would report it
(``NotFast.issues``; ``tests/declarations/test_ebds_rules.py`` holds them equal).

It never rejects a file itself. Anything it is not sure about (a line the strict
pattern does not match, a rule broken, a total off, an unknown CNSS number, a
period already declared, a correction, a period later than one already
imported for the same people) raises ``NotFast`` inside the transaction, which
rolls back; ``declarations.services.import_ebds`` then runs the full parser and
the original store, which give the complete list of reasons in the parser's
order. A file is stored the same way on either path
(``tests/declarations/test_ebds_bulk.py`` compares them).
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from declarations.ebds import (
    EXIT_SITUATIONS,
    LAYOUTS,
    EbdsDeclaration,
    _parse_date,
    _Parser,
    _Record,
    _totals,
)
from declarations.ebds_rules import (
    CONTROL_SQL,
    DUPLICATE,
    ROW_KEYS,
    SITUATION_RANKS,
    STAGED_RULES,
    Context,
    EbdsIssue,
)
from declarations.periods import Period

# A B02 record whose every field has the right kind: N fields digits, AN fields
# printable ASCII, the filler blank; then the line end the parser accepts
# (CRLF, LF, or nothing or a lone CR on the last line). Anything else goes to
# the full parser.
_B02 = re.compile(
    "".join(
        "B02"
        if spec.name == "L_Type_Enreg"
        else (f"([0-9]{{{spec.width}}})" if spec.kind == "N" else f"([ -~]{{{spec.width}}})")
        if spec.kind != "filler"
        else f" {{{spec.width}}}"
        for spec in LAYOUTS["B02"]
    )
    + "\r?\n?"
)
# Numbers are copied as the digits of the file: PostgreSQL reads them. The
# columns are the rows of ``declarations.ebds_rules`` (a B02 has no CIN), which
# the rules' SQL predicates name.
_ROW_COLUMNS = (
    "affiliation",
    "period",
    "cnss_number",
    "declared_name",
    "children",
    "af_due",
    "af_deducted",
    "af_net",
    "af_returned",
    "days",
    "real_salary",
    "capped_salary",
    "situation",
    "rank",
    "control",
)
if set(_ROW_COLUMNS) != set(ROW_KEYS) - {"cin"}:
    raise AssertionError("the staging table's columns are not the rows of declarations.ebds_rules")
_STAGE_COLUMNS = ", ".join(("line_no", *_ROW_COLUMNS))
# How often (in lines) the progress callback hears from the scan.
PROGRESS_EVERY = 5000


class NotFast(Exception):
    """The file needs the full parser (it may be fine, or it is rejected).

    ``issues``: the problems the fast path found before it gave up, as the
    parser reports them (empty when it gave up on a line it does not read)."""

    def __init__(self, issues: list[EbdsIssue] | tuple = ()):
        self.issues = list(issues)
        super().__init__(f"{len(self.issues)} issue(s)")


def _strip_end(raw: str) -> str:
    if raw.endswith("\n"):
        raw = raw[:-1]
    if raw.endswith("\r"):
        raw = raw[:-1]
    return raw


@dataclass
class Scanned:
    """What ``scan`` read: the declaration (header and B04 lines only), the
    records the staged B02 lines are checked against, the B02 count, and the
    parser whose methods read the rest (with the problems found so far)."""

    declaration: EbdsDeclaration
    b02_count: int
    b03: _Record
    b04: list[_Record]
    b05: _Record
    b06: _Record
    parser: _Parser
    context: Context


def scan(text: str, *, ceiling: int, max_days: int, copy, progress: Callable[[int], None] | None = None) -> Scanned:
    """Check the file's shape and write its B02 lines to ``copy`` (a psycopg ``Copy``).

    Per line, Python checks only what a pattern and a dict can: field kinds,
    blank filler, printable text, one CNSS number once. The rules of
    ``declarations.ebds_rules`` are checked on the staged rows by
    ``check_staged``. Raises ``NotFast`` at the first line it does not read.
    """
    parser = _Parser(text, ceiling=ceiling, max_days=max_days)
    numbered = enumerate(io.StringIO(text, newline="\n"), start=1)
    singles: dict[str, _Record] = {}

    def single(expected: str, number: int, raw: str) -> _Record:
        raw = _strip_end(raw)
        if raw[:3] != expected:
            raise NotFast
        record = parser.read_line(number, raw)
        if record is None or not record.sound or parser.issues:
            raise NotFast(parser.issues)
        singles[expected] = record
        return record

    number, raw = next(numbered, (0, ""))
    single("B00", number, raw)
    number, raw = next(numbered, (0, ""))
    header = single("B01", number, raw)
    parser.check_header(header, singles["B00"])
    if parser.issues:
        raise NotFast(parser.issues)
    context = parser.context(header)
    affiliation = header.values["N_Num_Affilie"]
    period = header.values["L_Periode"]

    # CNSS number -> the line it was first seen on.
    seen: dict[str, int] = {}
    twice: list[tuple[str, int, int]] = []
    write_row = copy.write_row
    match = _B02.fullmatch
    rank_of = SITUATION_RANKS.get
    count = 0
    # B02 lines, until the B03.
    for number, raw in numbered:
        m = match(raw)
        if m is None:
            if raw[:3] == "B03":
                break
            raise NotFast
        g = m.groups()
        cnss = g[2]
        if cnss in seen:
            twice.append((cnss, number, seen[cnss]))
        else:
            seen[cnss] = number
        # Text as the parser reads it (``_Parser.read_line``); an unknown
        # situation has no rank (NULL), which its rule reports.
        situation = g[12].rstrip().upper()
        write_row((number, g[0], g[1], cnss, g[3].rstrip().upper(), *g[4:12], situation, rank_of(situation), g[13]))
        count += 1
        if progress and count % PROGRESS_EVERY == 0:
            progress(count)
    else:
        raise NotFast
    b03 = single("B03", number, raw)

    # B04 lines (new employees): few, read by the full parser's own methods.
    b04_records: list[_Record] = []
    for number, raw in numbered:
        if raw[:3] == "B05":
            break
        if raw[:3] != "B04":
            raise NotFast
        record = parser.read_line(number, _strip_end(raw))
        if record is None or not record.sound:
            raise NotFast(parser.issues)
        cnss = record.values["N_Num_Assure"]
        if cnss in seen:
            twice.append((cnss, number, seen[cnss]))
        else:
            seen[cnss] = number
        b04_records.append(record)
    else:
        raise NotFast
    b05 = single("B05", number, raw)
    number, raw = next(numbered, (0, ""))
    b06 = single("B06", number, raw)
    for _number, raw in numbered:
        if _strip_end(raw):
            raise NotFast  # only empty lines may follow B06

    for record in (b03, *b04_records, b05, b06):
        parser.check_matches_header(record, header)
    b04_lines = [parser.read_employee(record) for record in b04_records]
    for cnss, number, first in twice:
        record_type = "B04" if number > b03.line else "B02"
        parser.issues.append(DUPLICATE.issue(record_type, number, {"cnss_number": cnss, "first_line": first}, context))
    parser.check_totals(b05, b04_records)

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
        lines=[line for line in b04_lines if line is not None],
        header_line=header.line,
    )
    if progress:
        progress(count + len(b04_lines))
    return Scanned(
        declaration=declaration,
        b02_count=count,
        b03=b03,
        b04=b04_records,
        b05=b05,
        b06=b06,
        parser=parser,
        context=context,
    )


_SUMS = (
    "N_T_Num_Imma",
    "N_T_Enfants",
    "N_T_AF_A_Payer",
    "N_T_AF_A_Deduire",
    "N_T_AF_Net_A_Payer",
    "N_T_AF_A_Reverser",
    "N_T_Jours_Declares",
    "N_T_Salaire_Reel",
    "N_T_Salaire_Plaf",
)
# The rules' predicates (SQL of the registry, values as parameters): one is
# true when a staged line breaks that rule.
_BROKEN = " OR ".join(f"({rule.sql})" for rule in STAGED_RULES)
_CHECK_SQL = f"""
    SELECT count(*), count(*) FILTER (WHERE {_BROKEN}),
           coalesce(sum(cnss_number::numeric), 0), coalesce(sum(children), 0), coalesce(sum(af_due), 0),
           coalesce(sum(af_deducted), 0), coalesce(sum(af_net), 0), coalesce(sum(af_returned), 0),
           coalesce(sum(days), 0), coalesce(sum(real_salary), 0), coalesce(sum(capped_salary), 0),
           CASE WHEN count(rank) = count(*) THEN coalesce(sum({CONTROL_SQL}), 0) END
    FROM ebds_stage
"""  # noqa: S608 - the rules' own SQL, every value a parameter
_BROKEN_LINES_SQL = (
    f"SELECT {', '.join(_ROW_COLUMNS)}, line_no, "  # noqa: S608 - the rules' own SQL, every value a parameter
    + ", ".join(f"coalesce({rule.sql}, false)" for rule in STAGED_RULES)
    + f" FROM ebds_stage WHERE {_BROKEN} ORDER BY line_no"
)


def broken_lines(cursor, context: Context) -> list[EbdsIssue]:
    """The problems of the staged B02 lines, each reported by its rule's message."""
    cursor.execute(_BROKEN_LINES_SQL, context.sql_params())
    issues = []
    width = len(_ROW_COLUMNS)
    for values in cursor.fetchall():
        row = dict(zip(_ROW_COLUMNS, values[:width], strict=True))
        row["control"] = int(row["control"])
        row["cin"] = ""
        line = values[width]
        for rule, broken in zip(STAGED_RULES, values[width + 1 :], strict=True):
            if broken:
                issues.append(rule.issue("B02", line, row, context))
    return issues


def check_staged(cursor, scanned: Scanned) -> dict[str, int]:
    """The rules of ``declarations.ebds_rules`` on each staged B02 line, and the
    B03 and B06 totals, in SQL; returns the B02 sums. ``NotFast`` with every
    problem found (and those ``scan`` found) if the file breaks a rule."""
    parser = scanned.parser
    cursor.execute(_CHECK_SQL, scanned.context.sql_params())
    row = cursor.fetchone()
    count, broken = row[0], row[1]
    if count != scanned.b02_count:
        raise NotFast
    if broken:
        parser.issues.extend(broken_lines(cursor, scanned.context))
    sums = {name: int(value) for name, value in zip(_SUMS, row[2:11], strict=True)}
    # Control sums as the fields add them up; none if a situation is unknown.
    sums["N_T_Ctr"] = None if row[11] is None else int(row[11])
    sums["N_Nbr_Salaries"] = count
    # B06 against the lines themselves, B02 and B04 (decision 3 of ``declarations.ebds``).
    b04 = _totals("B05", [(r.type, r.numbers, "") for r in scanned.b04])
    grand = {name: None if sums[name] is None or value is None else sums[name] + value for name, value in b04.items()}
    parser.compare_totals(scanned.b03, sums)
    parser.compare_totals(scanned.b06, grand)
    if parser.issues:
        raise NotFast(parser.issues)
    return sums


def stage_and_check(
    cursor, text: str, *, ceiling: int, max_days: int, progress: Callable[[int], None] | None = None
) -> tuple[Scanned, dict[str, int]]:
    """Read the file into the staging table and check every rule: the scan,
    then ``check_staged``. ``NotFast`` (with the problems found, if any) when
    the full parser must answer."""
    open_stage(cursor)
    with cursor.copy(copy_statement()) as copy:
        scanned = scan(text, ceiling=ceiling, max_days=max_days, copy=copy, progress=progress)
    analyze_stage(cursor)
    return scanned, check_staged(cursor, scanned)


def counts_of(sums: dict[str, int], declaration: EbdsDeclaration) -> dict[str, int]:
    """The counts ``services.ebds_counts`` gives, from the B02 sums and the B04 lines."""
    new = declaration.lines
    return {
        "employees": sums["N_Nbr_Salaries"] + len(new),
        "new_employees": len(new),
        "days": sums["N_T_Jours_Declares"] + sum(line.days for line in new),
        "real_salary_total": sums["N_T_Salaire_Reel"] + sum(line.real_salary for line in new),
        "capped_salary_total": sums["N_T_Salaire_Plaf"] + sum(line.capped_salary or 0 for line in new),
    }


# Settings for the import's transaction (``set_config(..., true)`` is ``SET
# LOCAL``: they end with the transaction, the outer one when the import is nested
# in a larger one). The join's rows are sorted by person in memory, not on disk
# (4 MB by default; 50,000 rows take 9 MB). No JIT: with a table's statistics
# lagging behind a month's imports the planner's cost of the employments
# statement crosses ``jit_above_cost`` and PostgreSQL spends 55-60 ms compiling
# it, for a 200-line file that runs in 4-8 ms.
_TUNE_SQL = "SELECT set_config('work_mem', '64MB', true), set_config('jit', 'off', true)"
_STAGE_SQL = (
    "CREATE TEMPORARY TABLE IF NOT EXISTS ebds_stage (line_no integer, affiliation text, period text, "
    "cnss_number text, declared_name text, children smallint, af_due bigint, af_deducted bigint, af_net bigint, "
    "af_returned bigint, days smallint, real_salary bigint, capped_salary bigint, situation text, "
    "rank smallint, control numeric) ON COMMIT DELETE ROWS"
)


def open_stage(cursor) -> None:
    """The transaction's settings (``_TUNE_SQL``) and the session's staging table, empty.

    One round trip for both (a small file's time is its round trips: docs/benchmarks.md).
    The table is made once per connection (a rolled-back transaction takes it
    away, and the next import makes it again); emptied at commit, and by
    ``close_stage`` for imports nested in a larger transaction."""
    cursor.execute(f"{_TUNE_SQL}; {_STAGE_SQL}")


def analyze_stage(cursor) -> None:
    """Give the planner the staged row count. Without it the join on the registry
    is planned for a guess: a hash join reading every insured person, 16 ms for
    a 20-line file at 100,000 people (and ten times that at a million), where 20
    index lookups take well under a millisecond."""
    cursor.execute("ANALYZE ebds_stage")


def close_stage(cursor, *, nested: bool) -> None:
    """Empty the stage now if the import's transaction is nested in a larger
    one; otherwise its commit does (``ON COMMIT DELETE ROWS``), for free."""
    if nested:
        cursor.execute("TRUNCATE ebds_stage")


def declared_periods(cursor, *, employer_id: int, period: str) -> tuple[bool, bool]:
    """Whether the employer has a current declaration for ``period``, and for a later one."""
    cursor.execute(
        "SELECT coalesce(bool_or(period = %s), false), coalesce(bool_or(period > %s), false) "
        "FROM declarations_declaration WHERE employer_id = %s AND is_current AND period >= %s",
        [period, period, employer_id, period],
    )
    declared, later = cursor.fetchone()
    return declared, later


def copy_statement() -> str:
    return f"COPY ebds_stage ({_STAGE_COLUMNS}) FROM STDIN"


def insert_file_and_declaration(cursor, *, ebds_file, declaration) -> None:
    """Store the unsaved ``ebds_file`` and its ``declaration`` in one statement; both get their ids.

    One round trip and no ORM compilation for the two rows every file writes
    (a small file's time is its round trips and its Python: docs/benchmarks.md,
    "Many small files"). A file imported twice at once meets the unique SHA-256
    here, as ``IntegrityError``.
    """
    cursor.execute(
        """
        WITH f AS (
            INSERT INTO declarations_ebdsfile (name, sha256, content, transfer_id, employer_id, period,
                                               is_correction, imported_at, imported_by_id, counts)
            VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb) RETURNING id
        )
        INSERT INTO declarations_declaration (employer_id, period, source_file_id, version, is_current,
                                              declared_at, employee_count, total_days, total_real_salary,
                                              total_capped_salary)
        SELECT %s, %s, f.id, %s, %s, %s, %s, %s, %s, %s FROM f
        RETURNING source_file_id, id
        """,
        [
            *(ebds_file.name, ebds_file.sha256, ebds_file.content, ebds_file.transfer_id, ebds_file.employer_id),
            *(ebds_file.period, ebds_file.is_correction, ebds_file.imported_at, ebds_file.imported_by_id),
            json.dumps(ebds_file.counts),
            *(declaration.employer_id, declaration.period, declaration.version, declaration.is_current),
            *(declaration.declared_at, declaration.employee_count, declaration.total_days),
            *(declaration.total_real_salary, declaration.total_capped_salary),
        ],
    )
    ebds_file.pk, declaration.pk = cursor.fetchone()
    declaration.source_file = ebds_file
    for row in (ebds_file, declaration):
        row._state.adding = False
        row._state.db = cursor.db.alias


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
        ORDER BY i.id
        """,
        [declaration_id, employer_id, period],
    )
    if cursor.rowcount != expected:
        raise NotFast


def extend_employments(cursor, *, declaration_id: int, employer_id: int, period: Period, later: bool) -> list[int]:
    """Employments after appending ``period`` (set-based, ``declarations.employments.derive_spells``'s rules).

    For each person of the declaration whose latest line with this employer is
    earlier than ``period``: the open employment now runs to ``period`` (ending
    on its last day with an exit situation); without an open one, a new one
    starts (one statement for both). Returns the people for whom ``period`` is
    not the latest (a late file): their employments need ``rebuild_employments``.
    """
    p = str(period)
    last_day = period.last_day
    exits = tuple(sorted(EXIT_SITUATIONS))
    # Employments derive from current lines: without a later current declaration
    # of this employer (``later``), no employment of it runs past ``period``.
    if not later:
        late = []
    else:
        cursor.execute(
            """
        SELECT DISTINCT e.insured_id FROM registry_employment e
        JOIN declarations_declarationline l ON l.insured_id = e.insured_id
        WHERE l.declaration_id = %s AND l.period = %s AND e.employer_id = %s AND e.last_period > %s
        """,
            [declaration_id, p, employer_id, p],
        )
        late = [row[0] for row in cursor.fetchall()]
    # Both statements see the employments as they were before (one snapshot):
    # a line opens a new employment when its person has none open with this
    # employer and none reaching ``period`` (those are late, rebuilt after).
    cursor.execute(
        """
        WITH extended AS (
            UPDATE registry_employment e
            SET last_period = %s,
                end_date = CASE WHEN l.situation = ANY(%s) THEN %s::date END,
                exit_reason = CASE WHEN l.situation = ANY(%s) THEN l.situation ELSE '' END
            FROM declarations_declarationline l
            WHERE l.declaration_id = %s AND l.period = %s AND e.insured_id = l.insured_id AND e.employer_id = %s
              AND e.end_date IS NULL AND e.last_period < %s
        )
        INSERT INTO registry_employment (insured_id, employer_id, start_period, start_date, last_period, end_date,
                                         exit_reason)
        SELECT l.insured_id, %s, %s, %s, %s, CASE WHEN l.situation = ANY(%s) THEN %s::date END,
               CASE WHEN l.situation = ANY(%s) THEN l.situation ELSE '' END
        FROM declarations_declarationline l
        WHERE l.declaration_id = %s AND l.period = %s AND NOT EXISTS (
            SELECT 1 FROM registry_employment e
            WHERE e.insured_id = l.insured_id AND e.employer_id = %s AND (e.end_date IS NULL OR e.last_period >= %s))
        """,
        [
            *(p, list(exits), last_day, list(exits), declaration_id, p, employer_id, p),
            *(
                employer_id,
                p,
                period.first_day,
                p,
                list(exits),
                last_day,
                list(exits),
                declaration_id,
                p,
                employer_id,
                p,
            ),
        ],
    )
    return late
