"""Fill a database at national scale through the real e-BDS import (docs/benchmarks.md)."""

import time
from datetime import date
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from declarations.ebds import EbdsDeclaration, EbdsLine, write_ebds
from declarations.models import Declaration
from declarations.periods import Period
from declarations.services import ImportRejected, import_ebds

# Numbers no real person or employer of the demo uses.
FIRST_CNSS_NUMBER = 400_000_000
FIRST_AFFILIATION = 5_000_000
CIN_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"


def cnss_number(index: int) -> str:
    return f"{FIRST_CNSS_NUMBER + index:09d}"


def cin(index: int) -> str:
    """A CIN of the right shape, unique for each index below 23 million."""
    return f"S{CIN_LETTERS[index // 1_000_000]}{index % 1_000_000}"


def employer_file(employer: int, period: Period, *, insured: int, employers: int, first: bool, ceiling: int) -> str:
    """The e-BDS file of one employer for one period: its people are every
    ``employers``-th insured person from index ``employer``. The first period
    declares them as new employees (B04), the others as known ones (B02)."""
    lines = []
    for index in range(employer, insured, employers):
        salary = 300_000 + (index * 7919 + period.month * 104_729) % 700_000  # 3,000 to 10,000 MAD
        lines.append(
            EbdsLine(
                cnss_number=cnss_number(index),
                name=f"SCALE{index} PRENOM",
                days=26 if (index + period.month) % 17 else 20,
                real_salary=salary,
                cin=cin(index) if first else "",
                situation="" if first or (index + period.month) % 53 else "CS",
                is_new=first,
            )
        )
    declaration = EbdsDeclaration(
        affiliation_number=f"{FIRST_AFFILIATION + employer:07d}",
        period=period,
        employer_name=f"ENTREPRISE {employer} SARL",
        city="CASABLANCA",
        lines=lines,
    )
    return write_ebds(declaration, ceiling=ceiling)


class Command(BaseCommand):
    help = (
        "Write e-BDS files for N insured people spread over M employers and P monthly periods (by default "
        "1,000,000, 50,000 and 24: about 24 million lines) and import them through import_ebds, period by "
        "period. Prints the time taken and the database size. Run it on a database of its own "
        "(createdb damane_scale; DATABASE_URL=postgres://.../damane_scale): it refuses a database that already "
        "holds declarations, unless --resume."
    )

    def add_arguments(self, parser):
        parser.add_argument("--insured", type=int, default=1_000_000, help="insured people (default 1,000,000)")
        parser.add_argument("--employers", type=int, default=50_000, help="employers (default 50,000)")
        parser.add_argument("--periods", type=int, default=24, help="monthly periods, ending last month (default 24)")
        parser.add_argument("--dir", default="var/scale", help="where the files are written (default var/scale)")
        parser.add_argument(
            "--resume", action="store_true", help="Go on after an interrupted run: files already imported are skipped."
        )
        parser.add_argument(
            "--keep-files",
            action="store_true",
            help="Keep the written files (by default each is deleted once imported).",
        )
        parser.add_argument("--progress", choices=["auto", "always", "never"], default="auto")

    def handle(self, *args, insured, employers, periods, dir, resume, keep_files, progress, **options):
        if insured < 1 or employers < 1 or periods < 1 or employers > insured:
            raise CommandError(
                "Give at least one insured person, employer and period, and no more employers than people."
            )
        if insured > 23_000_000 or employers > 5_000_000:
            raise CommandError("At most 23,000,000 insured people and 5,000,000 employers.")
        if Declaration.objects.exists() and not resume:
            raise CommandError("This database already holds declarations: use a database of its own, or --resume.")
        folder = Path(dir)
        folder.mkdir(parents=True, exist_ok=True)
        ceiling = settings.DAMANE_SALARY_CEILING_CENTIMES
        last = Period.of(date.today()) - 1
        months = [last - (periods - 1 - i) for i in range(periods)]

        console = Console(stderr=True)
        show = progress == "always" or (progress == "auto" and console.is_terminal)
        bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            disable=not show,
        )
        started = time.perf_counter()
        lines = files = skipped = 0
        timings = []
        with bar:
            task = bar.add_task("files", total=employers * periods)
            for number, period in enumerate(months):
                period_started = time.perf_counter()
                period_lines = 0
                bar.update(task, description=f"period {period}")
                for employer in range(employers):
                    text = employer_file(
                        employer, period, insured=insured, employers=employers, first=number == 0, ceiling=ceiling
                    )
                    name = f"DS_{FIRST_AFFILIATION + employer:07d}_{period}.txt"
                    path = folder / name
                    path.write_text(text, encoding="ascii", newline="")
                    try:
                        result = import_ebds(text=path.read_text(encoding="latin-1"), filename=name)
                    except ImportRejected as error:
                        if not resume:
                            raise CommandError(f"{name}: {error}") from None
                        skipped += 1
                    else:
                        period_lines += result.counts["employees"]
                        files += 1
                    if not keep_files:
                        path.unlink()
                    bar.advance(task)
                seconds = time.perf_counter() - period_started
                lines += period_lines
                timings.append((period, period_lines, seconds))
                self.stdout.write(
                    f"period {period}: {period_lines} lines in {seconds:.1f} s "
                    f"({period_lines / seconds if seconds else 0:,.0f} lines/s)"
                )
        total = time.perf_counter() - started
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SELECT pg_database_size(current_database())")
                size = f"{cursor.fetchone()[0] / 1e9:.2f} GB"
            else:
                size = "unknown (not PostgreSQL)"
        self.stdout.write(
            f"Seeded {insured} insured, {employers} employers, {periods} periods: {files} files imported"
            f"{f', {skipped} already there' if skipped else ''}, {lines} lines in {total:.1f} s "
            f"({lines / total if total else 0:,.0f} lines/s); database size {size}."
        )
