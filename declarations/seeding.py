"""Load demo data (``declarations.demo``) through the real import paths:
e-BDS files for declarations, a registration-records CSV for identities."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, replace
from pathlib import Path

from django.conf import settings
from django.db import transaction

from declarations.demo import DemoData
from declarations.ebds import ebds_filename, write_ebds
from declarations.models import Declaration
from declarations.services import import_ebds
from registry.models import Insured
from registry.services import REGISTRATION_COLUMNS, import_registration_records


@dataclass
class SeedResult:
    imported: int = 0
    skipped: int = 0
    # Counted over the whole seed, e-BDS imports included: on a fresh database the
    # declarations create the people and the registration records then complete them.
    people: int = 0
    people_created: int = 0
    people_updated: int = 0


def registration_csv(data: DemoData) -> str:
    first_periods = {}
    for declaration in data.declarations:
        for line in declaration.lines:
            known = first_periods.get(line.cnss_number)
            first_periods[line.cnss_number] = declaration.period if known is None else min(known, declaration.period)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=REGISTRATION_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for person in data.people:
        if person.cnss_number not in first_periods:
            continue
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


def only_people(data: DemoData, cnss_numbers: set[str]) -> DemoData:
    """The same demo restricted to some people (their employers declare only them)."""
    declarations = []
    for declaration in data.declarations:
        lines = [line for line in declaration.lines if line.cnss_number in cnss_numbers]
        if lines:
            declarations.append(replace(declaration, lines=lines))
    return DemoData(
        declarations=declarations,
        people=[p for p in data.people if p.cnss_number in cnss_numbers],
        personas={k: p for k, p in data.personas.items() if p.cnss_number in cnss_numbers},
    )


def seed(data: DemoData, *, files_dir: Path | None = None) -> SeedResult:
    """Import every declaration not declared yet, then the registration records. One transaction."""
    result = SeedResult()
    numbers = [person.cnss_number for person in data.people]

    def people_stamps() -> dict[str, object]:
        return dict(Insured.objects.filter(cnss_number__in=numbers).values_list("cnss_number", "updated_at"))

    before = people_stamps()
    declared = set(Declaration.objects.current().values_list("employer__affiliation_number", "period").iterator())
    with transaction.atomic():
        for declaration in sorted(data.declarations, key=lambda d: (d.period, d.affiliation_number)):
            if (declaration.affiliation_number, str(declaration.period)) in declared:
                result.skipped += 1
                continue
            text = write_ebds(declaration, ceiling=settings.DAMANE_SALARY_CEILING_CENTIMES)
            name = ebds_filename(declaration)
            if files_dir is not None:
                (files_dir / name).write_text(text, encoding="ascii", newline="")
            import_ebds(text=text, filename=name)
            result.imported += 1
        import_registration_records(text=registration_csv(data), reason="demo registration records")
    after = people_stamps()
    result.people = len(after)
    result.people_created = len(after.keys() - before.keys())
    result.people_updated = sum(1 for number, stamp in before.items() if after.get(number) != stamp)
    return result
