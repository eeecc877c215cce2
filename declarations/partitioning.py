"""Declaration lines partitioned by period on PostgreSQL (docs/scaling.md).

``declarations_declarationline`` is ``PARTITION BY RANGE (period)``, one partition
a month (``damane.partitions``). Its keys in SQL: primary key ``(id, period)``,
unique ``(declaration_id, insured_id, period)`` (a declaration has one period, so
this is the model's "once per declaration") and the person's index ``(insured_id,
is_current, period)`` on every partition: a person's whole career is one index
probe per partition, and a query bounded by period (the dashboard's last twelve
months, the import's statements on one declaration) reads only its partitions.

Converted by migration ``0005_lines_partitioned_by_period`` in its own
transaction, or beforehand on a live database by ``manage.py partition_lines``
(batches, then a short swap), after which the migration finds the table
partitioned and does nothing.
"""

# SQL here names tables, partitions and columns from this code's own constants; values are parameters.
# ruff: noqa: S608

from __future__ import annotations

from datetime import date

from django.conf import settings

from damane.partitions import Conversion, MonthlyTable, add_months, ensure_default, ensure_months, month_of

TABLE = "declarations_declarationline"
LINES = MonthlyTable(TABLE, "period", text_period=True)
PERSON_INDEX = "declaration_insured_9c9b9e_idx"
ONCE_PER_DECLARATION = "line_once_per_declaration"

CONVERSION = Conversion(
    spec=LINES,
    keys=(
        f"ALTER TABLE {{table}} ADD CONSTRAINT {TABLE}_pkey_p PRIMARY KEY (id, period)",
        f"ALTER TABLE {{table}} ADD CONSTRAINT {ONCE_PER_DECLARATION}_p UNIQUE (declaration_id, insured_id, period)",
        f"CREATE INDEX {PERSON_INDEX}_p ON {{table}} (insured_id, is_current, period)",
    ),
    renames=(("constraint", f"{TABLE}_pkey"), ("constraint", ONCE_PER_DECLARATION), ("index", PERSON_INDEX)),
)


def months_ahead(today: date) -> list[date]:
    """This month and the next ``DAMANE_PARTITIONS_AHEAD_MONTHS``, and last month (files arrive after it ends)."""
    first = add_months(month_of(today), -1)
    return [add_months(first, n) for n in range(settings.DAMANE_PARTITIONS_AHEAD_MONTHS + 2)]


def months_to_create(cursor, *, today: date) -> list[date]:
    """Every month from the oldest line's period to the months ahead."""
    cursor.execute(f"SELECT min(period) FROM {TABLE}")
    oldest = cursor.fetchone()[0]
    ahead = months_ahead(today)
    if not oldest:
        return ahead
    month = date(int(oldest[:4]), int(oldest[4:6]), 1)
    months = []
    while month <= ahead[-1]:
        months.append(month)
        month = add_months(month, 1)
    return months


def create_line_partitions(cursor, *, today: date) -> list[str]:
    """The beat job's work: the months ahead, and any month found in the default partition."""
    ensure_default(cursor, LINES)
    return ensure_months(cursor, LINES, months_ahead(today))
