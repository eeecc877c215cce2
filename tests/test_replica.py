"""Verification from a real hot standby (issue 23, item 1; damane/replica.py).

The module takes a base backup of the test run's PostgreSQL (``pg_basebackup -R``,
after pytest-django created the test database), starts it as a hot standby on a
free port (tests/servers.py, ``throwaway_standby``) and points a ``replica``
alias at it. The tests commit for real (``transaction=True``): a standby only
sees committed WAL. Where replication is not allowed from 127.0.0.1 (pg_hba.conf)
the module is skipped with the reason, except in CI (``DAMANE_REQUIRE_REPLICA``,
set by ``.ci/run``, which allows it: ``.ci/allow-replication``).
"""

from __future__ import annotations

import contextlib
import copy
import os
import time

import pytest
from django.db import connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from certificates.models import Certificate
from certificates.services import certificate_issue, certificate_revoke
from damane import replica
from tests.factories import seed_personas
from tests.servers import ReplicationRefused, throwaway_standby

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, databases=["default", "replica"]),
]


@pytest.fixture(scope="module")
def standby(django_db_setup):
    primary = connections["default"].settings_dict
    if connections["default"].vendor != "postgresql":
        pytest.skip("a streaming replica needs PostgreSQL")
    try:
        with throwaway_standby(
            host=primary["HOST"] or "127.0.0.1",
            port=int(primary["PORT"] or 5432),
            user=primary["USER"] or "postgres",
            password=primary["PASSWORD"] or "",
        ) as server:
            yield server
    except ReplicationRefused as exc:
        if os.environ.get("DAMANE_REQUIRE_REPLICA"):
            raise
        pytest.skip(f"the test PostgreSQL refuses replication connections from here (.ci/allow-replication): {exc}")


@pytest.fixture(scope="module", autouse=True)
def replica_alias(standby):
    """The ``replica`` alias, as DATABASE_REPLICA_URL makes it, pointed at the standby."""
    conf = copy.deepcopy(connections["default"].settings_dict)
    conf.update(HOST="127.0.0.1", PORT=str(standby.port))
    conf["OPTIONS"] = {**conf["OPTIONS"], "connect_timeout": 1}
    # Never created nor flushed by the test framework: it is the test database itself, replicated.
    conf["TEST"] = {**conf["TEST"], "MIRROR": "default"}
    connections.settings[replica.REPLICA] = conf
    yield
    connections[replica.REPLICA].close()
    del connections.settings[replica.REPLICA]
    if hasattr(connections._connections, replica.REPLICA):
        delattr(connections._connections, replica.REPLICA)


@pytest.fixture(autouse=True)
def fresh_sample(settings):
    settings.DATABASE_REPLICA_CHECK_SECONDS = 1.0
    settings.DATABASE_REPLICA_MAX_LAG_SECONDS = 1.0
    replica.reset()
    yield
    replica.reset()


@pytest.fixture
def amina():
    return seed_personas("amina", today=timezone.localdate())["amina"]


def on_replica(sql: str, params=()):
    with connections[replica.REPLICA].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def replication_state() -> dict:
    """What the primary and the standby say about replication (for a failing assertion's message)."""
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT pg_current_wal_insert_lsn()::text,"
            " (SELECT json_agg(json_build_array(state, sent_lsn, flush_lsn, replay_lsn)) FROM pg_stat_replication)"
        )
        primary = cursor.fetchone()
    standby = on_replica(
        "SELECT pg_last_wal_receive_lsn()::text, pg_last_wal_replay_lsn()::text, pg_is_wal_replay_paused(),"
        " (SELECT json_agg(json_build_array(backend_type, state, wait_event, left(query, 60)))"
        " FROM pg_stat_activity WHERE pid <> pg_backend_pid())"
    )
    return {"primary": primary, "standby": standby}


def replica_current(*, timeout: float = 5) -> None:
    """Until a lag sample finds the replica current. A commit made with synchronous_commit on
    first: on an idle primary (the throwaway server commits asynchronously) the WAL's tail
    may wait in its buffers, and the replica, for its end, until the next flush."""
    with transaction.atomic(using="default"), connections["default"].cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = on")
        cursor.execute("SELECT txid_current()")
    wait_until(lambda: replica.take_sample().usable, timeout=timeout)


def replica_has(certificate: Certificate, *, revoked: bool = False) -> bool:
    rows = on_replica(
        "SELECT revoked_at IS NOT NULL FROM certificates_certificate WHERE public_id = %s", [certificate.public_id]
    )
    return bool(rows) and rows[0][0] == revoked


def wait_until(predicate, *, timeout: float) -> float:
    """Seconds until ``predicate()`` held; fails after ``timeout``."""
    start = time.monotonic()
    while not predicate():
        assert time.monotonic() - start < timeout, f"not within {timeout} s"
        time.sleep(0.02)
    return time.monotonic() - start


def look_up(client, certificate, *, replica_up: bool = True):
    """The verify page and the API, counting the queries each server answered."""
    with contextlib.ExitStack() as stack:
        primary = stack.enter_context(CaptureQueriesContext(connections["default"]))
        # Capturing connects: not to a stopped server.
        standby = stack.enter_context(CaptureQueriesContext(connections[replica.REPLICA])) if replica_up else None
        page = client.get(f"/verify/{certificate.public_id}")
        api = client.get("/api/v1/verify", {"code": certificate.verification_code})
    return page, api.json(), primary, standby


def certificate_queries(captured) -> int:
    return sum('"certificates_certificate"' in query["sql"] for query in captured.captured_queries)


def test_a_certificate_issued_on_the_primary_verifies_on_the_replica_a_moment_later(client, amina, settings):
    certificate = certificate_issue(insured=amina, kind="employment")
    waited = wait_until(lambda: replica_has(certificate), timeout=5)
    replica_current()
    settings.DATABASE_REPLICA_CHECK_SECONDS = 60  # the sample just taken stands for both look-ups
    page, api, primary, standby = look_up(client, certificate)
    assert page.status_code == 200 and certificate.number in page.content.decode()
    assert api["genuine"] is True and api["number"] == certificate.number
    # The replica answered both look-ups; the primary was asked only for its WAL position (the lag sample).
    assert certificate_queries(standby) == 2
    assert certificate_queries(primary) == 0
    assert replica.current_sample().usable and replica.current_sample().lag <= 1.0
    assert waited < 5


def test_a_revocation_shows_within_one_second(client, amina):
    certificate = certificate_issue(insured=amina, kind="employment")
    wait_until(lambda: replica_has(certificate), timeout=5)
    certificate_revoke(certificate=certificate, actor=None, reason="Fraud")
    revoked_at = time.monotonic()

    def shows_revoked():
        page, api, _primary, _standby = look_up(client, certificate)
        return "Revoked certificate" in page.content.decode() and api["state"] == "revoked"

    wait_until(shows_revoked, timeout=1.0)
    assert time.monotonic() - revoked_at < 1.0
    listed = client.get("/verify/revocations.json").json()
    from verification.services import revocation_entry

    assert revocation_entry(certificate.public_id) in listed["revoked"]


def test_a_certificate_the_replica_has_not_received_yet_is_found_on_the_primary(client, amina, settings):
    # The last sample says the replica is current; then replay stops and a certificate is issued.
    settings.DATABASE_REPLICA_CHECK_SECONDS = 60
    replica_current()
    on_replica("SELECT pg_wal_replay_pause()")
    try:
        certificate = certificate_issue(insured=amina, kind="employment")
        assert not replica_has(certificate)
        page, api, primary, standby = look_up(client, certificate)
        assert page.status_code == 200 and api["genuine"] is True
        # Asked on the replica (nothing), then again on the primary.
        assert certificate_queries(standby) == 2 and certificate_queries(primary) == 2
    finally:
        on_replica("SELECT pg_wal_replay_resume()")


def test_with_replay_paused_the_lag_rule_sends_look_ups_to_the_primary(client, amina):
    certificate = certificate_issue(insured=amina, kind="employment")
    wait_until(lambda: replica_has(certificate), timeout=5)
    on_replica("SELECT pg_wal_replay_pause()")
    try:
        wait_until(lambda: on_replica("SELECT pg_is_wal_replay_paused()")[0][0], timeout=5)
        time.sleep(1.1)  # the last transaction the replica replayed is now over 1 s old
        # Revoked on the primary: the paused replica still has the certificate as valid.
        certificate_revoke(certificate=certificate, actor=None, reason="Fraud")
        assert replica_has(certificate, revoked=False)
        replica.reset()  # the next look-up samples the lag again
        page, api, primary, standby = look_up(client, certificate)
        assert "Revoked certificate" in page.content.decode() and api["state"] == "revoked"
        sample = replica.current_sample()
        assert not sample.usable and sample.lag > 1.0
        assert certificate_queries(standby) == 0 and certificate_queries(primary) == 2
    finally:
        on_replica("SELECT pg_wal_replay_resume()")
    # Replay resumed: the next sample finds the replica current again and look-ups go back to it.
    wait_until(lambda: replica_has(certificate, revoked=True), timeout=5)
    replica_current()
    _page, api, primary, standby = look_up(client, certificate)
    assert api["state"] == "revoked" and certificate_queries(standby) == 2


@pytest.fixture
def pooled_replica():
    """The replica alias as production has it: the pooled backend (damane/postgresql), its own pool."""
    saved = connections.settings[replica.REPLICA]
    conf = copy.deepcopy(saved)
    conf["ENGINE"] = "damane.postgresql"
    conf["OPTIONS"] = {**conf["OPTIONS"], "pool": {"min_size": 1, "max_size": 2, "timeout": 1}}
    connections[replica.REPLICA].close()
    delattr(connections._connections, replica.REPLICA)
    connections.settings[replica.REPLICA] = conf
    yield connections[replica.REPLICA]
    connections[replica.REPLICA].close()
    connections[replica.REPLICA].close_pool()
    delattr(connections._connections, replica.REPLICA)
    connections.settings[replica.REPLICA] = saved


def test_with_the_pooled_backend_the_replica_has_its_own_pool_and_a_stopped_replica_costs_one_second_once(
    client, amina, standby, pooled_replica, settings
):
    certificate = certificate_issue(insured=amina, kind="employment")
    wait_until(lambda: replica_has(certificate), timeout=5)
    replica_current()
    settings.DATABASE_REPLICA_CHECK_SECONDS = 60
    page, api, _primary, standby_queries = look_up(client, certificate)
    assert page.status_code == 200 and api["genuine"] is True
    assert certificate_queries(standby_queries) == 2
    pool = pooled_replica.pool
    assert pool is not None and str(pool.kwargs["port"]) == str(standby.port)
    assert pool is not connections["default"].pool
    pooled_replica.close()
    standby.stop()
    try:
        started = time.monotonic()
        page, api, primary, _none = look_up(client, certificate, replica_up=False)
        # The pool waits its timeout (1 s) for a connection to the stopped replica, once; then the primary answers.
        assert page.status_code == 200 and api["genuine"] is True and certificate_queries(primary) == 2
        assert time.monotonic() - started < 3
        assert not replica.current_sample().usable
    finally:
        standby.start()


def test_with_the_replica_stopped_verification_keeps_answering(client, amina, standby):
    certificate = certificate_issue(insured=amina, kind="employment")
    wait_until(lambda: replica_has(certificate), timeout=5)
    replica_current()
    connections[replica.REPLICA].close()
    standby.stop()
    try:
        # Stopped between two samples: the look-up fails on the replica and is answered by the primary.
        page, api, primary, _standby = look_up(client, certificate, replica_up=False)
        assert page.status_code == 200 and certificate.number in page.content.decode()
        assert api["genuine"] is True and certificate_queries(primary) == 2
        assert not replica.current_sample().usable and replica.current_sample().error
        # Then the replica is skipped until the retry delay has passed: no connection attempt per look-up.
        started = time.monotonic()
        for _ in range(5):
            assert client.get(f"/verify/{certificate.public_id}").status_code == 200
        assert time.monotonic() - started < 2
        # A sample taken while it is down says so, without an error to anyone.
        replica.reset()
        assert client.get("/verify/revocations.json").status_code == 200
        assert replica.current_sample().error
    finally:
        standby.start()
