"""Import registration records: identity details e-BDS files do not carry."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand
from django.db import transaction

from registry.services import RegistrationRecordsRejected, import_registration_records


class _DryRun(Exception):
    """Raised to roll back a dry run's transaction."""


class Command(BaseCommand):
    help = (
        "Apply a registration records CSV (UTF-8; header: cnss_number,cin,last_name,first_name,last_name_ar,"
        "first_name_ar,birth_date,sex,phone,registered_on,previous_cins,treaty_country). Blank cells leave a value "
        "unchanged; unknown CNSS numbers are registered. All rows are applied or none: problems are printed to "
        "stderr as FILE:ROW: COLUMN: reason and the command exits with status 1. See docs/registration-records.md."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE.csv")
        parser.add_argument("--dry-run", action="store_true", help="Validate every row, then roll back.")
        parser.add_argument("--reason", default="", help="Why the records are applied (kept in the audit trail).")

    def handle(self, *args, file, dry_run, reason, **options):
        try:
            text = Path(file).read_bytes().decode("utf-8")
        except OSError as error:
            self.stderr.write(f"{file}:0: file: {error.strerror or error}")
            sys.exit(1)
        except UnicodeDecodeError:
            self.stderr.write(f"{file}:0: file: not UTF-8 text")
            sys.exit(1)
        try:
            with transaction.atomic():
                result = import_registration_records(text=text, reason=reason)
                if dry_run:
                    raise _DryRun
        except _DryRun:
            pass
        except RegistrationRecordsRejected as error:
            for issue in error.issues:
                self.stderr.write(f"{file}:{issue.row}: {issue.column or 'row'}: {issue.reason}")
            self.stderr.write(f"{len(error.issues)} problem(s): nothing was changed.")
            sys.exit(1)
        prefix = "valid (dry run)" if dry_run else "applied"
        self.stdout.write(
            f"{file}: {prefix}: {result.created} registered, {result.updated} updated, {result.unchanged} unchanged, "
            f"{result.previous_cins_added} earlier CIN(s) added"
        )
