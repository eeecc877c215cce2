"""Background work of the project as a whole: the outbox sweep (``damane.background``)."""

from __future__ import annotations

from celery import shared_task

from damane import background


@shared_task
def requeue_outbox() -> int:
    """Celery beat, every ``DAMANE_OUTBOX_SWEEP_SECONDS``: send the tasks of every registered outbox's due rows.

    Rows that lost their task (the broker was down at commit), whose retry is
    due, or whose worker died. The tasks are idempotent, so a second message for
    a row whose first is merely slow is refused by the row's claim.
    """
    return sum(background.requeue_due().values())
