"""Background work of the alerts app (docs/operations.md)."""

from __future__ import annotations

from celery import shared_task

from alerts import services


@shared_task(acks_late=True)
def send_arrears_alerts() -> int:
    """Celery beat, once a day: the arrears alerts due today.

    Idempotent (``ArrearsAlert``'s unique constraint): given back to the queue
    when its worker dies, the next run sends only what is missing.
    """
    return len(services.arrears_alerts_run().sent)
