"""Background work of the accounts app: SMS codes and notice e-mails (docs/operations.md).

Each task is a thin wrapper over a service, takes a row id (never personal data),
is enqueued on commit (``damane.background.enqueue``), and is idempotent: the
outbox row is the unique key of its side effect, locked and checked before
anything is sent. Retries back off exponentially (with jitter) up to a cap; the
last attempt records the failure instead of raising. Run in-process (eager, the
demo and the tests), a task makes one attempt: there is no broker to wait on,
and the person can ask for a new code at once.
"""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from accounts import codes, notifications
from accounts.models import OutboundEmail, SmsMessage

RETRY = {
    "retry_backoff": settings.DAMANE_TASK_RETRY_BACKOFF_SECONDS,
    "retry_backoff_max": settings.DAMANE_TASK_RETRY_BACKOFF_MAX_SECONDS,
    "retry_jitter": True,
    "max_retries": settings.DAMANE_TASK_MAX_RETRIES,
    "acks_late": True,
}


def _final(task) -> bool:
    return bool(task.request.is_eager) or task.request.retries >= task.max_retries


@shared_task(bind=True, autoretry_for=(codes.SmsRetryLater,), **RETRY)
def send_code_sms(self, sms_id: int) -> str:
    return codes.code_deliver(sms_id=sms_id, final_attempt=_final(self))


@shared_task(bind=True, autoretry_for=(notifications.EmailRetryLater,), **RETRY)
def send_email(self, email_id: int) -> str:
    return notifications.notice_deliver(email_id=email_id, final_attempt=_final(self))


@shared_task
def requeue_outbox() -> int:
    """Celery beat, every minute: send again what the broker never got, close what a dead worker left.

    A row still ``queued`` and never tried a minute after it was written lost its
    task (the broker was down at commit, or the task was dropped); the tasks are
    idempotent, so a second one for a row whose first is merely slow is harmless.
    A row ``sending`` for longer than any provider timeout lost its worker: the
    next attempt records it as failed, without sending.
    """
    now = timezone.now()
    queued_before = now - timedelta(seconds=settings.DAMANE_OUTBOX_REQUEUE_AFTER_SECONDS)
    stuck_before = now - timedelta(seconds=settings.DAMANE_OUTBOX_STUCK_AFTER_SECONDS)
    count = 0
    for model, task in ((SmsMessage, send_code_sms), (OutboundEmail, send_email)):
        # Never tried: a row tried before waits for its own retry, with its backoff.
        ids = model.objects.filter(
            status=model.Status.QUEUED,
            attempts=0,
            created_at__lt=queued_before,
            created_at__gt=now - timedelta(days=1),
        ).values_list("pk", flat=True)
        stuck = model.objects.filter(status=model.Status.SENDING, claimed_at__lt=stuck_before).values_list(
            "pk", flat=True
        )
        for pk in [*ids, *stuck]:
            task.apply_async(args=(pk,))
            count += 1
    return count
