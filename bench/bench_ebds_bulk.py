"""e-BDS import speed for known employees (B02) on the 24th monthly period.

    createdb -h 127.0.0.1 -U postgres damane_bench_ebds
    .venv/bin/python bench/bench_ebds_bulk.py --database-url postgres://postgres@127.0.0.1:5432/damane_bench_ebds \\
        [--employees 50000] [--periods 24]

The database must be empty (it is migrated here) and is PostgreSQL's: the fast
path is. One employer declares the same ``--employees`` people every month: the
first period registers them (B04), the next ``--periods - 2`` declare them again
(B02), all through ``import_ebds``; then the last period is timed.

The floor, measured in the same run on the same rows: a bare ``COPY`` of the
already-parsed lines into an unindexed table shaped like the declaration lines.
The figure to compare across runs is the ratio import / floor; lines/s are
printed too. Peak RSS growth during the timed import shows whether memory
follows the file (the text itself is held once, as it is stored) or the lines.
"""

import argparse
import os
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--employees", type=int, default=50_000)
    parser.add_argument("--periods", type=int, default=24)
    parser.add_argument("--database-url", required=True)
    args = parser.parse_args()

    os.environ["DAMANE_VAR_DIR"] = tempfile.mkdtemp(prefix="damane-bench-")
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "damane.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, transaction

    from declarations import bulk
    from declarations.ebds import EbdsDeclaration, EbdsLine, write_ebds
    from declarations.models import DeclarationLine
    from declarations.periods import Period
    from declarations.services import import_ebds
    from registry.models import Employment

    call_command("migrate", verbosity=0)
    ceiling = settings.DAMANE_SALARY_CEILING_CENTIMES
    last = Period.of(date.today()) - 1
    periods = [last - (args.periods - 1 - i) for i in range(args.periods)]

    def file_for(period: Period, *, new: bool) -> str:
        lines = [
            EbdsLine(
                cnss_number=f"{300000000 + i:09d}",
                name=f"EMPLOYE{i} PRENOM",
                days=12 + (i + period.month) % 8,  # B03 holds at most 999,999 days
                real_salary=300_000 + ((i + period.month) % 50) * 17_000,
                cin=f"X{i:06d}" if new else "",
                situation="" if new or (i + period.month) % 97 else "CS",
                is_new=new,
            )
            for i in range(args.employees)
        ]
        declaration = EbdsDeclaration(
            affiliation_number="7654321", period=period, employer_name="GRANDE ENTREPRISE SA", lines=lines
        )
        return write_ebds(declaration, ceiling=ceiling)

    print(f"PostgreSQL {connection.pg_version}; {args.employees} employees, {args.periods} periods", flush=True)
    history = []
    for index, period in enumerate(periods[:-1]):
        text = file_for(period, new=index == 0)
        started = time.perf_counter()
        import_ebds(text=text, filename=f"DS_7654321_{period}.txt")
        seconds = time.perf_counter() - started
        history.append(seconds)
        kind = "B04" if index == 0 else "B02"
        print(f"  period {period} ({kind}): {seconds:.2f} s, {args.employees / seconds:,.0f} lines/s", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")

    text = file_for(periods[-1], new=False)
    # The floor: the same rows, parsed, copied into a bare table.
    rows = []
    with transaction.atomic(), connection.cursor() as cursor:
        bulk.open_stage(cursor)
        cursor.execute("DROP TABLE IF EXISTS bench_floor")
        cursor.execute("CREATE TABLE bench_floor AS SELECT * FROM ebds_stage WITH NO DATA")
        cursor.execute("DROP TABLE ebds_stage")
    with connection.cursor() as cursor:
        bulk.scan(text, ceiling=ceiling, max_days=26, copy=SimpleNamespace(write_row=rows.append))
        started = time.perf_counter()
        with cursor.copy(f"COPY bench_floor ({bulk._STAGE_COLUMNS}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        floor_s = time.perf_counter() - started
        cursor.execute("DROP TABLE bench_floor")
    rows.clear()

    before_lines = DeclarationLine.objects.count()
    rss_before = rss_mb()
    started = time.perf_counter()
    result = import_ebds(text=text, filename=f"DS_7654321_{periods[-1]}.txt")
    import_s = time.perf_counter() - started
    rss_after = rss_mb()
    assert result.counts["employees"] == args.employees
    assert DeclarationLine.objects.count() == before_lines + args.employees
    assert Employment.objects.filter(last_period=str(periods[-1])).count() == args.employees

    rate = args.employees / import_s
    print()
    print(f"file: {len(text) / 1e6:.1f} MB; declaration lines in the database: {before_lines + args.employees:,}")
    print()
    print("| step | time | lines/s | ratio to floor |")
    print("|---|---:|---:|---:|")
    print(
        f"| floor: bare COPY of the {args.employees:,} parsed rows | {floor_s * 1000:.0f} ms | "
        f"{args.employees / floor_s:,.0f} | 1.00 |"
    )
    print(
        f"| import_ebds, period {len(periods)} (B02, after {len(periods) - 1} periods) | {import_s * 1000:.0f} ms "
        f"| {rate:,.0f} | {import_s / floor_s:.2f} |"
    )
    b02 = history[1:]
    if b02:
        print(
            f"| import_ebds, periods 2-{len(periods) - 1} (B02), median | {sorted(b02)[len(b02) // 2] * 1000:.0f} ms "
            f"| {args.employees / sorted(b02)[len(b02) // 2]:,.0f} | |"
        )
    print(
        f"| import_ebds, period 1 (B04, new employees) | {history[0] * 1000:.0f} ms | "
        f"{args.employees / history[0]:,.0f} | |"
    )
    print()
    print(f"RSS during the timed import: {rss_before:.0f} MB before, {rss_after:.0f} MB after")


if __name__ == "__main__":
    main()
