"""Read the registry into the plain records the certificate rules work on."""

from __future__ import annotations

from datetime import date

from casework.models import Case, CaseKind, CaseStatus
from certificates.rules import EmployerRef, EmploymentRecord, Holder, InsuredRecord, LineRecord
from declarations.models import DeclarationLine
from declarations.periods import Period
from declarations.status import statuses_for_employers
from registry.models import Employer, Insured


def holder_of(insured: Insured) -> Holder:
    return Holder(
        cnss_number=insured.cnss_number,
        cin=insured.cin,
        last_name=insured.last_name,
        first_name=insured.first_name,
        last_name_ar=insured.last_name_ar,
        first_name_ar=insured.first_name_ar,
        birth_date=insured.birth_date,
    )


def insured_record(insured: Insured, *, today: date) -> InsuredRecord:
    """Everything the rules need about one insured person: four queries."""
    employments = list(insured.employments.select_related("employer"))
    employers = {e.employer_id: e.employer for e in employments}
    lines = list(
        DeclarationLine.objects.filter(insured=insured, is_current=True).values_list(
            "employer_id", "period", "days", "real_salary", "capped_salary", "situation"
        )
    )
    missing_ids = {row[0] for row in lines} - employers.keys()
    if missing_ids:
        employers.update(Employer.objects.in_bulk(missing_ids))
    refs = {pk: EmployerRef(id=pk, name=e.name, affiliation_number=e.affiliation_number) for pk, e in employers.items()}
    open_identity_cases = Case.objects.filter(
        insured=insured,
        kind__in=[CaseKind.NAME_CORRECTION, CaseKind.ID_UPDATE],
        status__in=[CaseStatus.SUBMITTED, CaseStatus.IN_PROGRESS],
    ).exists()
    return InsuredRecord(
        holder=holder_of(insured),
        registered_on=insured.registered_on,
        employments=tuple(
            EmploymentRecord(
                id=e.pk,
                employer=refs[e.employer_id],
                start_date=e.start_date,
                start_period=Period.parse(e.start_period),
                last_period=Period.parse(e.last_period),
                end_date=e.end_date,
                exit_reason=e.exit_reason,
            )
            for e in employments
        ),
        lines=tuple(
            LineRecord(employer_id=eid, period=Period.parse(p), days=d, real_salary=r, capped_salary=c, situation=s)
            for eid, p, d, r, c, s in lines
        ),
        employer_status=statuses_for_employers(list(employers.values()), today=today),
        identity_under_correction=insured.identity_under_correction or open_identity_cases,
        treaty_country=insured.treaty_country,
    )
