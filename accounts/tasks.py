"""Background work of the accounts app: SMS codes and notice e-mails (docs/operations.md).

Each task is a thin wrapper over a service, takes a row id (never personal data),
is enqueued on commit (``damane.background.enqueue``), and is idempotent: the
outbox row is the unique key of its side effect, locked and checked before
anything is sent. A failed attempt the provider may take later is scheduled in
the row (``next_attempt_at``: exponential backoff with jitter, up to a cap), and
the outbox sweep sends it then; the last attempt records the failure. Run
in-process (eager, the demo and the tests), a task makes one attempt: there is
no broker to wait on, and the person can ask for a new code at once.

The rows these tasks work on are swept by ``damane.tasks.requeue_outbox``
through ``sms_due`` and ``emails_due``, registered in ``AccountsConfig.ready``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from celery import shared_task
from django.conf import settings

from accounts import codes, notifications, recovery
from accounts.models import OutboundEmail, SmsMessage

# An SMS code or a notice more than a day late is no use: the person has asked again since.
GIVE_UP_AFTER = timedelta(days=1)


@shared_task(bind=True, acks_late=True)
def send_code_sms(self, sms_id: int) -> str:
    return codes.code_deliver(sms_id=sms_id, final_attempt=bool(self.request.is_eager))


@shared_task(bind=True, acks_late=True)
def send_email(self, email_id: int) -> str:
    return notifications.notice_deliver(email_id=email_id, final_attempt=bool(self.request.is_eager))


@shared_task(acks_late=True)
def prune_recovery_requests() -> int:
    """Celery beat, daily: forget the recovery pairs nobody typed for a day (``accounts.recovery``)."""
    return recovery.recovery_requests_prune()


def _due(model, now: datetime) -> list[int]:
    """Rows of ``model`` (an outbox of this app) whose task must be sent now.

    Never tried a while after they were written (their task was lost: the
    broker was down at commit); queued again after a failed attempt, and due;
    or claimed by an attempt longer ago than any provider takes (its worker
    died: the next delivery closes it as failed, without sending).
    """
    queued_before = now - timedelta(seconds=settings.DAMANE_OUTBOX_REQUEUE_AFTER_SECONDS)
    stuck_before = now - timedelta(seconds=settings.DAMANE_OUTBOX_STUCK_AFTER_SECONDS)
    recent = model.objects.filter(created_at__gt=now - GIVE_UP_AFTER)
    queued = recent.filter(status=model.Status.QUEUED)
    lost = queued.filter(attempts=0, created_at__lt=queued_before)
    retries = queued.filter(attempts__gt=0, next_attempt_at__lte=now)
    stuck = model.objects.filter(status=model.Status.SENDING, claimed_at__lt=stuck_before)
    ids: list[int] = []
    for rows in (lost, retries, stuck):
        ids.extend(rows.order_by("pk").values_list("pk", flat=True))
    return ids


def sms_due(now: datetime) -> list[int]:
    return _due(SmsMessage, now)


def emails_due(now: datetime) -> list[int]:
    return _due(OutboundEmail, now)
