"""Writes to declarations: importing DAMANCOM e-BDS files.

``import_ebds`` is the one way declarations enter the system (admin upload, the
``import_ebds`` command, the demo seed). It runs in one transaction: a rejected
file changes nothing. See ``docs/ebds.md``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.services import audit_record
from damane.metrics import import_measured
from declarations import bulk
from declarations.ebds import EbdsDeclaration, EbdsError, EbdsIssue, EbdsLine, parse_ebds
from declarations.employments import rebuild_employments
from declarations.models import Declaration, DeclarationLine, EbdsFile
from declarations.periods import Period
from registry.models import Employer, Insured, PreviousCin
from registry.signals import insured_identified

_EMPLOYER_FIELDS = {
    "name": "employer_name",
    "activity": "activity",
    "address": "address",
    "city": "city",
    "postal_code": "postal_code",
    "agency_code": "agency_code",
}


class ImportRejected(Exception):
    """The file was refused; ``issues`` lists every problem (line, field, reason)."""

    message = gettext_lazy("The e-BDS file was rejected: nothing was imported.")

    def __init__(self, issues: list[EbdsIssue]):
        self.issues = issues
        super().__init__("; ".join(str(issue) for issue in issues[:5]))


@dataclass
class ImportResult:
    ebds_file: EbdsFile
    declaration: Declaration
    counts: dict[str, int]
    # The declaration this file corrected (now not current), if any.
    replaced: Declaration | None = None


def decode_ebds(data: bytes) -> str:
    """Text of an uploaded e-BDS file.

    The format is ASCII. Latin-1 maps every byte to one character, so a stray
    accented byte neither breaks decoding nor shifts the columns: the parser
    then reports it with its line and field.
    """
    return data.decode("latin-1")


def ebds_counts(declaration: EbdsDeclaration) -> dict[str, int]:
    lines = declaration.lines
    return {
        "employees": len(lines),
        "new_employees": sum(1 for line in lines if line.is_new),
        "days": sum(line.days for line in lines),
        "real_salary_total": sum(line.real_salary for line in lines),
        "capped_salary_total": sum(line.capped_salary or 0 for line in lines),
    }


@import_measured
def import_ebds(
    *,
    text: str,
    filename: str,
    imported_by=None,
    correction: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Validate and store one e-BDS file; raise ``ImportRejected`` with every problem.

    A file for an (employer, period) already declared is refused unless
    ``correction`` is set: the earlier declaration then stays, marked not
    current, and this one becomes the next version.

    On PostgreSQL a well-formed new declaration takes the set-based path of
    ``declarations.bulk`` (``COPY`` and ``INSERT … SELECT``); ``progress``, if
    given, is called with the number of lines read so far.
    """
    sha256 = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if connection.vendor == "postgresql" and not correction:
        # No look-up of the file's SHA-256 first (a round trip a file): a file
        # imported before declared its period, so the fast path steps aside
        # before it writes anything, and the check below answers; two imports
        # of it at once meet on the unique SHA-256 (``_losing_a_race``).
        try:
            with _losing_a_race(sha256), transaction.atomic():
                return _store_fast(text=text, sha256=sha256, filename=filename, user=imported_by, progress=progress)
        except bulk.NotFast:
            pass  # the full parser and the original store give the exact answer
    already = EbdsFile.objects.filter(sha256=sha256).first()
    if already:
        raise ImportRejected([_already_imported(already)])
    try:
        parsed = parse_ebds(
            text, ceiling=settings.DAMANE_SALARY_CEILING_CENTIMES, max_days=settings.DAMANE_MAX_DAYS_PER_MONTH
        )
    except EbdsError as error:
        raise ImportRejected(error.issues) from None

    header_line = parsed.header_line
    if parsed.period > Period.of(timezone.localdate()):
        raise ImportRejected(
            [
                EbdsIssue(
                    header_line,
                    "L_Periode",
                    _("Period %(period)s has not begun yet: it cannot be declared.") % {"period": parsed.period},
                )
            ]
        )

    with _losing_a_race(sha256), transaction.atomic():
        return _store(parsed, text=text, sha256=sha256, filename=filename, user=imported_by, correction=correction)


@contextmanager
def _losing_a_race(sha256: str):
    try:
        yield
    except IntegrityError:
        # Two imports of the same file or the same period at once: the loser
        # gets the answer it would have had one moment later.
        already = EbdsFile.objects.filter(sha256=sha256).first()
        if already:
            raise ImportRejected([_already_imported(already)]) from None
        # Another file registering the same new employee or declaring the same
        # period committed first: nothing of this one was stored.
        raise ImportRejected(
            [EbdsIssue(0, "file", _("Another import changed the same records at the same moment: import it again."))]
        ) from None


def _already_imported(ebds_file: EbdsFile) -> EbdsIssue:
    return EbdsIssue(
        0,
        "file",
        _("This exact file was already imported on %(date)s as %(name)s (declaration %(period)s).")
        % {
            "date": timezone.localtime(ebds_file.imported_at).strftime("%Y-%m-%d %H:%M"),
            "name": ebds_file.name,
            "period": ebds_file.period,
        },
    )


def _store(parsed: EbdsDeclaration, *, text: str, sha256: str, filename: str, user, correction: bool) -> ImportResult:
    period = str(parsed.period)
    employer, created = Employer.objects.get_or_create(
        affiliation_number=parsed.affiliation_number,
        defaults={model: getattr(parsed, attr) for model, attr in _EMPLOYER_FIELDS.items()},
    )
    # The employer row is the lock that serialises imports for one employer.
    employer = Employer.objects.select_for_update().get(pk=employer.pk)
    previous = Declaration.objects.filter(employer=employer, period=period, is_current=True).first()
    header = parsed.header_line
    if previous and not correction:
        raise ImportRejected(
            [
                EbdsIssue(
                    header,
                    "L_Periode",
                    _(
                        "Employer %(employer)s already declared period %(period)s (version %(version)d, file "
                        "%(name)s). Import this file as a correction to replace it."
                    )
                    % {
                        "employer": employer.affiliation_number,
                        "period": period,
                        "version": previous.version,
                        "name": previous.source_file.name,
                    },
                )
            ]
        )
    if correction and not previous:
        raise ImportRejected(
            [
                EbdsIssue(
                    header,
                    "L_Periode",
                    _("Employer %(employer)s has no declaration for period %(period)s to correct.")
                    % {"employer": employer.affiliation_number, "period": period},
                )
            ]
        )

    insured_by_number, new_people, cin_fills = _resolve_people(parsed)
    if not created:
        _update_employer(employer, parsed)

    if new_people:
        Insured.objects.bulk_create(new_people)
        for person in new_people:
            insured_by_number[person.cnss_number] = person
    for person in cin_fills:
        person.save(update_fields=["cin", "updated_at"])

    counts = ebds_counts(parsed)
    ebds_file = EbdsFile.objects.create(
        name=filename[:255],
        sha256=sha256,
        content=text,
        transfer_id=parsed.transfer_id,
        employer=employer,
        period=period,
        is_correction=correction,
        imported_by=user if getattr(user, "pk", None) else None,
        counts=counts,
    )
    touched = {insured_by_number[line.cnss_number].pk for line in parsed.lines}
    version = 1
    if previous:
        touched |= set(previous.lines.values_list("insured_id", flat=True))
        Declaration.objects.filter(pk=previous.pk).update(is_current=False)
        DeclarationLine.objects.filter(declaration=previous, period=previous.period).update(is_current=False)
        previous.is_current = False
        version = Declaration.objects.filter(employer=employer, period=period).aggregate(v=Max("version"))["v"] + 1
    declaration = Declaration.objects.create(
        employer=employer,
        period=period,
        source_file=ebds_file,
        version=version,
        is_current=True,
        employee_count=counts["employees"],
        total_days=counts["days"],
        total_real_salary=counts["real_salary_total"],
        total_capped_salary=counts["capped_salary_total"],
    )
    DeclarationLine.objects.bulk_create(
        [_declaration_line(line, declaration, insured_by_number[line.cnss_number]) for line in parsed.lines],
        batch_size=1000,
    )
    rebuild_employments(insured_ids=touched, employer=employer)
    _link_unregistered(new_people, cin_fills, user)
    audit_record(
        action="declarations.declaration.corrected" if previous else "declarations.declaration.imported",
        obj=declaration,
        actor=user,
        before={"declaration": previous.pk, "version": previous.version} if previous else None,
        after={"file": ebds_file.name, "sha256": sha256, "version": version, **counts},
    )
    return ImportResult(ebds_file=ebds_file, declaration=declaration, counts=counts, replaced=previous)


_LOCKED_EMPLOYER_SQL = """
SELECT e.*,
       EXISTS (SELECT 1 FROM declarations_declaration d
               WHERE d.employer_id = e.id AND d.is_current AND d.period = %s) AS period_declared,
       EXISTS (SELECT 1 FROM declarations_declaration d
               WHERE d.employer_id = e.id AND d.is_current AND d.period > %s) AS later_declared
FROM registry_employer e WHERE e.affiliation_number = %s
FOR UPDATE OF e
"""


def _store_fast(*, text: str, sha256: str, filename: str, user, progress) -> ImportResult:
    """``_store`` for a new declaration, set-based; ``bulk.NotFast`` at the first doubt."""
    with connection.cursor() as cursor:
        scanned, sums = bulk.stage_and_check(
            cursor,
            text,
            ceiling=settings.DAMANE_SALARY_CEILING_CENTIMES,
            max_days=settings.DAMANE_MAX_DAYS_PER_MONTH,
            progress=progress,
        )
        parsed = scanned.declaration
        if parsed.period > Period.of(timezone.localdate()):
            raise bulk.NotFast
        period = str(parsed.period)
        # One query in the usual case (a known employer): the row, locked, and
        # whether this period and a later one are declared already.
        # Written in SQL: the ORM's compilation of the same query cost more CPU
        # than its round trip (bench/profile_ebds_files.py).
        employer = next(
            iter(Employer.objects.raw(_LOCKED_EMPLOYER_SQL, [period, period, parsed.affiliation_number])), None
        )
        created = employer is None
        if created:
            employer, created = Employer.objects.get_or_create(
                affiliation_number=parsed.affiliation_number,
                defaults={model: getattr(parsed, attr) for model, attr in _EMPLOYER_FIELDS.items()},
            )
            employer = Employer.objects.select_for_update().get(pk=employer.pk)
            declared, later = bulk.declared_periods(cursor, employer_id=employer.pk, period=period)
        else:
            declared, later = employer.period_declared, employer.later_declared
        if declared:
            raise bulk.NotFast
        try:
            insured_by_number, new_people, cin_fills = _resolve_people(parsed)
        except ImportRejected:
            raise bulk.NotFast from None
        if not created and not later:
            _update_employer(employer, parsed, later=False)
        if new_people:
            Insured.objects.bulk_create(new_people)
            for person in new_people:
                insured_by_number[person.cnss_number] = person
        for person in cin_fills:
            person.save(update_fields=["cin", "updated_at"])

        counts = bulk.counts_of(sums, parsed)
        now = timezone.now()
        ebds_file = EbdsFile(
            name=filename[:255],
            sha256=sha256,
            content=text,
            transfer_id=parsed.transfer_id,
            employer=employer,
            period=period,
            is_correction=False,
            imported_at=now,
            imported_by=user if getattr(user, "pk", None) else None,
            counts=counts,
        )
        declaration = Declaration(
            employer=employer,
            period=period,
            source_file=ebds_file,
            version=1,
            is_current=True,
            declared_at=now,
            employee_count=counts["employees"],
            total_days=counts["days"],
            total_real_salary=counts["real_salary_total"],
            total_capped_salary=counts["capped_salary_total"],
        )
        bulk.insert_file_and_declaration(cursor, ebds_file=ebds_file, declaration=declaration)
        bulk.insert_known_lines(
            cursor, declaration_id=declaration.pk, employer_id=employer.pk, period=period, expected=scanned.b02_count
        )
        DeclarationLine.objects.bulk_create(
            [_declaration_line(line, declaration, insured_by_number[line.cnss_number]) for line in parsed.lines],
            batch_size=1000,
        )
        late = bulk.extend_employments(
            cursor, declaration_id=declaration.pk, employer_id=employer.pk, period=parsed.period, later=later
        )
        if late:
            rebuild_employments(insured_ids=late, employer=employer)
        bulk.close_stage(cursor, nested=len(connection.atomic_blocks) > 1)
    _link_unregistered(new_people, cin_fills, user)
    audit_record(
        action="declarations.declaration.imported",
        obj=declaration,
        actor=user,
        before=None,
        after={"file": ebds_file.name, "sha256": sha256, "version": 1, **counts},
    )
    return ImportResult(ebds_file=ebds_file, declaration=declaration, counts=counts, replaced=None)


def _link_unregistered(new_people: list[Insured], cin_fills: list[Insured], user) -> None:
    """People recorded at the agency as absent from the registry, now declared: both records linked."""
    if new_people or cin_fills:
        insured_identified.send(
            sender=Insured, insured_ids=[person.pk for person in (*new_people, *cin_fills)], actor=user
        )


def _resolve_people(parsed: EbdsDeclaration) -> tuple[dict[str, Insured], list[Insured], list[Insured]]:
    """Known insured persons by CNSS number, those to register (B04), and known
    ones whose blank CIN a B04 fills in. Raises ``ImportRejected`` listing every
    line that names nobody or conflicts with the registry."""
    if not parsed.lines:
        return {}, [], []  # the fast path's B02-only file: its people are joined in SQL
    numbers = [line.cnss_number for line in parsed.lines]
    known = {i.cnss_number: i for i in Insured.objects.filter(cnss_number__in=numbers)}
    cins = {line.cin for line in parsed.lines if line.is_new and line.cin}
    # Every holder of each CIN the file mentions, current or earlier.
    holders: dict[str, set[str]] = {}
    if cins:
        for cin, number in Insured.objects.filter(cin__in=cins).values_list("cin", "cnss_number"):
            holders.setdefault(cin, set()).add(number)
        for cin, number in PreviousCin.objects.filter(cin__in=cins).values_list("cin", "insured__cnss_number"):
            holders.setdefault(cin, set()).add(number)

    issues: list[EbdsIssue] = []
    new_people: list[Insured] = []
    cin_fills: list[Insured] = []
    claimed_in_file: dict[str, EbdsLine] = {}
    for line in parsed.lines:
        person = known.get(line.cnss_number)
        if not line.is_new:
            if person is None:
                issues.append(
                    EbdsIssue(
                        line.source_line,
                        "N_Num_Assure",
                        _(
                            "No insured person has CNSS number %(number)s: a new employee is declared with a "
                            "B04 record, not B02."
                        )
                        % {"number": line.cnss_number},
                    )
                )
            continue
        if line.cin:
            others = holders.get(line.cin, set()) - {line.cnss_number}
            first = claimed_in_file.setdefault(line.cin, line)
            if others:
                issues.append(_cin_issue(line, _("it belongs to CNSS number %(other)s") % {"other": min(others)}))
                continue
            if first is not line:
                issues.append(_cin_issue(line, _("it is also declared on line %(line)d") % {"line": first.source_line}))
                continue
        if person is not None:
            if not line.cin:
                continue
            if not person.cin:
                person.cin = line.cin
                cin_fills.append(person)
            elif line.cin != person.cin and line.cin not in holders:
                issues.append(
                    _cin_issue(
                        line,
                        _("the registry holds %(cin)s for CNSS number %(number)s")
                        % {"cin": person.cin, "number": person.cnss_number},
                    )
                )
            continue
        last_name, _sep, first_name = line.name.partition(" ")
        new_people.append(
            Insured(
                cnss_number=line.cnss_number,
                cin=line.cin,
                last_name=last_name,
                first_name=first_name.strip(),
                registered_on=parsed.period.first_day,
            )
        )
    if issues:
        raise ImportRejected(issues)
    return known, new_people, cin_fills


def _cin_issue(line: EbdsLine, why: str) -> EbdsIssue:
    return EbdsIssue(
        line.source_line,
        "L_Num_CIN",
        _("CIN %(cin)s conflicts with the registry: %(why)s.") % {"cin": line.cin, "why": why},
    )


def _update_employer(employer: Employer, parsed: EbdsDeclaration, *, later: bool | None = None) -> None:
    """Take the employer's details from B01, unless a later period is already
    declared (a correction of an old period must not bring back an old address).
    Blank B01 fields leave the registry's value. ``later``: whether a later
    period is declared, when the caller knows."""
    if later is None:
        later = Declaration.objects.filter(employer=employer, is_current=True, period__gt=str(parsed.period)).exists()
    if later:
        return
    changed = []
    for model_field, attr in _EMPLOYER_FIELDS.items():
        value = getattr(parsed, attr)
        if value and getattr(employer, model_field) != value:
            setattr(employer, model_field, value)
            changed.append(model_field)
    if changed:
        employer.save(update_fields=[*changed, "updated_at"])


def _declaration_line(line: EbdsLine, declaration: Declaration, insured: Insured) -> DeclarationLine:
    return DeclarationLine(
        declaration=declaration,
        insured=insured,
        employer_id=declaration.employer_id,
        period=declaration.period,
        is_current=True,
        is_new_employee=line.is_new,
        declared_name=line.name,
        children=line.children,
        family_allowance_due=line.af_due,
        family_allowance_deducted=line.af_deducted,
        family_allowance_net=line.af_net,
        family_allowance_returned=line.af_returned,
        days=line.days,
        real_salary=line.real_salary,
        capped_salary=line.capped_salary,
        situation=line.situation,
    )
