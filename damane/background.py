"""Enqueueing background work (docs/operations.md).

A task is sent once the transaction that wrote its rows commits, so a rolled-back
write never sends anything. Outside a transaction it is sent at once. When the
broker cannot take it, the row it would work on stays ``queued`` and the
``requeue`` sweep of its app (Celery beat) sends it later: the database row, not
the broker message, is the record of work to do.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django_guid import get_guid, set_guid
from kombu.exceptions import OperationalError as BrokerUnavailable

logger = logging.getLogger("damane.background")


def enqueue(task, *args) -> None:
    """Send ``task`` with ``args`` (ids, never personal data) when the current transaction commits."""

    def send():
        request_id = get_guid()
        try:
            task.apply_async(args=args)
        except BrokerUnavailable as exc:
            logger.error("broker unavailable, %s(%s) left for the requeue sweep: %s", task.name, args, exc)
        finally:
            # Run in-process (eager), the task's end clears the request id: the
            # rest of the request keeps its own.
            set_guid(request_id)

    transaction.on_commit(send)
