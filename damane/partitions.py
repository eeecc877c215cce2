"""Monthly RANGE partitions on PostgreSQL, on the server's own machinery.

Two tables are partitioned by month (docs/scaling.md): the declaration lines, on
their period (``'YYYYMM'`` text), and the stored certificate PDFs, on their issue
date. Each has one partition a month, named ``<table>_yYYYYmMM``, and a
``<table>_default`` partition that catches a row whose month has no partition
yet (a late backfill of an old period, a clock far ahead); the daily beat job
creates the months ahead and moves any month found in the default partition into
its own. Dropping a month (the PDF retention) is ``DETACH`` then ``DROP``: no
row-by-row delete, no vacuum, no bloat.

A partitioned table's primary key must hold its partition key, so these tables
keep Django's ``id`` (from a sequence, not an identity column: PostgreSQL before
17 refuses identity columns on partitioned tables) with a primary key of
``(id, <key>)`` in SQL; the ORM still reads and writes rows by ``id``
(docs/decisions.md, "Partitioned tables keep their id").

Everything here takes a DB-API cursor on PostgreSQL; other databases (the
SQLite demo) keep plain tables and never call it.
"""

# SQL here names tables, partitions and columns from this code's own constants; values are parameters.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def month_of(day: date) -> date:
    return day.replace(day=1)


@dataclass(frozen=True)
class MonthlyTable:
    """A table partitioned by RANGE on ``column``, one partition a month.

    ``table`` is the partitioned parent; ``prefix`` names its partitions (the
    final table name, also while a conversion builds the table under another
    name). ``text_period`` says the key is a ``'YYYYMM'`` period, else a date.
    """

    table: str
    column: str
    text_period: bool
    prefix: str = ""

    @property
    def partition_prefix(self) -> str:
        return self.prefix or self.table

    @property
    def default_partition(self) -> str:
        return f"{self.partition_prefix}_default"

    def partition_name(self, month: date) -> str:
        return f"{self.partition_prefix}_y{month:%Y}m{month:%m}"

    def bound(self, month: date) -> str:
        """The SQL literal of the first key value of ``month``."""
        return f"'{month:%Y%m}'" if self.text_period else f"'{month.isoformat()}'::date"

    def month_expression(self) -> str:
        """SQL giving a row's month as a ``date``, for the rows of the default partition."""
        if self.text_period:
            return f"to_date({self.column}, 'YYYYMM')"
        return f"date_trunc('month', {self.column})::date"

    def range_of(self, month: date) -> str:
        return f"FROM ({self.bound(month)}) TO ({self.bound(add_months(month, 1))})"

    def within(self, month: date) -> str:
        return f"{self.column} >= {self.bound(month)} AND {self.column} < {self.bound(add_months(month, 1))}"


def is_partitioned(cursor, table: str) -> bool:
    cursor.execute(
        "SELECT relkind = 'p' FROM pg_class WHERE relname = %s AND relnamespace = current_schema()::regnamespace",
        [table],
    )
    row = cursor.fetchone()
    return bool(row and row[0])


def table_exists(cursor, table: str) -> bool:
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [table])
    return cursor.fetchone()[0]


def columns(cursor, table: str) -> list[str]:
    cursor.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = %s ORDER BY ordinal_position",
        [table],
    )
    return [row[0] for row in cursor.fetchall()]


def monthly_partitions(cursor, spec: MonthlyTable) -> dict[date, str]:
    """The month partitions of ``spec.table``, by month (the default one left out)."""
    cursor.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass",
        [spec.table],
    )
    found = {}
    head = f"{spec.partition_prefix}_y"
    for (name,) in cursor.fetchall():
        tail = name[len(head) :] if name.startswith(head) else ""
        if len(tail) == 7 and tail[4] == "m" and tail[:4].isdigit() and tail[5:].isdigit():
            found[date(int(tail[:4]), int(tail[5:]), 1)] = name
    return found


def _lock(cursor, spec: MonthlyTable) -> None:
    # One creator at a time per table (the beat job, a migration, the command).
    cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"damane.partitions.{spec.partition_prefix}"])


def ensure_months(cursor, spec: MonthlyTable, months: Iterable[date]) -> list[str]:
    """Create the partitions of ``months`` that are missing, and of any month in the default one.

    A month whose rows sit in the default partition is moved out in the same
    transaction (its rows copied into a new table, deleted from the default,
    the table attached), since PostgreSQL refuses a partition whose rows the
    default partition already holds. Returns the partitions created.
    """
    _lock(cursor, spec)
    existing = monthly_partitions(cursor, spec)
    wanted = {month_of(m) for m in months}
    if table_exists(cursor, spec.default_partition):
        cursor.execute(f"SELECT DISTINCT {spec.month_expression()} FROM {spec.default_partition}")
        stray = {row[0] for row in cursor.fetchall()}
    else:
        stray = set()
    created = []
    for month in sorted((wanted | stray) - existing.keys()):
        name = spec.partition_name(month)
        if month in stray:
            cursor.execute(f"LOCK TABLE {spec.default_partition} IN EXCLUSIVE MODE")
            cursor.execute(f"CREATE TABLE {name} (LIKE {spec.table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
            cursor.execute(f"INSERT INTO {name} SELECT * FROM {spec.default_partition} WHERE {spec.within(month)}")
            cursor.execute(f"DELETE FROM {spec.default_partition} WHERE {spec.within(month)}")
            cursor.execute(f"ALTER TABLE {spec.table} ATTACH PARTITION {name} FOR VALUES {spec.range_of(month)}")
        else:
            cursor.execute(f"CREATE TABLE {name} PARTITION OF {spec.table} FOR VALUES {spec.range_of(month)}")
        created.append(name)
    return created


def ensure_default(cursor, spec: MonthlyTable) -> None:
    cursor.execute(f"CREATE TABLE IF NOT EXISTS {spec.default_partition} PARTITION OF {spec.table} DEFAULT")


def drop_months_before(cursor, spec: MonthlyTable, cutoff: date) -> list[str]:
    """Detach and drop every month partition before ``cutoff``; delete older rows of the default one."""
    _lock(cursor, spec)
    # Deferred foreign-key checks of rows written earlier in this transaction run
    # now: PostgreSQL refuses to drop a table with pending trigger events.
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    dropped = []
    for month, name in sorted(monthly_partitions(cursor, spec).items()):
        if month < month_of(cutoff):
            cursor.execute(f"ALTER TABLE {spec.table} DETACH PARTITION {name}")
            cursor.execute(f"DROP TABLE {name}")
            dropped.append(name)
    if table_exists(cursor, spec.default_partition):
        cursor.execute(f"DELETE FROM {spec.default_partition} WHERE {spec.column} < {spec.bound(month_of(cutoff))}")
    return dropped


@dataclass(frozen=True)
class Conversion:
    """How a plain table becomes a partitioned one under the same name.

    ``keys`` are the statements (formatted with ``{table}``, the table being
    built) that add its primary key, unique constraints and indexes; each names
    its object ``<final name>_p`` while the plain table still holds the final
    name, and ``renames`` gives, per object, ``(kind, final name)`` where kind
    is ``constraint`` or ``index``.
    """

    spec: MonthlyTable
    keys: tuple[str, ...]
    renames: tuple[tuple[str, str], ...]

    @property
    def table(self) -> str:
        return self.spec.table

    @property
    def shadow(self) -> str:
        return f"{self.spec.table}_partitioned"

    @property
    def shadow_spec(self) -> MonthlyTable:
        return MonthlyTable(self.shadow, self.spec.column, self.spec.text_period, prefix=self.spec.table)

    @property
    def sequence(self) -> str:
        return f"{self.shadow}_id_seq"

    @property
    def mirror(self) -> str:
        return f"{self.spec.table}_mirror"


def create_shadow(cursor, conversion: Conversion, months: Iterable[date]) -> None:
    """The partitioned twin of the table, empty, with its keys and its months."""
    table, shadow = conversion.table, conversion.shadow
    cursor.execute(
        f"CREATE TABLE {shadow} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE "
        f"INCLUDING COMPRESSION) PARTITION BY RANGE ({conversion.spec.column})"
    )
    cursor.execute(f"CREATE SEQUENCE {conversion.sequence} AS bigint OWNED BY {shadow}.id")
    cursor.execute(f"ALTER TABLE {shadow} ALTER COLUMN id SET DEFAULT nextval('{conversion.sequence}')")
    for statement in conversion.keys:
        cursor.execute(statement.format(table=shadow))
    ensure_default(cursor, conversion.shadow_spec)
    ensure_months(cursor, conversion.shadow_spec, months)


def install_mirror(cursor, conversion: Conversion) -> None:
    """Every write to the plain table, repeated on its twin while the batches copy."""
    names = columns(cursor, conversion.table)
    column_list = ", ".join(names)
    values = ", ".join(f"NEW.{name}" for name in names)
    updates = ", ".join(f"{name} = EXCLUDED.{name}" for name in names if name not in ("id", conversion.spec.column))
    key = f"id, {conversion.spec.column}"
    column = conversion.spec.column
    cursor.execute(
        f"""
        CREATE OR REPLACE FUNCTION {conversion.mirror}() RETURNS trigger AS $$
        BEGIN
            IF TG_OP <> 'INSERT' THEN
                DELETE FROM {conversion.shadow} WHERE id = OLD.id AND {column} = OLD.{column};
            END IF;
            IF TG_OP <> 'DELETE' THEN
                INSERT INTO {conversion.shadow} ({column_list}) VALUES ({values})
                ON CONFLICT ({key}) DO UPDATE SET {updates};
            END IF;
            RETURN NULL;
        END;
        $$ LANGUAGE plpgsql;
        CREATE TRIGGER {conversion.mirror} AFTER INSERT OR UPDATE OR DELETE ON {conversion.table}
            FOR EACH ROW EXECUTE FUNCTION {conversion.mirror}();
        """
    )


def copy_batch(cursor, conversion: Conversion, first_id: int, last_id: int) -> int:
    """Copy the rows ``first_id <= id <= last_id``; rows the mirror already wrote stay as they are."""
    column_list = ", ".join(columns(cursor, conversion.table))
    cursor.execute(
        f"INSERT INTO {conversion.shadow} ({column_list}) SELECT {column_list} FROM {conversion.table} "
        f"WHERE id BETWEEN %s AND %s ON CONFLICT DO NOTHING",
        [first_id, last_id],
    )
    return cursor.rowcount


def swap(cursor, conversion: Conversion) -> None:
    """Under an exclusive lock: make both tables agree, drop the plain one, give its name to the twin."""
    table, shadow = conversion.table, conversion.shadow
    column_list = ", ".join(columns(cursor, table))
    cursor.execute(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")
    cursor.execute(f"SELECT count(*) FROM {table}")
    plain = cursor.fetchone()[0]
    cursor.execute(f"SELECT count(*) FROM {shadow}")
    if cursor.fetchone()[0] != plain:
        # A row deleted while its batch copied it: repair both ways, then count again.
        cursor.execute(f"DELETE FROM {shadow} s WHERE NOT EXISTS (SELECT 1 FROM {table} t WHERE t.id = s.id)")
        cursor.execute(f"INSERT INTO {shadow} ({column_list}) SELECT {column_list} FROM {table} ON CONFLICT DO NOTHING")
        cursor.execute(f"SELECT count(*) FROM {shadow}")
        if cursor.fetchone()[0] != plain:
            raise RuntimeError(f"{shadow} does not hold the rows of {table}; nothing swapped")
    cursor.execute(f"DROP TRIGGER IF EXISTS {conversion.mirror} ON {table}")
    cursor.execute(f"DROP FUNCTION IF EXISTS {conversion.mirror}()")
    cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}")
    top = cursor.fetchone()[0]
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
    (old_sequence,) = cursor.fetchone()
    if old_sequence:
        cursor.execute(f"SELECT last_value, is_called FROM {old_sequence}")
        last, called = cursor.fetchone()
        top = max(top, last if called else last - 1)
    cursor.execute(f"DROP TABLE {table}")
    cursor.execute(f"ALTER TABLE {shadow} RENAME TO {table}")
    cursor.execute(f"ALTER SEQUENCE {conversion.sequence} RENAME TO {table}_id_seq")
    if top > 0:
        cursor.execute(f"SELECT setval('{table}_id_seq', %s)", [top])
    for kind, name in conversion.renames:
        if kind == "constraint":
            cursor.execute(f"ALTER TABLE {table} RENAME CONSTRAINT {name}_p TO {name}")
        else:
            cursor.execute(f"ALTER INDEX {name}_p RENAME TO {name}")


def convert_at_once(cursor, conversion: Conversion, months: Iterable[date]) -> None:
    """The whole conversion in the caller's transaction (a migration on a small or idle table)."""
    create_shadow(cursor, conversion, months)
    column_list = ", ".join(columns(cursor, conversion.table))
    cursor.execute(f"INSERT INTO {conversion.shadow} ({column_list}) SELECT {column_list} FROM {conversion.table}")
    swap(cursor, conversion)
