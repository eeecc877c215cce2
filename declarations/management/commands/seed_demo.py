"""Seed the demo: personas and a crowd, as e-BDS files relative to today."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from declarations.demo import PERSONA_NOTES, build_demo
from declarations.seeding import seed
from declarations.services import ImportRejected
from registry.services import RegistrationRecordsRejected


class _DryRun(Exception):
    pass


class Command(BaseCommand):
    help = (
        "Write the demo e-BDS files (personas and a crowd of ordinary employees, relative to today) under "
        "VAR_DIR/demo-ebds/ and import those not imported yet, then apply the registration records (names in "
        "Arabic, birth dates, employer-declared phones, earlier CINs). Idempotent: a period already declared by "
        "an employer is skipped. One transaction."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Import everything, report, then roll back.")
        parser.add_argument(
            "--no-files", action="store_true", help="Do not keep copies of the e-BDS files under VAR_DIR/demo-ebds/."
        )

    def handle(self, *args, dry_run=False, no_files=False, **options):
        started = time.monotonic()
        data = build_demo(timezone.localdate())
        folder = None if no_files else settings.VAR_DIR / "demo-ebds"
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
        try:
            with transaction.atomic():
                result = seed(data, files_dir=folder)
                if dry_run:
                    raise _DryRun
        except _DryRun:
            self.stdout.write("Dry run: everything was valid and has been rolled back.")
        except (ImportRejected, RegistrationRecordsRejected) as error:
            raise CommandError(f"demo data rejected: {error}") from error

        self.stdout.write(
            f"Demo data: {result.imported} e-BDS files imported, {result.skipped} periods already declared, "
            f"{result.people} people ({result.people_created} created, {result.people_updated} updated) "
            f"in {time.monotonic() - started:.1f} s."
        )
        self.stdout.write("Personas (CNSS number, CIN):")
        for key, person in data.personas.items():
            self.stdout.write(
                f"  {person.cnss_number}  {person.cin:<9} {person.first_name} {person.last_name}: {PERSONA_NOTES[key]}"
            )
