"""The rules of an e-BDS employee line, declared once (``docs/ebds.md``, "One rule set").

Two code paths read employee lines: the parser (``declarations.ebds``) and the
PostgreSQL fast path (``declarations.bulk``), which stages the B02 lines with
``COPY`` and checks them in one SQL statement. Both take their rules from
``RULES`` and nowhere else. Each ``LineRule`` gives, side by side:

- ``code``: a stable name (``EbdsIssue.code`` of the problems it reports);
- ``field``: the line field it reports, a key of the row (below) that
  ``FIELD_NAMES`` turns into the specification's name for each record type;
- ``records``: the record types it applies to;
- ``message``: the translated reason, from the row and the ``Context``;
- ``check``: a Python predicate over the row, true when the line breaks the rule
  (the parser's, and the fast path's for B04 lines);
- ``sql``: the same predicate as SQL over the staging table's columns, which
  carry the row's keys as names (the fast path's, for B02 lines). Required for
  every rule that applies to B02.

A row is a dict keyed by ``ROW_KEYS``: numbers as ``int`` (``None`` when the
field is not a number: a rule is then not judged, as SQL's ``NULL`` is not),
``cnss_number``, ``affiliation`` and ``period`` as the digits of the file, text
upper-cased without trailing blanks. A line whose length or numbers are wrong
has ``control`` ``None``: its control sum is not compared. ``rank`` is the
situation's rank, ``None`` for an unknown situation.

Two rules span several records and have no per-line predicate: ``DUPLICATE``
(a CNSS number twice in a file) and ``TOTALS`` (a totals record against its
lines); the parser and the fast path report them through these declarations
too. ``tests/declarations/test_ebds_rules.py`` feeds each rule's bad input to
both paths and requires the same refusal with the same message; a rule without
an example there fails it.

The rest of the format (field kinds, record order, the header records) is read
by the parser's own methods on both paths; the fast path's B02 pattern is
built from the same ``LAYOUTS``, and any line it does not match goes to the
parser.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

# Situation codes and the rank that enters the B02 control sum.
SITUATION_RANKS = {"": 0, "SO": 1, "DE": 2, "IT": 3, "IL": 4, "AT": 5, "CS": 6, "MS": 7, "MP": 8}

EMPLOYEE_RECORDS = frozenset({"B02", "B04"})
# Records whose affiliation number and period must be the employer header's.
AFTER_HEADER = frozenset({"B02", "B03", "B04", "B05", "B06"})

# Row keys and the specification's field of each, per record type. The B02 keys
# are also the staging table's columns (``declarations.bulk``).
_COMMON = {"affiliation": "N_Num_Affilie", "period": "L_Periode"}
FIELD_NAMES: dict[str, dict[str, str]] = {
    "B02": {
        **_COMMON,
        "cnss_number": "N_Num_Assure",
        "declared_name": "L_Nom_Prenom",
        "children": "N_Enfants",
        "af_due": "N_AF_A_Payer",
        "af_deducted": "N_AF_A_Deduire",
        "af_net": "N_AF_Net_A_Payer",
        "af_returned": "N_AF_A_Reverser",
        "days": "N_Jours_Declares",
        "real_salary": "N_Salaire_Reel",
        "capped_salary": "N_Salaire_Plaf",
        "situation": "L_Situation",
        "control": "S_Ctr",
    },
    "B04": {
        **_COMMON,
        "cnss_number": "N_Num_Assure",
        "declared_name": "L_Nom_Prenom",
        "cin": "L_Num_CIN",
        "days": "N_Nbr_Jours",
        "real_salary": "N_Sal_Reel",
        "capped_salary": "N_Sal_Plaf",
        "control": "S_Ctr",
    },
    "B03": dict(_COMMON),
    "B05": dict(_COMMON),
    "B06": dict(_COMMON),
}
_TEXT_KEYS = frozenset({"affiliation", "period", "cnss_number", "declared_name", "situation", "cin"})
ROW_KEYS = (*FIELD_NAMES["B02"], "cin", "rank")
# What a record without the field holds: a B04 has no situation (rank 0) nor
# family allowances, a B02 no CIN.
_ABSENT = {"cin": "", "situation": "", "children": 0, "af_due": 0, "af_deducted": 0, "af_net": 0, "af_returned": 0}

Row = dict[str, object]


@dataclass(frozen=True)
class EbdsIssue:
    """One problem in a file: the line (1-based, 0 for the whole file), the field
    name from the specification, and a translated reason; ``code`` names the
    rule of ``RULES`` that found it (blank for the format and header checks)."""

    line: int
    field: str
    reason: str
    code: str = field(default="", compare=False)

    def __str__(self) -> str:
        return f"{self.line}: {self.field}: {self.reason}"


@dataclass(frozen=True)
class Context:
    """What a line is judged against: the salary ceiling (centimes), the most
    days in a month, and the employer header (B01) once read."""

    ceiling: int
    max_days: int
    affiliation: str | None = None
    period: str | None = None
    header_line: int = 0

    def sql_params(self) -> dict[str, object]:
        return {
            "ceiling": self.ceiling,
            "max_days": self.max_days,
            "affiliation": self.affiliation,
            "period": self.period,
        }


@dataclass(frozen=True)
class Rule:
    code: str
    field: str
    records: frozenset[str]
    message: Callable[[Row, Context], str]

    def field_name(self, record_type: str) -> str:
        return FIELD_NAMES.get(record_type, {}).get(self.field, self.field)

    def issue(self, record_type: str, line: int, row: Row, context: Context, *, field_name: str = "") -> EbdsIssue:
        """The problem this rule reports for ``row`` (on ``field_name`` if given:
        a total names its own field)."""
        return EbdsIssue(line, field_name or self.field_name(record_type), self.message(row, context), code=self.code)


@dataclass(frozen=True)
class LineRule(Rule):
    check: Callable[[Row, Context], bool] = lambda row, context: False
    sql: str | None = None
    # Judged with the other records' header checks (all records after B01),
    # before the employee rules.
    against_header: bool = False


def record_row(record_type: str, values: dict[str, str], numbers: dict[str, int], *, sound: bool) -> Row:
    """The row of a record read by the parser (``values``: its fields as text;
    ``numbers``: its ``N`` fields that are numbers)."""
    row: Row = {key: None for key in ROW_KEYS}
    row.update(_ABSENT)
    for key, name in FIELD_NAMES[record_type].items():
        row[key] = values.get(name) if key in _TEXT_KEYS else numbers.get(name)
    if record_type in EMPLOYEE_RECORDS:
        row["declared_name"] = row["declared_name"] or ""
        row["cin"] = row["cin"] or ""
        row["situation"] = row["situation"] or ""
        row["rank"] = SITUATION_RANKS.get(row["situation"])
    if not sound:
        row["control"] = None
    return row


def expected_control(row: Row) -> int | None:
    """The control sum the fields of an employee line add up to (a B04 adds no
    family allowances and no rank); ``None`` if a term is not a number."""
    terms = (row["cnss_number"], row["af_returned"], row["days"], row["real_salary"], row["capped_salary"], row["rank"])
    if any(term is None for term in terms):
        return None
    return int(row["cnss_number"]) + sum(terms[1:])


# The same sum over the staging table (``rank`` is NULL for an unknown situation).
CONTROL_SQL = "cnss_number::numeric + af_returned + days + real_salary + capped_salary + rank"


def is_cin(value: str) -> bool:
    """The shape of a national ID number: 1 or 2 letters, then 1 to 6 digits."""
    letters = len(value) - len(value.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    digits = value[letters:]
    return 1 <= letters <= 2 and 1 <= len(digits) <= 6 and digits.isdigit() and digits.isascii()


def _differs(key: str) -> Callable[[Row, Context], bool]:
    def check(row: Row, context: Context) -> bool:
        expected = getattr(context, key)
        return row[key] is not None and expected is not None and row[key] != expected

    return check


AFFILIATION = LineRule(
    code="affiliation-differs",
    field="affiliation",
    records=AFTER_HEADER,
    message=lambda row, c: (
        _("The affiliation number %(value)s differs from the employer header's (line %(line)d): %(expected)s.")
        % {"value": row["affiliation"], "expected": c.affiliation, "line": c.header_line}
    ),
    check=_differs("affiliation"),
    sql="affiliation <> %(affiliation)s",
    against_header=True,
)
PERIOD = LineRule(
    code="period-differs",
    field="period",
    records=AFTER_HEADER,
    message=lambda row, c: (
        _("The period %(value)s differs from the employer header's (line %(line)d): %(expected)s.")
        % {"value": row["period"], "expected": c.period, "line": c.header_line}
    ),
    check=_differs("period"),
    sql="period <> %(period)s",
    against_header=True,
)
NAME = LineRule(
    code="name-blank",
    field="declared_name",
    records=EMPLOYEE_RECORDS,
    message=lambda row, c: _("The employee's name is blank."),
    check=lambda row, c: not row["declared_name"],
    sql="declared_name = ''",
)
SITUATION = LineRule(
    code="situation-unknown",
    field="situation",
    records=frozenset({"B02"}),
    message=lambda row, c: (
        _("Unknown situation code %(value)r (blank, SO, DE, IT, IL, AT, CS, MS or MP).") % {"value": row["situation"]}
    ),
    check=lambda row, c: row["situation"] not in SITUATION_RANKS,
    # The stage holds SITUATION_RANKS.get(situation): NULL for an unknown code.
    sql="rank IS NULL",
)
CIN = LineRule(
    code="cin-malformed",
    field="cin",
    records=frozenset({"B04"}),
    message=lambda row, c: (
        _("%(value)r is not a national ID number (CIN): 1 or 2 letters then 1 to 6 digits.") % {"value": row["cin"]}
    ),
    check=lambda row, c: bool(row["cin"]) and not is_cin(row["cin"]),
)
DAYS = LineRule(
    code="days-over-maximum",
    field="days",
    records=EMPLOYEE_RECORDS,
    message=lambda row, c: (
        _("%(days)d days declared: at most %(max)d days a month can be declared.")
        % {"days": row["days"], "max": c.max_days}
    ),
    check=lambda row, c: row["days"] is not None and row["days"] > c.max_days,
    sql="days > %(max_days)s",
)
CAPPED = LineRule(
    code="capped-salary",
    field="capped_salary",
    records=EMPLOYEE_RECORDS,
    message=lambda row, c: (
        _("The capped salary is %(value)d; it must be the real salary capped at %(ceiling)d: %(expected)d.")
        % {"value": row["capped_salary"], "ceiling": c.ceiling, "expected": min(row["real_salary"], c.ceiling)}
    ),
    check=lambda row, c: (
        row["real_salary"] is not None
        and row["capped_salary"] is not None
        and row["capped_salary"] != min(row["real_salary"], c.ceiling)
    ),
    sql="capped_salary <> least(real_salary, %(ceiling)s)",
)
CONTROL = LineRule(
    code="control-sum",
    field="control",
    records=EMPLOYEE_RECORDS,
    message=lambda row, c: (
        _("The control sum is %(value)d; the fields of the line add up to %(expected)d.")
        % {"value": row["control"], "expected": expected_control(row)}
    ),
    check=lambda row, c: (
        row["control"] is not None and (expected := expected_control(row)) is not None and row["control"] != expected
    ),
    sql=f"control <> {CONTROL_SQL}",
)
# Across lines: a CNSS number at most once per file, B02 and B04 together. The
# row holds ``cnss_number`` and ``first_line``, the line it was first seen on.
DUPLICATE = Rule(
    code="cnss-number-twice",
    field="cnss_number",
    records=EMPLOYEE_RECORDS,
    message=lambda row, c: (
        _("CNSS number %(value)s is declared twice in this file (first on line %(first)d).")
        % {"value": row["cnss_number"], "first": row["first_line"]}
    ),
)
# A totals record (B03, B05, B06) against its lines; reported on the total's own
# field. The row holds ``value`` (the record's) and ``expected`` (the lines').
TOTALS = Rule(
    code="total-differs",
    field="total",
    records=frozenset({"B03", "B05", "B06"}),
    message=lambda row, c: (
        _("The total is %(value)d; the lines add up to %(expected)d.")
        % {"value": row["value"], "expected": row["expected"]}
    ),
)

# Every rule, in the order the parser reports a line's problems.
RULES: tuple[Rule, ...] = (AFFILIATION, PERIOD, NAME, SITUATION, CIN, DAYS, CAPPED, CONTROL, DUPLICATE, TOTALS)
HEADER_RULES = tuple(r for r in RULES if isinstance(r, LineRule) and r.against_header)
EMPLOYEE_RULES = {
    record_type: tuple(
        r for r in RULES if isinstance(r, LineRule) and not r.against_header and record_type in r.records
    )
    for record_type in sorted(EMPLOYEE_RECORDS)
}
# What the fast path checks in SQL on its staged B02 lines.
STAGED_RULES = tuple(r for r in RULES if isinstance(r, LineRule) and "B02" in r.records)


def check_registry(rules: tuple[Rule, ...]) -> None:
    """Refuse a rule set the two paths could not both apply: a code used twice,
    a rule of B02 lines without SQL, a field that is not a row key."""
    codes = [rule.code for rule in rules]
    if len(set(codes)) != len(codes):
        raise AssertionError(f"e-BDS rule codes repeat: {codes}")
    for rule in rules:
        if not isinstance(rule, LineRule):
            continue
        if "B02" in rule.records and not rule.sql:
            raise AssertionError(f"e-BDS rule {rule.code} applies to B02 lines but has no SQL predicate")
        if rule.field not in ROW_KEYS:
            raise AssertionError(f"e-BDS rule {rule.code} reports {rule.field!r}, which is not a row key")


check_registry(RULES)
