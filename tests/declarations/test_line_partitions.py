"""Declaration lines partitioned by period on PostgreSQL (declarations/partitioning.py, docs/scaling.md).

The plans are read with sequential scans priced out, as in tests/test_query_plans.py:
a test database is too small for the planner to prefer an index on its own.
"""

# SQL here names tables, partitions and columns from this code's own constants; values are parameters.
# ruff: noqa: S608

import io
import re
from datetime import date

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from damane import partitions
from declarations import partitioning
from declarations.models import DeclarationLine
from declarations.status import expected_period
from declarations.tasks import create_line_partitions
from registry.models import Insured
from tests.accounts.accounts_testkit import employ, make_employer

pytestmark = pytest.mark.django_db

TABLE = partitioning.TABLE


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("partitions are PostgreSQL's")


def explain(sql: str, params=()) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def partitions_read(plan: str) -> set[str]:
    return set(re.findall(rf"on ({TABLE}_(?:y\d{{4}}m\d{{2}}|default))", plan))


def month_partitions() -> dict:
    with connection.cursor() as cursor:
        return partitions.monthly_partitions(cursor, partitioning.LINES)


FIRST = expected_period(timezone.localdate()) - 39


@pytest.fixture
def amina(client, django_user_model):
    """Forty months of career with two employers, each month in its own partition, signed in."""
    insured = Insured.objects.create(
        cnss_number="100234561",
        cin="BE123456",
        last_name="BENNANI",
        first_name="AMINA",
        birth_date=date(1984, 5, 14),
        registered_on=FIRST.first_day,
    )
    employ(insured, make_employer("2345678", "MAROC DIGITAL SERVICES SA"), FIRST, FIRST + 30)
    employ(insured, make_employer("4567890", "BATIMENTS DU SOUSS SARL"), FIRST + 31, FIRST + 39)
    create_line_partitions()
    user = django_user_model.objects.create_user(username=insured.cnss_number, password="x" * 20, insured=insured)
    client.force_login(user)
    return insured


def test_the_lines_table_is_partitioned_by_period_with_this_month_and_the_next_ones_ready():
    with connection.cursor() as cursor:
        assert partitions.is_partitioned(cursor, TABLE)
        cursor.execute(f"SELECT pg_get_partkeydef('{TABLE}'::regclass)")
        assert cursor.fetchone()[0] == "RANGE (period)"
    this_month = timezone.localdate().replace(day=1)
    ready = month_partitions()
    for ahead in range(0, 4):
        assert partitions.add_months(this_month, ahead) in ready


def test_the_daily_job_moves_a_month_out_of_the_default_partition_and_creates_none_twice(amina):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {TABLE}_default")
        assert cursor.fetchone()[0] == 0
    ready = month_partitions()
    assert FIRST.first_day in ready  # her first period, moved out of the default partition
    assert create_line_partitions() == []
    assert DeclarationLine.objects.filter(insured=amina, period=str(FIRST)).exists()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {ready[FIRST.first_day]} WHERE insured_id = %s", [amina.pk])
        assert cursor.fetchone()[0] == 1


def test_the_dashboard_reads_only_the_partitions_of_its_twelve_months(client, amina):
    assert len(month_partitions()) > 40
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/me/").status_code == 200
    reads = [q["sql"] for q in queries if TABLE in q["sql"]]
    assert len(reads) == 1
    plan = explain(reads[0])
    last = expected_period(timezone.localdate())
    wanted = {f"{TABLE}_y{str(last - n)[:4]}m{str(last - n)[4:]}" for n in range(12)}
    assert partitions_read(plan) == wanted, plan
    assert "Seq Scan" not in plan


def test_the_certificates_read_a_whole_career_as_one_index_probe_per_partition(client, amina):
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/certificates/").status_code == 200
    reads = [q["sql"] for q in queries if TABLE in q["sql"]]
    assert reads
    for sql in reads:
        plan = explain(sql)
        assert "Seq Scan" not in plan, plan
        # An index scan, an index-only scan or a bitmap scan (the planner's choice with the
        # statistics of the moment): each reads its partition through an index, once.
        probes = re.findall(
            rf"(?:Index Scan|Index Only Scan) using \S+ on ({TABLE}_\S+)|Bitmap Heap Scan on ({TABLE}_\S+)", plan
        )
        probes = [index_scan or bitmap_scan for index_scan, bitmap_scan in probes]
        assert len(probes) == len(set(probes)) == len(partitions_read(plan)), plan


def test_an_import_statement_on_one_declaration_reads_its_own_partition(amina):
    line = DeclarationLine.objects.filter(insured=amina).order_by("-period").first()
    plan = explain(
        f"SELECT insured_id FROM {TABLE} l WHERE l.declaration_id = %s AND l.period = %s",
        [line.declaration_id, line.period],
    )
    assert partitions_read(plan) == {f"{TABLE}_y{line.period[:4]}m{line.period[4:]}"}, plan


def _plain_lines_table(cursor):
    """The lines table as before migration 0005, inside the test's transaction (rolled back after)."""
    cursor.execute(f"CREATE TABLE saved_lines AS SELECT * FROM {TABLE}")
    cursor.execute(f"DROP TABLE {TABLE}")
    with connection.schema_editor(atomic=False) as editor:
        editor.create_model(DeclarationLine)
    columns = ", ".join(partitions.columns(cursor, TABLE))
    cursor.execute(f"INSERT INTO {TABLE} ({columns}) OVERRIDING SYSTEM VALUE SELECT {columns} FROM saved_lines")
    cursor.execute(f"SELECT setval(pg_get_serial_sequence('{TABLE}', 'id'), (SELECT max(id) FROM {TABLE}))")
    assert not partitions.is_partitioned(cursor, TABLE)


def test_the_command_converts_a_plain_table_in_batches_and_the_ids_go_on(amina):
    with connection.cursor() as cursor:
        _plain_lines_table(cursor)
        cursor.execute(f"SELECT array_agg(id ORDER BY id), max(id) FROM {TABLE}")
        ids, top = cursor.fetchone()
    call_command("partition_lines", batch_size=7, stdout=io.StringIO())
    with connection.cursor() as cursor:
        assert partitions.is_partitioned(cursor, TABLE)
        cursor.execute(f"SELECT array_agg(id ORDER BY id) FROM {TABLE}")
        assert cursor.fetchone()[0] == ids
        cursor.execute(f"SELECT count(*) FROM {TABLE}_default")
        assert cursor.fetchone()[0] == 0
    assert FIRST.first_day in month_partitions()
    # The ORM writes on: a new line takes the next id, in its month's partition.
    line = DeclarationLine.objects.filter(insured=amina).order_by("period").first()
    line.pk = None
    line.period = str(FIRST - 1)
    line.save()
    assert line.pk > top
    assert DeclarationLine.objects.filter(insured=amina).count() == len(ids) + 1


def test_writes_during_the_batches_reach_the_partitioned_table(amina):
    conversion = partitioning.CONVERSION
    with connection.cursor() as cursor:
        _plain_lines_table(cursor)
        partitions.create_shadow(cursor, conversion, partitioning.months_to_create(cursor, today=timezone.localdate()))
        partitions.install_mirror(cursor, conversion)
        cursor.execute(f"SELECT min(id), max(id) FROM {TABLE}")
        first, last = cursor.fetchone()
        partitions.copy_batch(cursor, conversion, first, first + 20)
        # A correction while the batches run: an early line (copied) and a late one (not yet) change.
        DeclarationLine.objects.filter(id__in=[first, last]).update(is_current=False)
        partitions.copy_batch(cursor, conversion, first + 21, last)
        partitions.swap(cursor, conversion)
        assert partitions.is_partitioned(cursor, TABLE)
    assert set(DeclarationLine.objects.filter(is_current=False).values_list("id", flat=True)) == {first, last}
    assert DeclarationLine.objects.filter(insured=amina).count() == last - first + 1


def test_the_migration_converts_a_plain_table_at_once(amina):
    from importlib import import_module

    from django.apps import apps

    migration = import_module("declarations.migrations.0005_lines_partitioned_by_period")
    before = DeclarationLine.objects.count()
    with connection.cursor() as cursor:
        _plain_lines_table(cursor)
    with connection.schema_editor(atomic=False) as editor:
        migration.partition(apps, editor)
    with connection.cursor() as cursor:
        assert partitions.is_partitioned(cursor, TABLE)
    assert DeclarationLine.objects.count() == before
    assert FIRST.first_day in month_partitions()
