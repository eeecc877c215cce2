"""Import DAMANCOM e-BDS salary declaration files (docs/ebds.md)."""

import sys
import time
from contextlib import nullcontext
from pathlib import Path

from django.core.management.base import BaseCommand
from django.db import transaction
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from declarations.services import ImportRejected, decode_ebds, import_ebds


class _DryRun(Exception):
    """Raised to roll back a dry run's transaction."""


class Command(BaseCommand):
    help = (
        "Import DAMANCOM e-BDS salary declaration files (records B00-B06). Each file is imported in its own "
        "transaction: a rejected file changes nothing, the others still go in. Problems are printed to stderr "
        "as FILE:LINE: FIELD: reason (line 0 is the whole file). Exits with status 1 if any file was rejected. "
        "Shows a progress bar on a terminal and ends with a summary (files, lines, time, lines per second)."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE", help="e-BDS files, e.g. DS_1234567_202501.txt")
        parser.add_argument(
            "--correction",
            action="store_true",
            help="Import as corrections: each file replaces the current declaration of its employer and period, "
            "which stays in history.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Validate everything, as an import would, then roll back."
        )
        parser.add_argument(
            "--progress",
            choices=["auto", "always", "never"],
            default="auto",
            help="The progress bar on stderr: auto (on a terminal only, the default), always or never.",
        )

    def handle(self, *args, files, correction, dry_run, progress="auto", **options):
        console = Console(stderr=True)
        show = progress == "always" or (progress == "auto" and console.is_terminal)
        bar = (
            Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TaskProgressColumn(),
                TimeElapsedColumn(),
                console=console,
            )
            if show
            else None
        )
        rejected = imported = lines = new_employees = days = real = capped = 0
        started = time.perf_counter()
        with bar or nullcontext():
            for name in files:
                path = Path(name)
                try:
                    text = decode_ebds(path.read_bytes())
                except OSError as error:
                    rejected += 1
                    self.stderr.write(f"{name}:0: file: {error.strerror or error}")
                    continue
                task = bar.add_task(path.name, total=max(text.count("\n") - 5, 1)) if bar else None
                report = (lambda done, task=task: bar.update(task, completed=done)) if bar else None
                try:
                    # ``import_ebds`` is one transaction by itself; an outer one (for the dry
                    # run's rollback only) would add a savepoint and the stage's TRUNCATE to
                    # every file (docs/benchmarks.md, "Many small files").
                    with transaction.atomic() if dry_run else nullcontext():
                        result = import_ebds(text=text, filename=path.name, correction=correction, progress=report)
                        if dry_run:
                            raise _DryRun
                except _DryRun:
                    pass
                except ImportRejected as error:
                    rejected += 1
                    if bar:
                        bar.update(task, description=f"{path.name}: rejected")
                    for issue in error.issues:
                        self.stderr.write(f"{name}:{issue.line}: {issue.field}: {issue.reason}")
                    continue
                counts = result.counts
                if bar:
                    bar.update(task, completed=counts["employees"], total=max(counts["employees"], 1))
                imported += 1
                lines += counts["employees"]
                new_employees += counts["new_employees"]
                days += counts["days"]
                real += counts["real_salary_total"]
                capped += counts["capped_salary_total"]
                verb = "valid (dry run)" if dry_run else ("corrected" if result.replaced else "imported")
                self.stdout.write(
                    f"{name}: {verb}: employer {result.declaration.employer.affiliation_number} "
                    f"period {result.declaration.period} version {result.declaration.version}: "
                    f"{counts['employees']} employees ({counts['new_employees']} new), {counts['days']} days, "
                    f"real salary {counts['real_salary_total']} centimes, "
                    f"capped {counts['capped_salary_total']} centimes"
                )
        seconds = time.perf_counter() - started
        if imported:
            self.stdout.write(
                f"Summary: {imported} of {len(files)} file(s) {'valid' if dry_run else 'imported'}, "
                f"{rejected} rejected; {lines} lines ({new_employees} new employees), {days} days, "
                f"real salary {real} centimes, capped {capped} centimes; "
                f"{seconds:.2f} s, {lines / seconds if seconds else 0:,.0f} lines/s."
            )
        if rejected:
            self.stderr.write(f"{rejected} of {len(files)} file(s) rejected.")
            sys.exit(1)
