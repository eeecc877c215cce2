"""Audit export: how fast the CSV streams and how much memory it takes, on PostgreSQL.

    .venv/bin/python bench/bench_audit_export.py [--entries 200000] [--database-url postgres://...]

Creates a throw-away database (``damane_bench_audit_export`` on the local server
unless --database-url names another), migrates it, writes ``--entries`` audit
entries with one INSERT ... SELECT over generate_series, then exports them all
the way the view does (``audit_export_record`` then ``csv_lines(export_rows(...))``)
and reports the time to the first line, the total time, rows per second, the CSV
size and how much the process's peak RSS grew. The database is dropped at the end.
"""

import argparse
import os
import platform
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=200_000)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/damane_bench_audit_export")
    args = parser.parse_args()

    import psycopg

    name = args.database_url.rsplit("/", 1)[1]
    admin_url = args.database_url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "damane.settings")
    os.environ.setdefault("DJANGO_DEBUG", "true")
    os.environ.pop("REDIS_URL", None)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections

    from accounts.models import User
    from audit import export, services
    from backoffice.audit_trail import selectors

    try:
        call_command("migrate", verbosity=0)
        with connection.cursor() as cursor:
            cursor.execute(
                """
                INSERT INTO audit_auditentry (at, action, actor_label, object_type, object_id, reason, before, after)
                SELECT now() - (n || ' seconds')::interval, 'backoffice.insured.viewed', 'agent.casa',
                       'registry.insured', n::text, CASE WHEN n %% 10 = 0 THEN '=cmd|x' ELSE 'vu au guichet' END,
                       '{"last_name": "BENNANI"}'::jsonb, '{"last_name": "BENNANI", "note": "الاسم"}'::jsonb
                FROM generate_series(1, %s) AS n
                """,
                [args.entries],
            )
        supervisor = User.objects.create_user(username="bench.supervisor", is_staff=True)
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        _record, entries = services.audit_export_record(actor=supervisor, filters={}, entries=selectors.audit_entries())
        lines = export.csv_lines(export.export_rows(entries))
        size = len(next(lines).encode())
        first = time.perf_counter() - started
        rows = 0
        for line in lines:
            size += len(line.encode())
            rows += 1
        total = time.perf_counter() - started
        rss_growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    finally:
        connections.close_all()
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"rows exported: {rows}")
    print(f"first line after: {first * 1000:.0f} ms (export row, its audit entry, the count)")
    print(f"total: {total:.2f} s, {rows / total:,.0f} rows/s, CSV {size / 1e6:.1f} MB")
    print(f"peak RSS growth during the export: {rss_growth:.1f} MB")


if __name__ == "__main__":
    main()
