"""The International Treaties service's writes. Each function is one transaction, audited.

An officer of the service records the foreign periods of a treaty request as a
new version, with the foreign institution's document; a *different* officer
approves it (four eyes, also a database CHECK); the service then issues the
cumulative-periods certificate through the certificates machinery, and the
insured is told by e-mail, through the outbox, that it is ready.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.services import audit_record
from casework.four_eyes import FourEyes, four_eyes_approve, four_eyes_propose, four_eyes_reject
from casework.models import Case, CaseKind, CaseStatus
from casework.services import case_decide
from casework.uploads import check_upload, random_name, safe_display_name
from certificates.kinds import declared_days
from certificates.models import Certificate, Channel
from certificates.services import certificate_store, evaluate_for
from damane.roles import is_treaty_officer
from damane.storage import removed_on_failure, store
from registry.models import Insured
from treaties import rules
from treaties.kinds import treaty_periods
from treaties.models import Convention, ForeignPeriod, ForeignPeriodVersion, Unit

logger = logging.getLogger(__name__)

EARLIEST_PERIOD = date(1940, 1, 1)
MAX_PERIODS = 40


class TreatyError(Exception):
    """A treaties-service action refused for a reason the officer can act on."""


@dataclass(frozen=True)
class PeriodInput:
    institution: str
    start: date
    end: date
    unit: str
    amount: int
    reference: str


def _require_officer(user) -> None:
    if not is_treaty_officer(user):
        raise TreatyError(_("Only officers of the International Treaties service can do this."))


# Four eyes on foreign periods: an officer records a version, another officer decides it.
PERIODS_FOUR_EYES = FourEyes(
    model=ForeignPeriodVersion,
    proposer="recorded_by",
    pending=ForeignPeriodVersion.Status.PENDING,
    may_propose=is_treaty_officer,
    may_decide=is_treaty_officer,
    error=TreatyError,
    not_proposer=gettext_lazy("Only officers of the International Treaties service can do this."),
    not_decider=gettext_lazy("Only officers of the International Treaties service can do this."),
    not_pending=gettext_lazy("This version has already been decided."),
    own_proposal=gettext_lazy("You recorded these periods: another officer must approve them (four-eyes rule)."),
    approved=ForeignPeriodVersion.Status.APPROVED,
    rejected=ForeignPeriodVersion.Status.REJECTED,
    reject_note_required=gettext_lazy("Explain why these periods are rejected."),
    one_pending_per="case",
    already_pending=gettext_lazy("A version waits for approval: have it decided before recording another."),
)


def check_period(period: PeriodInput, *, today: date) -> None:
    """Refuse a period that cannot be what a foreign institution reported."""
    if not period.institution.strip():
        raise TreatyError(_("Give the foreign institution of each period."))
    if not period.reference.strip():
        raise TreatyError(_("Give the foreign institution's reference of each period."))
    if period.start > period.end:
        raise TreatyError(_("A period ends before it starts."))
    if period.start < EARLIEST_PERIOD or period.end > today:
        raise TreatyError(_("A period must lie between 1940 and today."))
    if period.unit not in Unit.values:
        raise TreatyError(_("Choose whether the period is reported in quarters, months or days."))
    if period.amount <= 0:
        raise TreatyError(_("The number of quarters, months or days must be at least 1."))
    calendar_days = (period.end - period.start).days + 1
    quarters = len(rules.calendar_split(period.start, period.end))
    months = (period.end.year - period.start.year) * 12 + period.end.month - period.start.month + 1
    limit = {Unit.QUARTERS: quarters, Unit.MONTHS: months, Unit.DAYS: calendar_days}[period.unit]
    if period.amount > limit:
        raise TreatyError(
            _("%(amount)s %(unit)s do not fit between %(start)s and %(end)s (at most %(limit)s).")
            % {
                "amount": period.amount,
                "unit": Unit(period.unit).label,
                "start": period.start.strftime("%d/%m/%Y"),
                "end": period.end.strftime("%d/%m/%Y"),
                "limit": limit,
            }
        )


def _treaty_case(case: Case) -> Case:
    case = Case.objects.select_for_update().get(pk=case.pk)
    if case.kind != CaseKind.TREATY:
        raise TreatyError(_("This request is not a treaty request."))
    return case


def _check_convention_country(case: Case, convention: Convention) -> None:
    """A request's periods go under the convention with the country it names, never under another one."""
    from casework.forms import TREATY_COUNTRIES

    requested = case.details.get("country") or ""
    if requested and requested != convention.country:
        raise TreatyError(
            _(
                "This request is for %(country)s: record its periods under the convention with that country. "
                "If none is in force, close the request and tell the person what to do."
            )
            % {"country": dict(TREATY_COUNTRIES).get(requested, requested)}
        )


def periods_record(
    *,
    case: Case,
    actor,
    convention: Convention,
    periods: list[PeriodInput],
    document,
    note: str = "",
    ip_address: str | None = None,
) -> ForeignPeriodVersion:
    """Record a new version of the foreign periods; it counts only once another officer approves it."""
    PERIODS_FOUR_EYES.require_proposer(actor)
    today = timezone.localdate()
    if not periods:
        raise TreatyError(_("Enter at least one foreign period."))
    if len(periods) > MAX_PERIODS:
        raise TreatyError(_("At most %(count)s periods in one version.") % {"count": MAX_PERIODS})
    periods = [
        PeriodInput(**{**p.__dict__, "institution": p.institution.strip() or convention.liaison_institution})
        for p in periods
    ]
    for period in periods:
        check_period(period, today=today)
    if document is None:
        raise TreatyError(_("Attach the foreign institution's document."))
    try:
        content_type, extension, sha256 = check_upload(document)
    except ValidationError as error:
        raise TreatyError(" ".join(error.messages)) from None
    if not convention.active:
        raise TreatyError(_("This convention is not in force."))
    with removed_on_failure() as stored, transaction.atomic():  # no file left if this fails
        case = _treaty_case(case)
        if not case.is_open:
            raise TreatyError(_("This request is already closed."))
        _check_convention_country(case, convention)
        number = (ForeignPeriodVersion.objects.filter(case=case).aggregate(n=Max("number"))["n"] or 0) + 1
        version = ForeignPeriodVersion(
            case=case,
            number=number,
            convention=convention,
            note=(note or "").strip(),
            document_name=safe_display_name(document.name),
            document_type=content_type,
            document_size=document.size,
            document_sha256=sha256,
        )
        store(version.document, random_name(extension), document, stored)

        def record_periods(version: ForeignPeriodVersion) -> None:
            ForeignPeriod.objects.bulk_create(
                ForeignPeriod(
                    version=version,
                    country=convention.country,
                    institution=p.institution.strip(),
                    start=p.start,
                    end=p.end,
                    unit=p.unit,
                    amount=p.amount,
                    reference=p.reference.strip(),
                )
                for p in periods
            )
            if case.status == CaseStatus.SUBMITTED:
                case_decide(case=case, actor=actor, status=CaseStatus.IN_PROGRESS, note="", ip_address=ip_address)

        four_eyes_propose(
            flow=PERIODS_FOUR_EYES,
            record=version,
            actor=actor,
            action="treaties.periods.recorded",
            then=record_periods,
            insured=case.insured,
            after={
                "request": case.reference,
                "version": number,
                "convention": convention.country,
                "periods": [
                    {
                        "start": p.start.isoformat(),
                        "end": p.end.isoformat(),
                        "unit": p.unit,
                        "amount": p.amount,
                        "reference": p.reference,
                    }
                    for p in periods
                ],
                "document_sha256": sha256,
            },
            reason=version.note,
            ip_address=ip_address,
        )
    return version


def periods_approve(
    *, version: ForeignPeriodVersion, actor, note: str = "", ip_address: str | None = None
) -> ForeignPeriodVersion:
    """Approve a pending version; the version it corrects stays, marked replaced."""
    with transaction.atomic():
        # The request's lock first: whoever decides or issues on it takes it, so the approved version is stable.
        case = _treaty_case(version.case)
        previous = ForeignPeriodVersion.objects.approved().filter(case=case).select_for_update().first()

        def supersede(version: ForeignPeriodVersion) -> None:
            if previous is not None:
                previous.status = ForeignPeriodVersion.Status.SUPERSEDED
                previous.save(update_fields=["status"])

        return four_eyes_approve(
            flow=PERIODS_FOUR_EYES,
            record=version,
            actor=actor,
            note=note,
            action="treaties.periods.approved",
            apply=supersede,
            insured=case.insured,
            before={"replaces": previous.number if previous else None},
            after=lambda version: {"version": version.number, "recorded_by": version.recorded_by.username},
            ip_address=ip_address,
        )


def periods_reject(
    *, version: ForeignPeriodVersion, actor, note: str, ip_address: str | None = None
) -> ForeignPeriodVersion:
    with transaction.atomic():
        case = _treaty_case(version.case)
        return four_eyes_reject(
            flow=PERIODS_FOUR_EYES,
            record=version,
            actor=actor,
            note=note,
            action="treaties.periods.rejected",
            insured=case.insured,
            after=lambda version: {"version": version.number},
            ip_address=ip_address,
        )


def treaty_facts(*, insured: Insured, version: ForeignPeriodVersion, today: date) -> dict:
    """What the certificate prints: Moroccan quarters from the declarations, the approved foreign periods, totals."""
    declared = evaluate_for(insured, declared_days.KIND.value, today=today).facts
    convention = version.convention
    rule = rules.Rule(**convention.rule)
    moroccan = {
        (year["year"], quarter + 1): days
        for year in declared["years"]
        for quarter, days in enumerate(year["quarters"])
        if days
    }
    periods = [
        rules.Period(
            country=p.country,
            institution=p.institution,
            start=p.start,
            end=p.end,
            unit=p.unit,
            amount=p.amount,
            reference=p.reference,
        )
        for p in version.periods.all()
    ]
    counted = rules.cumulate(
        moroccan=moroccan, periods=periods, rule=rule, threshold=settings.DAMANE_PENSION_DAYS_THRESHOLD
    )
    return {
        "convention": {
            "country": convention.country,
            "name_fr": convention.name_fr,
            "name_ar": convention.name_ar,
            "title_fr": convention.title_fr,
            "title_ar": convention.title_ar,
            "institution": convention.liaison_institution,
            "institution_ar": convention.liaison_institution_ar,
            "rule": convention.rule,
        },
        "request_reference": version.case.reference,
        "version": version.number,
        "as_of": today.isoformat(),
        "moroccan": {
            "years": declared["years"],
            "total_days": declared["total_days"],
            "first_period": declared["first_period"],
            "last_period": declared["last_period"],
        },
        **counted,
    }


def treaty_certificate_issue(*, case: Case, actor, ip_address: str | None = None) -> Certificate:
    """Issue the certificate on the approved version, close the request, tell the insured it is ready."""
    _require_officer(actor)
    today = timezone.localdate()
    with transaction.atomic():
        case = _treaty_case(case)
        insured = Insured.objects.select_for_update().get(pk=case.insured_id)
        version = (
            ForeignPeriodVersion.objects.approved()
            .filter(case=case)
            .select_related("convention", "case")
            .select_for_update(of=("self",))
            .first()
        )
        if version is None:
            raise TreatyError(_("No approved foreign periods: record them and have another officer approve them."))
        if ForeignPeriodVersion.objects.pending().filter(case=case).exists():
            raise TreatyError(_("A correction waits for approval: have it decided before issuing."))
        if version.certificate_id is not None:
            raise TreatyError(_("The certificate of this version is already issued."))
        account = getattr(insured, "account", None)
        locale = (account.language if account is not None else "") or settings.LANGUAGE_CODE
        certificate = certificate_store(
            insured=insured,
            kind=treaty_periods.KIND.value,
            facts=treaty_facts(insured=insured, version=version, today=today),
            actor=actor,
            channel=Channel.AGENCY,
            locale=locale,
            today=today,
            ip_address=ip_address,
        )
        version.certificate = certificate
        version.save(update_fields=["certificate"])
        if case.is_open:
            case_decide(
                case=case,
                actor=actor,
                status=CaseStatus.DONE,
                note=_("Your cumulative periods certificate %(number)s is issued: download it from My certificates.")
                % {"number": certificate.number},
                ip_address=ip_address,
                # One event, one e-mail: "your certificate is ready" below, not also "your request was updated".
                notify=False,
            )
        audit_record(
            action="treaties.certificate.issued",
            obj=version,
            actor=actor,
            insured=insured,
            after={"request": case.reference, "version": version.number, "number": certificate.number},
            ip_address=ip_address,
        )
        notify_certificate_ready(case=case, certificate=certificate)
    logger.info("treaty certificate issued number=%s version=%s", certificate.number, version.number)
    return certificate


def notify_certificate_ready(*, case: Case, certificate: Certificate):
    """E-mail the account holder, in their language, that the certificate is ready.

    The message names only the first name and the request's reference (no CIN,
    CNSS number or periods: docs/security.md §23). No account or no e-mail: nothing to send.
    """
    from accounts.notifications import send_notice

    account = getattr(case.insured, "account", None)
    if account is None or not account.email or not account.is_active:
        return None
    return send_notice(
        to=account.email,
        template="treaty_certificate_ready",
        context={"first_name": case.insured.first_name.title(), "reference": case.reference},
        language=account.language or certificate.locale,
        user=account,
    )
