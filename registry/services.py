"""Writes to the registry: registration records.

``import_registration_records`` applies the CSV of identity details that e-BDS
files do not carry (``docs/registration-records.md``). Employments are derived
from declarations by the declarations app (``declarations.employments``).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.services import audit_record, model_values
from registry.models import Insured, PreviousCin
from registry.signals import insured_identified
from registry.validators import (
    normalize_cin,
    normalize_cnss_number,
    normalize_phone,
    validate_cin,
    validate_cnss_number,
    validate_phone,
)

# --- Registration records (CSV) ----------------------------------------------------

REGISTRATION_COLUMNS = (
    "cnss_number",
    "cin",
    "last_name",
    "first_name",
    "last_name_ar",
    "first_name_ar",
    "birth_date",
    "sex",
    "phone",
    "registered_on",
    "previous_cins",
    "treaty_country",
)
# Fields of Insured the CSV sets, in the order of the columns.
_INSURED_FIELDS = [c for c in REGISTRATION_COLUMNS if c not in ("cnss_number", "previous_cins")]
_NAME_MAX = 60


@dataclass(frozen=True)
class RecordIssue:
    """A problem in the CSV: row (as numbered in a spreadsheet, the header is row
    1), column name ("" for the whole row or file), translated reason."""

    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"{self.row}: {self.column}: {self.reason}"


class RegistrationRecordsRejected(Exception):
    message = gettext_lazy("The registration records were rejected: nothing was changed.")

    def __init__(self, issues: list[RecordIssue]):
        self.issues = issues
        super().__init__("; ".join(str(issue) for issue in issues[:5]))


@dataclass
class RegistrationResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    previous_cins_added: int = 0
    insured_ids: list[int] = field(default_factory=list)


@dataclass
class _Row:
    number: int
    cnss_number: str
    values: dict[str, object]
    previous_cins: list[str]


def _parse_rows(text: str) -> tuple[list[_Row], list[RecordIssue]]:
    issues: list[RecordIssue] = []
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip() for name in (reader.fieldnames or [])]
    missing = [c for c in REGISTRATION_COLUMNS if c not in header]
    unknown = [c for c in header if c not in REGISTRATION_COLUMNS]
    if not header:
        return [], [RecordIssue(1, "", _("The file is empty: the first row must be the header."))]
    if missing or unknown:
        if missing:
            issues.append(RecordIssue(1, "", _("Missing columns: %(columns)s.") % {"columns": ", ".join(missing)}))
        if unknown:
            issues.append(RecordIssue(1, "", _("Unknown columns: %(columns)s.") % {"columns": ", ".join(unknown)}))
        return [], issues
    reader.fieldnames = header

    rows: list[_Row] = []
    for raw in reader:
        number = reader.line_num
        if None in raw:
            issues.append(RecordIssue(number, "", _("The row has more cells than the header.")))
            continue
        cells = {k: (v or "").strip() for k, v in raw.items()}
        if not any(cells.values()):
            continue
        rows.append(_clean_row(number, cells, issues))
    if not rows and not issues:
        issues.append(RecordIssue(1, "", _("The file has a header but no rows.")))
    return rows, issues


def _clean_row(number: int, cells: dict[str, str], issues: list[RecordIssue]) -> _Row:
    def problem(column: str, reason: str) -> None:
        issues.append(RecordIssue(number, column, reason))

    def validated(column: str, value: str, validator) -> str:
        try:
            validator(value)
        except ValidationError as error:
            problem(column, " ".join(str(m) for m in error.messages))
        return value

    values: dict[str, object] = {}
    cnss_number = normalize_cnss_number(cells["cnss_number"])
    if not cnss_number:
        problem("cnss_number", _("The CNSS number is required."))
    else:
        validated("cnss_number", cnss_number, validate_cnss_number)

    if cells["cin"]:
        values["cin"] = validated("cin", normalize_cin(cells["cin"]), validate_cin)
    for column in ("last_name", "first_name"):
        if cells[column]:
            # Latin names are kept in upper case, as the fund prints them.
            values[column] = " ".join(cells[column].split()).upper()
    for column in ("last_name_ar", "first_name_ar"):
        if cells[column]:
            values[column] = " ".join(cells[column].split())
    for column in ("last_name", "first_name", "last_name_ar", "first_name_ar"):
        if len(str(values.get(column, ""))) > _NAME_MAX:
            problem(column, _("At most %(max)d characters.") % {"max": _NAME_MAX})
    for column in ("birth_date", "registered_on"):
        if cells[column]:
            try:
                values[column] = date.fromisoformat(cells[column])
            except ValueError:
                problem(column, _("%(value)r is not a date in the form YYYY-MM-DD.") % {"value": cells[column]})
    if cells["sex"]:
        sex = cells["sex"].upper()
        if sex not in Insured.Sex.values:
            problem("sex", _("Sex is F or M."))
        values["sex"] = sex
    if cells["phone"]:
        values["phone"] = validated("phone", normalize_phone(cells["phone"]), validate_phone)
    if cells["treaty_country"]:
        country = cells["treaty_country"].upper()
        if not (len(country) == 2 and country.isalpha() and country.isascii()):
            problem("treaty_country", _("A country is a two-letter ISO code, e.g. FR."))
        values["treaty_country"] = country

    previous = []
    for cin in cells["previous_cins"].split(";"):
        cin = normalize_cin(cin)
        if cin:
            previous.append(validated("previous_cins", cin, validate_cin))
    if "cin" in values and values["cin"] in previous:
        problem("previous_cins", _("The current CIN cannot also be an earlier one."))
    return _Row(number, cnss_number, values, list(dict.fromkeys(previous)))


def import_registration_records(*, text: str, actor=None, reason: str = "") -> RegistrationResult:
    """Apply a registration records CSV: all rows or none.

    Blank cells leave a value unchanged; an unknown CNSS number creates the
    insured person (then ``last_name`` and ``registered_on`` are required). A new
    CIN moves the former one into the earlier CINs. Raises
    ``RegistrationRecordsRejected`` with every problem found.
    """
    rows, issues = _parse_rows(text)
    if issues:
        raise RegistrationRecordsRejected(issues)

    result = RegistrationResult()
    with transaction.atomic():
        numbers = [row.cnss_number for row in rows]
        known = {i.cnss_number: i for i in Insured.objects.select_for_update().filter(cnss_number__in=numbers)}
        earlier = {(p.insured_id, p.cin) for p in PreviousCin.objects.filter(insured__in=known.values())}
        issues.extend(_conflicts(rows))
        for row in rows:
            if row.cnss_number not in known:
                for column in ("last_name", "registered_on"):
                    if column not in row.values:
                        issues.append(
                            RecordIssue(
                                row.number,
                                column,
                                _("Required to register a CNSS number that is not known yet."),
                            )
                        )
        if issues:
            raise RegistrationRecordsRejected(issues)

        for row in rows:
            insured = known.get(row.cnss_number)
            created = insured is None
            if created:
                insured = Insured(cnss_number=row.cnss_number)
                before = None
            else:
                before = model_values(insured, _INSURED_FIELDS)
            old_cin = insured.cin
            for name, value in row.values.items():
                setattr(insured, name, value)
            new_previous = list(row.previous_cins)
            if old_cin and insured.cin != old_cin and old_cin not in new_previous:
                new_previous.append(old_cin)
            after = model_values(insured, _INSURED_FIELDS)
            changed = created or after != before
            if changed:
                insured.save()
            added = [cin for cin in new_previous if (insured.pk, cin) not in earlier and cin != insured.cin]
            if added:
                PreviousCin.objects.bulk_create(
                    [PreviousCin(insured=insured, cin=cin, reason=_("registration records")) for cin in added]
                )
                result.previous_cins_added += len(added)
            if changed or added:
                audit_record(
                    action="registry.insured.registered" if created else "registry.insured.updated",
                    obj=insured,
                    actor=actor,
                    insured=insured,
                    before=before,
                    after={**after, "previous_cins_added": added},
                    reason=reason or _("registration records import"),
                )
            if created:
                result.created += 1
            elif changed or added:
                result.updated += 1
            else:
                result.unchanged += 1
            result.insured_ids.append(insured.pk)
        # People recorded at the agency as absent from the registry, now registered.
        insured_identified.send(sender=Insured, insured_ids=result.insured_ids, actor=actor)
    return result


def _conflicts(rows: list[_Row]) -> list[RecordIssue]:
    """CNSS numbers twice in the file; a CIN that belongs to someone else."""
    issues: list[RecordIssue] = []
    seen_numbers: dict[str, int] = {}
    for row in rows:
        if row.cnss_number in seen_numbers:
            issues.append(
                RecordIssue(
                    row.number,
                    "cnss_number",
                    _("This CNSS number is already on row %(row)d.") % {"row": seen_numbers[row.cnss_number]},
                )
            )
        seen_numbers.setdefault(row.cnss_number, row.number)

    # A CIN belongs to one person for life: every CIN a row claims (current or
    # earlier) must not be another person's, in the registry (current or
    # earlier) or on another row of the file.
    claims: dict[str, tuple[int, str, str]] = {}
    for row in rows:
        for column, cin in [("cin", row.values.get("cin"))] + [("previous_cins", c) for c in row.previous_cins]:
            if not cin:
                continue
            other = claims.get(cin)
            if other and other[1] != row.cnss_number:
                issues.append(
                    RecordIssue(
                        row.number,
                        column,
                        _("CIN %(cin)s is also claimed on row %(row)d for another person.")
                        % {"cin": cin, "row": other[0]},
                    )
                )
            claims.setdefault(cin, (row.number, row.cnss_number, column))
    if claims:
        holders: dict[str, set[str]] = {}
        for cin, number in Insured.objects.filter(cin__in=claims).values_list("cin", "cnss_number"):
            holders.setdefault(cin, set()).add(number)
        for cin, number in PreviousCin.objects.filter(cin__in=claims).values_list("cin", "insured__cnss_number"):
            holders.setdefault(cin, set()).add(number)
        for cin, (row_number, cnss_number, column) in claims.items():
            others = holders.get(cin, set()) - {cnss_number}
            if others:
                issues.append(
                    RecordIssue(
                        row_number,
                        column,
                        _("CIN %(cin)s belongs to another insured person (CNSS number %(other)s).")
                        % {"cin": cin, "other": sorted(others)[0]},
                    )
                )
    return issues
