"""Attestation de radiation: one ended employment, chosen when several.

The rules of this kind (docs/domain.md "The six certificates"): pure, over the
record ``certificates.selectors.insured_record`` builds.
"""

from __future__ import annotations

from datetime import date

from django.utils.translation import gettext as _

from certificates.registry import Limits
from certificates.rules import WAY_CHOOSE_EMPLOYER, Allowed, Blocked, InsuredRecord, Options, employer_fact


def evaluate(record: InsuredRecord, options: Options, *, today: date, limits: Limits) -> Allowed | Blocked:
    return _deregistration(record, options)


def _deregistration(record: InsuredRecord, options: Options) -> Allowed | Blocked:
    ended = record.ended_employments
    if options.employer_id is not None:
        ended = [e for e in ended if e.employer.id == options.employer_id]
        if not ended:
            employer = record.employer(options.employer_id)
            return Blocked(
                code="no_ended_employment",
                message=_("No ended employment with %(employer)s is on record: it still declares you or never did.")
                % {"employer": employer.name if employer else "?"},
                employer=employer,
                choices=tuple(e.employer for e in record.ended_employments),
                ways_out=(WAY_CHOOSE_EMPLOYER,) if record.ended_employments else (),
            )
    elif not ended:
        return Blocked(
            code="no_ended_employment",
            message=_("No ended employment is on record: a deregistration certificate states the end of one."),
        )
    elif len({e.employer.id for e in ended}) > 1:
        return Blocked(
            code="choose_ended_employer",
            message=_("Several employments have ended: choose the employer the certificate is about."),
            ways_out=(WAY_CHOOSE_EMPLOYER,),
            choices=tuple({e.employer.id: e.employer for e in ended}.values()),
        )
    employment = max(ended, key=lambda e: e.end_date)
    return Allowed(
        facts={
            "employer": employer_fact(employment.employer),
            "start_date": employment.start_date.isoformat(),
            "end_date": employment.end_date.isoformat(),
            "last_period": str(employment.last_period),
            "exit_reason": employment.exit_reason,
        },
        employer=employment.employer,
    )
