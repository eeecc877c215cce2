"""Where a small e-BDS file's time goes: statements, and Python under cProfile.

    .venv/bin/python bench/profile_ebds_files.py --database-url postgres://postgres@127.0.0.1:5432/damane_bench_files \\
        [--files 100] [--size 20] [--period 202611]

Run after ``bench/bench_ebds_files.py`` on the same database: it imports the
next period of ``--files`` small employers from ``--offset`` (``--size`` known
employees each) through ``call_command("import_ebds", ...)`` in this process,
counts the statements of each file and their time, and prints the functions
with the most cumulative CPU time (this process's: the server's is not in it).
"""

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--size", type=int, default=20)
    parser.add_argument("--offset", type=int, default=0, help="the first employer (a file imports once)")
    parser.add_argument("--period", required=True, help="YYYYMM, after the periods already imported")
    args = parser.parse_args()

    os.environ["DAMANE_VAR_DIR"] = tempfile.mkdtemp(prefix="damane-bench-")
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "damane.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from declarations.ebds import EbdsDeclaration, EbdsLine, write_ebds
    from declarations.periods import Period

    period = Period.parse(args.period)
    folder = Path(tempfile.mkdtemp(prefix="damane-profile-"))
    paths = []
    for employer in range(args.offset, args.offset + args.files):
        lines = [
            EbdsLine(
                cnss_number=f"{400000000 + employer * 10_000 + i:09d}",
                name=f"EMPLOYE{employer}X{i} PRENOM",
                days=12 + (i + period.month) % 14,
                real_salary=300_000 + ((i + period.month) % 50) * 17_000,
            )
            for i in range(args.size)
        ]
        text = write_ebds(
            EbdsDeclaration(
                affiliation_number=f"{5_000_000 + employer:07d}",
                period=period,
                employer_name=f"EMPLOYEUR {employer}",
                lines=lines,
            ),
            ceiling=settings.DAMANE_SALARY_CEILING_CENTIMES,
        )
        path = folder / f"DS_{employer}_{period}.txt"
        path.write_text(text)
        paths.append(str(path))

    statements = Counter()
    spent = Counter()

    def count(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            key = " ".join(sql.split())[:90]
            if key.startswith(("SAVEPOINT", "RELEASE SAVEPOINT")):
                key = key.split('"')[0]
            statements[key] += 1
            spent[key] += time.perf_counter() - started

    # CPU time, not wall time: on a shared machine the waits follow the load.
    profiler = cProfile.Profile(time.process_time)
    started = time.perf_counter()
    with connection.execute_wrapper(count):
        profiler.enable()
        call_command("import_ebds", *paths, "--progress", "never", stdout=io.StringIO())
        profiler.disable()
    seconds = time.perf_counter() - started
    print(f"{args.files} files of {args.size} lines: {seconds:.2f} s, {seconds / args.files * 1000:.1f} ms a file")
    print(f"statements a file: {sum(statements.values()) / args.files:.1f}")
    for key, number in statements.most_common():
        print(f"  {number / args.files:5.1f} a file {spent[key] / args.files * 1000:6.2f} ms  {key}")
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    main()
