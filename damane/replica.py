"""Verification reads from a streaming replica (docs/scaling.md, "Read replica for verification").

When ``DATABASE_REPLICA_URL`` is set, the settings add a ``replica`` database
alias (a hot standby of the primary). Three pieces decide where a read goes:

- ``@replica_reads`` on a view (the verify page, the verify API, the revocation
  list, the published keys) says its reads *may* come from the replica;
- ``read(query, missed=…)`` runs one read there: ``ReplicaRouter`` sends the
  listed models (``DATABASE_REPLICA_MODELS``) to the replica while it runs. A
  miss (``missed(result)``) is asked again on the primary, since a certificate
  issued a moment ago may not have reached the replica yet; a replica that fails
  (stopped, unreachable, a query cancelled by replay) is marked down and the
  same read runs on the primary: the person sees no error;
- the replica's replay lag is **sampled**, at most once every
  ``DATABASE_REPLICA_CHECK_SECONDS`` per process (by whichever request finds the
  sample stale; the others keep the last one), never per look-up. A lag over
  ``DATABASE_REPLICA_MAX_LAG_SECONDS`` (1 s: a revocation must show at once,
  docs/domain.md) sends every read to the primary until a later sample is back
  under it; a replica that does not answer is asked again only after
  ``DATABASE_REPLICA_RETRY_SECONDS``.

The lag: 0 when the replica has replayed everything the primary had written
when the sample began (its ``pg_current_wal_insert_lsn()``; asked again up to
three times 20 ms apart, since WAL the primary wrote an instant before, from
autovacuum for instance, is not a lag), else the age of the last transaction
the replica replayed (``now() - pg_last_xact_replay_timestamp()``).
A replica that stopped receiving WAL (replay paused, a broken link to the
primary) therefore counts as late as soon as the primary writes anything.

Without a replica alias nothing here does anything: every read goes to ``default``.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

logger = logging.getLogger(__name__)

REPLICA = "replica"
T = TypeVar("T")

# Inside a view decorated with @replica_reads.
_allowed: contextvars.ContextVar[bool] = contextvars.ContextVar("damane_replica_allowed", default=False)
# The alias the router sends the listed models to, inside read().
_routed: contextvars.ContextVar[str | None] = contextvars.ContextVar("damane_replica_routed", default=None)


def configured() -> bool:
    return REPLICA in connections.settings


@dataclass
class Sample:
    """The last look at the replica, in this process."""

    taken_at: float = float("-inf")  # time.monotonic()
    usable: bool = False
    lag: float | None = None  # seconds; None: the replica did not answer
    error: str = ""


_sample = Sample()
_sampling = threading.Lock()


def reset() -> None:
    """Forget the last sample (tests, and a new replica URL): the next read samples again."""
    global _sample
    _sample = Sample()


def current_sample() -> Sample:
    return _sample


def _due(sample: Sample, now: float) -> bool:
    wait = settings.DATABASE_REPLICA_CHECK_SECONDS if sample.error == "" else settings.DATABASE_REPLICA_RETRY_SECONDS
    return now - sample.taken_at >= wait


# When the replica is found behind, it is asked again this many times, this long apart
# (at most 60 ms, paid only then, by the one request taking the sample): WAL written a
# moment before the sample (autovacuum, a checkpoint) is not a lag.
_RECHECKS = 3
_RECHECK_PAUSE = 0.02


def measure_lag() -> float:
    """The replica's replay lag in seconds, as described above (short queries, a few ms)."""
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        # Every WAL record inserted, committed transactions included, flushed or not yet.
        cursor.execute("SELECT pg_current_wal_insert_lsn()::text")
        primary_lsn = cursor.fetchone()[0]
    with connections[REPLICA].cursor() as cursor:
        for attempt in range(_RECHECKS + 1):
            cursor.execute(
                "SELECT NOT pg_is_in_recovery() OR pg_last_wal_replay_lsn() >= %s::pg_lsn,"
                " EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())",
                [primary_lsn],
            )
            caught_up, age = cursor.fetchone()
            if caught_up:
                return 0.0
            if attempt < _RECHECKS:
                time.sleep(_RECHECK_PAUSE)
    # Never replayed a transaction since it started: as late as can be.
    return float("inf") if age is None else max(float(age), 0.0)


def take_sample() -> Sample:
    """Sample the replica now (whatever the age of the last sample) and keep the result."""
    global _sample
    now = time.monotonic()
    try:
        lag = measure_lag()
    except DatabaseError as exc:
        _close_quietly()
        sample = Sample(taken_at=now, usable=False, lag=None, error=exc.__class__.__name__)
        if _sample.error == "":
            logger.warning("replica unreachable (%s): verification reads go to the primary", sample.error)
    else:
        sample = Sample(taken_at=now, usable=lag <= settings.DATABASE_REPLICA_MAX_LAG_SECONDS, lag=lag)
        if _sample.usable and not sample.usable:
            logger.warning("replica %.3f s behind: verification reads go to the primary", lag)
    _sample = sample
    return sample


def usable() -> bool:
    """Whether reads may go to the replica now, from the last sample (taken again when stale)."""
    if not configured():
        return False
    sample = _sample
    if _due(sample, time.monotonic()) and _sampling.acquire(blocking=False):
        # One request per process pays for the sample; the others read the last one.
        try:
            sample = take_sample()
        finally:
            _sampling.release()
    return sample.usable


def mark_down(exc: Exception) -> None:
    """A read on the replica failed: primary only until the next try (DATABASE_REPLICA_RETRY_SECONDS)."""
    global _sample
    _close_quietly()
    if _sample.error == "":
        logger.warning("replica read failed (%s): verification reads go to the primary", exc.__class__.__name__)
    _sample = Sample(taken_at=time.monotonic(), usable=False, lag=None, error=exc.__class__.__name__)


def _close_quietly() -> None:
    # A dead connection may fail to close; it is dropped either way.
    with contextlib.suppress(Exception):
        connections[REPLICA].close()


def replica_reads(view):
    """Let the reads of ``view`` that go through ``read()`` come from the replica."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        token = _allowed.set(True)
        try:
            return view(*args, **kwargs)
        finally:
            _allowed.reset(token)

    return wrapper


def _run_on(alias: str | None, query: Callable[[], T]) -> T:
    token = _routed.set(alias)
    try:
        return query()
    finally:
        _routed.reset(token)


def read(query: Callable[[], T], *, missed: Callable[[T], bool] | None = None) -> T:
    """``query()`` on the replica when this view allows it and the replica is usable, else on the primary.

    A result for which ``missed`` says true (nothing found) is asked again on the
    primary; so is a read that fails on the replica.
    """
    if not (_allowed.get() and usable()):
        return query()
    try:
        result = _run_on(REPLICA, query)
    except DatabaseError as exc:
        mark_down(exc)
        return query()
    if missed is not None and missed(result):
        return query()
    return result


class ReplicaRouter:
    """Sends reads of ``DATABASE_REPLICA_MODELS`` to the alias ``read()`` chose; nothing else."""

    def db_for_read(self, model, **hints):
        alias = _routed.get()
        if alias is None or hints.get("instance") is not None:
            # An object's related rows come from where the object came from (Django's default).
            return None
        if model._meta.label_lower in settings.DATABASE_REPLICA_MODELS:
            return alias
        return None

    def db_for_write(self, model, **hints):
        # Always the primary, also for a new row pointing at an object read from
        # the replica (Django would otherwise write it where that object came from).
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        # The replica is a copy of the primary: objects from either relate.
        if {obj1._state.db, obj2._state.db} <= {DEFAULT_DB_ALIAS, REPLICA, None}:
            return True
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # A hot standby is read-only: it gets the schema by replaying the primary's WAL.
        return db != REPLICA
