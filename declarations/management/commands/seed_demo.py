"""Seed the demo: personas and a crowd, as e-BDS files relative to today."""

import csv
import io
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from declarations.demo import PERSONA_NOTES, build_demo
from declarations.ebds import ebds_filename, write_ebds
from declarations.models import Declaration
from declarations.services import ImportRejected, import_ebds
from registry.services import REGISTRATION_COLUMNS, RegistrationRecordsRejected, import_registration_records


class _DryRun(Exception):
    pass


def registration_csv(people, first_periods) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=REGISTRATION_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for person in people:
        writer.writerow(
            {
                "cnss_number": person.cnss_number,
                "cin": person.cin,
                "last_name": person.last_name,
                "first_name": person.first_name,
                "last_name_ar": person.last_name_ar,
                "first_name_ar": person.first_name_ar,
                "birth_date": person.birth_date.isoformat(),
                "sex": person.sex,
                "phone": person.phone,
                "registered_on": first_periods[person.cnss_number].first_day.isoformat(),
                "previous_cins": ";".join(person.previous_cins),
                "treaty_country": person.treaty_country,
            }
        )
    return out.getvalue()


class Command(BaseCommand):
    help = (
        "Write the demo e-BDS files (personas and a crowd of ordinary employees, relative to today) under "
        "VAR_DIR/demo-ebds/ and import those not imported yet, then apply the personas' registration records. "
        "Idempotent: a period already declared by an employer is skipped. One transaction."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Import everything, report, then roll back.")
        parser.add_argument(
            "--no-files", action="store_true", help="Do not keep copies of the e-BDS files under VAR_DIR/demo-ebds/."
        )

    def handle(self, *args, dry_run=False, no_files=False, **options):
        started = time.monotonic()
        today = timezone.localdate()
        data = build_demo(today)
        folder = settings.VAR_DIR / "demo-ebds"
        if not no_files:
            folder.mkdir(parents=True, exist_ok=True)
        declared = set(
            Declaration.objects.current().values_list("employer__affiliation_number", "period").iterator()
        )
        first_periods = {}
        for declaration in data.declarations:
            for line in declaration.lines:
                first_periods.setdefault(line.cnss_number, declaration.period)
                first_periods[line.cnss_number] = min(first_periods[line.cnss_number], declaration.period)

        imported = skipped = 0
        try:
            with transaction.atomic():
                for declaration in sorted(data.declarations, key=lambda d: (d.period, d.affiliation_number)):
                    if (declaration.affiliation_number, str(declaration.period)) in declared:
                        skipped += 1
                        continue
                    text = write_ebds(declaration, ceiling=settings.DAMANE_SALARY_CEILING_CENTIMES)
                    name = ebds_filename(declaration)
                    if not no_files:
                        (folder / name).write_text(text, encoding="ascii", newline="")
                    import_ebds(text=text, filename=name)
                    imported += 1
                result = import_registration_records(
                    text=registration_csv(data.people, first_periods), reason="demo registration records"
                )
                if dry_run:
                    raise _DryRun
        except _DryRun:
            self.stdout.write("Dry run: rolled back.")
        except (ImportRejected, RegistrationRecordsRejected) as error:
            raise CommandError(f"demo data rejected: {error}") from error

        self.stdout.write(
            f"Demo data: {imported} e-BDS files imported, {skipped} periods already declared, "
            f"{len(data.people)} people ({result.created} created, {result.updated} updated) "
            f"in {time.monotonic() - started:.1f} s."
        )
        self.stdout.write("Personas (CNSS number, CIN):")
        for key, person in data.personas.items():
            self.stdout.write(f"  {person.cnss_number}  {person.cin:<9} {person.first_name} {person.last_name}: {PERSONA_NOTES[key]}")
