"""Arrears alerts: the opt-in, and the run that sends them (one transaction per alert).

``arrears_alerts_run`` is what Celery beat runs every day (``alerts.tasks``) and
``manage.py arrears_alerts`` by hand. For every opted-in, active insured account
with an e-mail address and every active employment whose employer missed the
overdue period (``alerts.rules``), it writes an ``ArrearsAlert`` row and queues
the e-mail in the accounts outbox in the same transaction. The row's unique
constraint (account, employer, period) makes a re-run, a concurrent run or a
worker killed at any point send nothing twice; the outbox sweep sends an e-mail
whose task was lost.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from alerts.models import AlertPreference, ArrearsAlert
from alerts.rules import missed_period, overdue_period
from audit.services import audit_record
from declarations.periods import Period

logger = logging.getLogger("alerts")

ALERT_TEMPLATE = "arrears_alert"


def arrears_alerts_enabled(user) -> bool:
    return AlertPreference.objects.filter(user=user, arrears_alerts=True).exists()


def alert_preference_set(*, user, enabled: bool, ip_address: str | None = None) -> AlertPreference:
    """Opt ``user`` in to arrears alerts, or out; audited when it changes."""
    with transaction.atomic():
        preference, _created = AlertPreference.objects.select_for_update().get_or_create(user=user)
        before = preference.arrears_alerts
        if before != enabled:
            preference.arrears_alerts = enabled
            preference.save(update_fields=["arrears_alerts", "updated_at"])
            audit_record(
                action="alerts.arrears.opted_in" if enabled else "alerts.arrears.opted_out",
                obj=preference,
                actor=user,
                insured=user.insured,
                before={"arrears_alerts": before},
                after={"arrears_alerts": enabled},
                ip_address=ip_address,
            )
    return preference


@dataclass
class Candidate:
    user_id: int
    insured_id: int
    employer_id: int
    employer_name: str
    email: str
    language: str
    period: Period


@dataclass
class RunResult:
    period: Period
    candidates: list[Candidate] = field(default_factory=list)
    sent: list[ArrearsAlert] = field(default_factory=list)


def arrears_alert_candidates(*, today: date) -> tuple[Period, list[Candidate]]:
    """Alerts due on ``today`` and not yet sent (reads only)."""
    from declarations.models import Declaration
    from registry.models import Employment

    due_day = settings.DAMANE_DECLARATION_DUE_DAY
    period = overdue_period(today=today, due_day=due_day)
    employments = (
        Employment.objects.filter(
            end_date__isnull=True,
            start_period__lte=str(period),
            insured__account__is_active=True,
            insured__account__alert_preference__arrears_alerts=True,
        )
        .exclude(insured__account__email="")
        .values_list(
            "insured_id",
            "insured__account__id",
            "insured__account__email",
            "insured__account__language",
            "employer_id",
            "employer__name",
            "start_period",
        )
    )
    rows = list(employments)
    employer_ids = {row[4] for row in rows}
    declared = set(
        Declaration.objects.current()
        .filter(employer_id__in=employer_ids, period=str(period))
        .values_list("employer_id", flat=True)
    )
    sent = set(
        ArrearsAlert.objects.filter(period=str(period), employer_id__in=employer_ids).values_list(
            "user_id", "employer_id"
        )
    )
    candidates = []
    seen = set()
    for insured_id, user_id, email, language, employer_id, employer_name, start in rows:
        key = (user_id, employer_id)
        if key in sent or key in seen:
            continue
        missed = missed_period(
            declared={period} if employer_id in declared else set(),
            employment_start=Period.parse(start),
            today=today,
            due_day=due_day,
        )
        if missed is None:
            continue
        seen.add(key)
        candidates.append(
            Candidate(
                user_id=user_id,
                insured_id=insured_id,
                employer_id=employer_id,
                employer_name=employer_name,
                email=email,
                language=language,
                period=missed,
            )
        )
    return period, candidates


def arrears_alert_send(candidate: Candidate) -> ArrearsAlert | None:
    """Record one alert and queue its e-mail, in one transaction; None when it already exists."""
    from accounts.notifications import send_notice

    notice_path = reverse(
        "casework:employer_case", kwargs={"kind": "employer_notice", "employer_id": candidate.employer_id}
    )
    try:
        with transaction.atomic():
            alert = ArrearsAlert.objects.create(
                user_id=candidate.user_id, employer_id=candidate.employer_id, period=str(candidate.period)
            )
            alert.email = send_notice(
                to=candidate.email,
                template=ALERT_TEMPLATE,
                context={
                    "employer": candidate.employer_name,
                    "period": str(candidate.period),
                    "notice_url": f"{settings.SITE_URL}{notice_path}",
                    "settings_url": f"{settings.SITE_URL}{reverse('alerts:settings')}",
                },
                language=candidate.language or settings.LANGUAGE_CODE,
                user=alert.user,
            )
            alert.save(update_fields=["email"])
            audit_record(
                action="alerts.arrears.sent",
                obj=alert,
                insured=alert.user.insured,
                after={"employer_id": candidate.employer_id, "period": str(candidate.period)},
            )
    except IntegrityError:
        # Another run wrote this alert first: it sends it.
        return None
    return alert


def arrears_alerts_run(*, today: date | None = None, dry_run: bool = False) -> RunResult:
    today = today or timezone.localdate()
    period, candidates = arrears_alert_candidates(today=today)
    result = RunResult(period=period, candidates=candidates)
    if dry_run:
        return result
    for candidate in candidates:
        alert = arrears_alert_send(candidate)
        if alert is not None:
            result.sent.append(alert)
    logger.info("arrears alerts: %s due, %s sent", len(candidates), len(result.sent))
    return result


def alert_send_context(email) -> dict:
    """Made when the e-mail is sent: the period's first day, so the template names the month in words."""
    try:
        month = Period.parse(email.context.get("period", "")).first_day
    except ValueError:
        month = None
    return {"month": month}
