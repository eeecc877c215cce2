"""Enqueueing background work, and the one outbox sweep that re-sends what was lost (docs/operations.md).

A task is sent once the transaction that wrote its rows commits, so a rolled-back
write never sends anything. Outside a transaction it is sent at once. The
database row, not the broker message, is the record of work to do: when the
broker cannot take a task, its row stays ``queued``; when a worker dies, or a
retry falls due, the row says so. Each app that writes work to the database
first registers its outbox here, from its ``AppConfig.ready``
(``register_outbox``): a function that lists the ids of its rows whose task must
be sent (again) now, and the task that takes such an id. One beat task,
``damane.tasks.requeue_outbox``, sweeps them all. This module imports no app:
the apps above it register themselves.

Every registered task must be idempotent (its row is claimed, locked and checked
before anything happens): the sweep may send a task whose first message is
merely slow, and the broker may deliver a message twice.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from celery.signals import task_prerun
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
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


def retry_delay(attempts: int, *, rng: random.Random | None = None) -> timedelta:
    """How long to wait before the next attempt, after ``attempts`` failed ones: exponential, capped, jittered.

    Retries are scheduled in the database (a row's ``next_attempt_at``, sent by
    the sweep), never with the broker's ETA: a worker holds an ETA message
    unacknowledged until it is due, and the broker's short visibility timeout
    would hand it to another worker meanwhile (docs/decisions.md).
    """
    ceiling = min(
        settings.DAMANE_TASK_RETRY_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0),
        settings.DAMANE_TASK_RETRY_BACKOFF_MAX_SECONDS,
    )
    # Half fixed, half random: retries of many rows do not fall on the same second.
    return timedelta(seconds=ceiling / 2 + (rng or random).uniform(0, ceiling / 2))


def last_attempt(attempts: int) -> bool:
    """Whether an attempt numbered ``attempts`` (from 1) is the last one: its failure is recorded, not retried."""
    return attempts > settings.DAMANE_TASK_MAX_RETRIES


def outbox_claim_stale(claimed_at: datetime | None, now: datetime | None = None) -> bool:
    """Whether a row claimed at ``claimed_at`` was claimed by an attempt that died.

    An attempt holds its claim for at most the provider's timeout; one claimed
    longer ago than ``DAMANE_OUTBOX_STUCK_AFTER_SECONDS`` lost its worker. A
    younger claim belongs to a live attempt, which a second delivery of the
    same task must leave alone.
    """
    if claimed_at is None:
        return True
    now = now or timezone.now()
    return claimed_at < now - timedelta(seconds=settings.DAMANE_OUTBOX_STUCK_AFTER_SECONDS)


@dataclass(frozen=True)
class Outbox:
    """Rows of one kind of background work: ``due(now)`` lists the ids ``task`` must be sent for now."""

    name: str
    task: object
    due: Callable[[datetime], Iterable[int]]


_outboxes: dict[str, Outbox] = {}


def register_outbox(name: str, *, task, due: Callable[[datetime], Iterable[int]]) -> None:
    """Have the sweep send ``task(id)`` for every id ``due(now)`` lists; called from an app's ``ready``.

    ``due`` lists the rows that lost their task (still queued a while after they
    were written), whose retry is due, and whose worker died (claimed, and no
    live worker holds them). Registering a name again replaces it.
    """
    _outboxes[name] = Outbox(name=name, task=task, due=due)


def outboxes() -> list[Outbox]:
    return list(_outboxes.values())


def _first_send_in_a_while(name: str, pk: int) -> bool:
    """Whether the sweep has not sent ``name``'s task for row ``pk`` in the last requeue period.

    A row stays due until a worker takes it. While the workers are behind (a
    slow provider, a backlog after an outage), a row the sweep has just sent is
    still queued ten seconds later: without this mark every sweep would add one
    more message per waiting row, and the backlog would grow with itself. The
    mark lives in the shared cache for ``DAMANE_OUTBOX_REQUEUE_AFTER_SECONDS``;
    a cache that does not answer lets the row be sent (a second message is
    refused by the row's claim).
    """
    try:
        return cache.add(f"outbox-sent:{name}:{pk}", 1, timeout=settings.DAMANE_OUTBOX_REQUEUE_AFTER_SECONDS)
    except Exception as exc:  # any cache failure: sending again is the safe side
        logger.warning("cache unavailable, %s(%s) sent without the requeue mark: %s", name, pk, exc)
        return True


@task_prerun.connect(dispatch_uid="damane.background.outbox_taken")
def _outbox_taken(sender=None, args=None, **kwargs) -> None:
    """A worker has taken an outbox row's task: the sweep may send it again as soon as it is due.

    The mark only stops the sweep from piling messages on a row nobody has taken
    yet; once a worker runs the task, a retry the row schedules (seconds away for
    an SMS) must not wait for the mark to expire.
    """
    name = getattr(sender, "name", None)
    for outbox in _outboxes.values():
        if getattr(outbox.task, "name", None) == name and args:
            _forget_sends(outbox.name, [args[0]])


def _forget_sends(name: str, pks: list[int]) -> None:
    try:
        cache.delete_many([f"outbox-sent:{name}:{pk}" for pk in pks])
    except Exception as exc:  # the marks expire by themselves
        logger.warning("cache unavailable, requeue marks of %s left to expire: %s", name, exc)


def requeue_due(now: datetime | None = None) -> dict[str, int]:
    """Send the task of every due row of every outbox; return how many were sent, per outbox.

    The broker going away in the middle stops the sweep: the rows stay due and
    the next sweep sends them.
    """
    now = now or timezone.now()
    sent: dict[str, int] = {}
    for outbox in outboxes():
        ids = [pk for pk in outbox.due(now) if _first_send_in_a_while(outbox.name, pk)]
        sent[outbox.name] = 0
        for index, pk in enumerate(ids):
            try:
                outbox.task.apply_async(args=(pk,))
            except BrokerUnavailable as exc:
                logger.error("broker unavailable, requeue sweep stopped at %s(%s): %s", outbox.name, pk, exc)
                # Not sent: the next sweep must not wait a requeue period for them.
                _forget_sends(outbox.name, ids[index:])
                return sent
            sent[outbox.name] += 1
        if ids:
            logger.info("requeue sweep: %s task(s) of %s sent again", len(ids), outbox.name)
    return sent
