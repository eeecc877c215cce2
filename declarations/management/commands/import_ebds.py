"""Import DAMANCOM e-BDS salary declaration files (docs/ebds.md)."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand
from django.db import transaction

from declarations.services import ImportRejected, decode_ebds, import_ebds


class _DryRun(Exception):
    """Raised to roll back a dry run's transaction."""


class Command(BaseCommand):
    help = (
        "Import DAMANCOM e-BDS salary declaration files (records B00-B06). Each file is imported in its own "
        "transaction: a rejected file changes nothing, the others still go in. Problems are printed to stderr "
        "as FILE:LINE: FIELD: reason (line 0 is the whole file). Exits with status 1 if any file was rejected."
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

    def handle(self, *args, files, correction, dry_run, **options):
        rejected = 0
        for name in files:
            path = Path(name)
            try:
                text = decode_ebds(path.read_bytes())
            except OSError as error:
                rejected += 1
                self.stderr.write(f"{name}:0: file: {error.strerror or error}")
                continue
            try:
                with transaction.atomic():
                    result = import_ebds(text=text, filename=path.name, correction=correction)
                    if dry_run:
                        raise _DryRun
            except _DryRun:
                pass
            except ImportRejected as error:
                rejected += 1
                for issue in error.issues:
                    self.stderr.write(f"{name}:{issue.line}: {issue.field}: {issue.reason}")
                continue
            counts = result.counts
            verb = "valid (dry run)" if dry_run else ("corrected" if result.replaced else "imported")
            self.stdout.write(
                f"{name}: {verb}: employer {result.declaration.employer.affiliation_number} "
                f"period {result.declaration.period} version {result.declaration.version}: "
                f"{counts['employees']} employees ({counts['new_employees']} new), {counts['days']} days, "
                f"real salary {counts['real_salary_total']} centimes, capped {counts['capped_salary_total']} centimes"
            )
        if rejected:
            self.stderr.write(f"{rejected} of {len(files)} file(s) rejected.")
            sys.exit(1)
