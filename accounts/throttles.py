"""Failure counters with locks, in the database and row-locked (docs/security.md §3, 8, 18).

Every function that changes a counter must run inside ``transaction.atomic()``:
the row stays locked until the transaction ends, so concurrent failures on one
key are counted one after the other and none is lost.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from django.db import transaction

from accounts.models import Throttle


def locked_row(key: str) -> Throttle:
    """The counter for ``key``, created if needed and locked until the transaction ends."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("locked_row() must run inside transaction.atomic()")
    # get_or_create survives the race of two first failures (unique key).
    Throttle.objects.get_or_create(key=key)
    return Throttle.objects.select_for_update().get(key=key)


def seconds_locked(row: Throttle | None, now: datetime) -> int:
    """Seconds until the lock on ``row`` ends; 0 when not locked."""
    if row is None or row.locked_until is None or row.locked_until <= now:
        return 0
    return math.ceil((row.locked_until - now).total_seconds())


def lock_remaining(key: str, now: datetime) -> int:
    """Seconds until ``key`` is unlocked, read without locking (for a quick refusal)."""
    return seconds_locked(Throttle.objects.filter(key=key).first(), now)


def record_failure(row: Throttle, *, now: datetime, limit: int, window: int, lock: int) -> int:
    """Count one failure on a row from ``locked_row``; return the seconds it is now locked for.

    The window starts at the first failure; once ``limit`` failures fall in it, the
    key is locked for ``lock`` seconds. Failures while locked still count but do not
    extend the lock. A lapsed window or lock starts a fresh count.
    """
    if not seconds_locked(row, now) and (
        row.window_started_at is None
        or now >= row.window_started_at + timedelta(seconds=window)
        or row.locked_until is not None
    ):
        row.failures = 0
        row.window_started_at = now
        row.locked_until = None
    row.failures += 1
    if row.failures >= limit and row.locked_until is None:
        row.locked_until = now + timedelta(seconds=lock)
    row.save(update_fields=["failures", "window_started_at", "locked_until", "updated_at"])
    return seconds_locked(row, now)


def clear(key: str) -> None:
    Throttle.objects.filter(key=key).delete()
