"""Attestation de travail: a current employment, declared for the reference period.

The rules of this kind (docs/domain.md "The six certificates"): pure, over the
record ``certificates.selectors.insured_record`` builds.
"""

from __future__ import annotations

from datetime import date

from django.utils.translation import gettext as _

from certificates.registry import Limits
from certificates.rules import (
    WAY_ARREARS_REPORT,
    WAY_CHOOSE_EMPLOYER,
    WAY_DEREGISTRATION,
    WAY_EMPLOYER_NOTICE,
    Allowed,
    Blocked,
    InsuredRecord,
    Options,
    employer_fact,
    reference_period,
)
from damane.formats import month_label, short_date
from declarations.status import expected_period


def evaluate(record: InsuredRecord, options: Options, *, today: date, limits: Limits) -> Allowed | Blocked:
    return _employment(record, options, today)


def _employment(record: InsuredRecord, options: Options, today: date) -> Allowed | Blocked:
    active = record.active_employments
    if options.employer_id is not None:
        chosen = [e for e in record.employments if e.employer.id == options.employer_id]
        if not chosen:
            return Blocked(
                code="unknown_employer",
                message=_("This employer has not declared you."),
                ways_out=(WAY_CHOOSE_EMPLOYER,),
                choices=tuple(e.employer for e in active),
            )
        employment = max(chosen, key=lambda e: e.start_period)
        if not employment.is_active:
            return Blocked(
                code="employment_ended",
                message=_(
                    "Your employment with %(employer)s ended on %(end)s. An employment certificate is only "
                    "issued for a current employment; the deregistration certificate states this one."
                )
                % {"employer": employment.employer.name, "end": short_date(employment.end_date)},
                ways_out=(WAY_DEREGISTRATION,),
                employer=employment.employer,
            )
    elif not active:
        return Blocked(
            code="no_active_employment",
            message=_("No employer currently declares you. An employment certificate needs a current employment."),
            ways_out=(WAY_DEREGISTRATION,) if record.ended_employments else (),
        )
    elif len(active) > 1:
        return Blocked(
            code="choose_main_employer",
            message=_("Several employers declare you at the same time: choose your main employer."),
            ways_out=(WAY_CHOOSE_EMPLOYER,),
            choices=tuple(e.employer for e in active),
        )
    else:
        employment = active[0]

    employer = employment.employer
    reference = reference_period(employer, record.employer_status.get(employer.id), options, today)
    if isinstance(reference, Blocked):
        return reference
    line = next((li for li in record.lines if li.employer_id == employer.id and li.period == reference), None)
    if line is None:
        return Blocked(
            code="not_declared_for_period",
            message=_(
                "%(employer)s did not declare you for %(period)s, the reference period of the certificate. "
                "Ask your employer to correct its declaration, or file a request with the agency."
            )
            % {"employer": employer.name, "period": month_label(reference)},
            ways_out=(WAY_EMPLOYER_NOTICE, WAY_ARREARS_REPORT),
            employer=employer,
            missing_periods=(reference,),
        )
    return Allowed(
        facts={
            "employer": employer_fact(employer),
            "start_date": employment.start_date.isoformat(),
            "reference_period": str(reference),
            "days": line.days,
            "last_declared_period_option": reference != expected_period(today),
        },
        employer=employer,
        reference_period=reference,
    )
