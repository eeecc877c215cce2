"""Many small e-BDS files through one ``manage.py import_ebds`` process (issue 23 item 5).

    createdb -h 127.0.0.1 -U postgres damane_bench_files
    .venv/bin/python bench/bench_ebds_files.py --database-url postgres://postgres@127.0.0.1:5432/damane_bench_files \\
        [--small 500 --small-size 20] [--medium 40 --medium-size 1000]

Most employers declare a handful of people, so a national month is about 250,000
files, most of them small. The database must be empty (it is migrated here).
Period 1 registers every employee (B04 files, imported in this process, not
timed); period 2's files of known employees (B02) are then imported by one
``manage.py import_ebds`` process each batch, timed as a whole process, start
included: ``--small`` files of ``--small-size`` employees, then ``--medium``
files of ``--medium-size``. The floor is the same process importing nothing
(``import_ebds`` on one already-imported file, refused at once), which is the
interpreter, Django and the command's start.

Targets (docs/benchmarks.md): under 8 ms a small file, at least 30,000 lines/s
for the medium ones. The process's CPU time (user and system, from the child's
rusage) is printed too: on a shared machine the wall time follows the load, the
client's CPU much less (the server's CPU is not in it).
"""

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--small", type=int, default=500)
    parser.add_argument("--small-size", type=int, default=20)
    parser.add_argument("--medium", type=int, default=40)
    parser.add_argument("--medium-size", type=int, default=1000)
    args = parser.parse_args()

    os.environ["DAMANE_VAR_DIR"] = tempfile.mkdtemp(prefix="damane-bench-")
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "damane.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import transaction

    from declarations.ebds import EbdsDeclaration, EbdsLine, write_ebds
    from declarations.models import DeclarationLine
    from declarations.periods import Period
    from declarations.services import import_ebds

    call_command("migrate", verbosity=0)
    ceiling = settings.DAMANE_SALARY_CEILING_CENTIMES
    second = Period.of(date.today()) - 1
    first = second - 1

    groups = [("small", args.small, args.small_size, 0), ("medium", args.medium, args.medium_size, args.small)]

    def file_for(employer: int, size: int, period: Period, *, new: bool) -> str:
        lines = [
            EbdsLine(
                cnss_number=f"{400000000 + employer * 10_000 + i:09d}",
                name=f"EMPLOYE{employer}X{i} PRENOM",
                days=12 + (i + period.month) % 14,
                real_salary=300_000 + ((i + period.month) % 50) * 17_000,
                cin=f"{chr(65 + employer // 26 % 26)}{chr(65 + employer % 26)}{i:06d}" if new else "",
                is_new=new,
            )
            for i in range(size)
        ]
        return write_ebds(
            EbdsDeclaration(
                affiliation_number=f"{5_000_000 + employer:07d}",
                period=period,
                employer_name=f"EMPLOYEUR {employer}",
                lines=lines,
            ),
            ceiling=ceiling,
        )

    started = time.perf_counter()
    for _label, count, size, offset in groups:
        for employer in range(offset, offset + count):
            with transaction.atomic():
                import_ebds(text=file_for(employer, size, first, new=True), filename=f"DS_{employer}_{first}.txt")
    employers = sum(g[1] for g in groups)
    print(f"setup: period {first} (B04) for {employers} employers in {time.perf_counter() - started:.0f} s")

    folder = Path(tempfile.mkdtemp(prefix="damane-bench-files-"))
    manage = [sys.executable, str(ROOT / "manage.py"), "import_ebds", "--progress", "never"]

    cpu = {"last": 0.0}

    def run(paths: list[Path]) -> float:
        """The process's wall time; its CPU time (user + system) in ``cpu["last"]``."""
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        begun = time.perf_counter()
        done = subprocess.run([*manage, *map(str, paths)], capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - begun
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu["last"] = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        if done.returncode != 0 and len(paths) > 1:
            sys.exit(f"import_ebds failed:\n{done.stderr[-2000:]}")
        return seconds

    # The floor: one process that starts, reads one file already imported and refuses it.
    again = folder / "again.txt"
    again.write_text(file_for(0, args.small_size, first, new=True))
    floors = []
    for _ in range(3):
        floors.append((run([again]), cpu["last"]))
    floor, floor_cpu = min(floors)

    print()
    print("| files | lines a file | process time | per file | lines/s | process CPU | CPU a file |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| floor: the process refusing 1 file | {args.small_size} | {floor * 1000:.0f} ms | | | "
        f"{floor_cpu * 1000:.0f} ms | |"
    )
    for label, count, size, offset in groups:
        paths = []
        for employer in range(offset, offset + count):
            path = folder / f"DS_{employer}_{second}_{label}.txt"
            path.write_text(file_for(employer, size, second, new=False))
            paths.append(path)
        before = DeclarationLine.objects.count()
        seconds = run(paths)
        assert DeclarationLine.objects.count() == before + count * size
        print(
            f"| {count} | {size:,} | {seconds:.2f} s | {seconds / count * 1000:.1f} ms "
            f"(without the floor: {(seconds - floor) / count * 1000:.1f} ms) | {count * size / seconds:,.0f} | "
            f"{cpu['last']:.2f} s | {(cpu['last'] - floor_cpu) / count * 1000:.1f} ms |"
        )


if __name__ == "__main__":
    main()
