"""e-BDS benchmark: parse and write a large file, import it, and seed the demo.

    .venv/bin/python bench/bench_ebds.py [--employees 5000] [--database-url postgres://...]

Without --database-url it migrates a throw-away SQLite database in a temporary
folder; with one it must name an empty database that it may migrate. Prints a
Markdown table for docs/benchmarks.md.
"""

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def timed(fn, repeat=5):
    samples = []
    result = None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        samples.append(time.perf_counter() - started)
    return result, statistics.median(samples)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--employees", type=int, default=5000)
    parser.add_argument("--database-url")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="damane-bench-"))
    os.environ["DAMANE_VAR_DIR"] = str(workdir)
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "damane.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from declarations.ebds import EbdsDeclaration, EbdsLine, parse_ebds, write_ebds
    from declarations.periods import Period
    from declarations.services import import_ebds

    call_command("migrate", verbosity=0)
    ceiling = settings.DAMANE_SALARY_CEILING_CENTIMES
    period = Period.of(date.today()) - 1
    lines = [
        EbdsLine(
            cnss_number=f"{300000000 + i:09d}",
            name=f"EMPLOYE{i} PRENOM",
            days=26,
            real_salary=300_000 + (i % 50) * 17_000,
            cin=f"X{i % 999999:06d}"[:8],
            is_new=True,
        )
        for i in range(args.employees)
    ]
    declaration = EbdsDeclaration(
        affiliation_number="7654321", period=period, employer_name="GRANDE ENTREPRISE SA", lines=lines
    )
    text, write_s = timed(lambda: write_ebds(declaration, ceiling=ceiling))
    _, parse_s = timed(lambda: parse_ebds(text, ceiling=ceiling))
    started = time.perf_counter()
    result = import_ebds(text=text, filename="bench.txt")
    import_s = time.perf_counter() - started
    started = time.perf_counter()
    with open(os.devnull, "w") as quiet:
        call_command("seed_demo", "--no-files", verbosity=0, stdout=quiet)
    seed_s = time.perf_counter() - started
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"database: {connection.vendor}; file: {args.employees} employees, {len(text) / 1e6:.1f} MB")
    print()
    print("| step | time |")
    print("|---|---|")
    print(f"| write_ebds, {args.employees} lines (median of 5) | {write_s * 1000:.0f} ms |")
    print(f"| parse_ebds, {args.employees} lines (median of 5) | {parse_s * 1000:.0f} ms |")
    print(f"| import_ebds, {result.counts['new_employees']} new employees (one transaction) | {import_s:.2f} s |")
    print(f"| seed_demo (about 850 files, 360 people) | {seed_s:.1f} s |")
    print(f"| peak RSS of the process | {rss_mb:.0f} MB |")


if __name__ == "__main__":
    main()
