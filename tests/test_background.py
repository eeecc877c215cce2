"""The one outbox sweep (damane.background): what each app registers, what is due, how a retry waits."""

import random
import threading
from datetime import timedelta

import pytest
from django.core.cache import cache, caches
from django.db import connection, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnavailable

from audit.models import AuditEntry
from damane import background
from declarations.jobs import import_jobs_due
from declarations.models import EbdsImportJob


def test_every_kind_of_database_first_work_is_registered_with_the_one_sweep():
    registered = {outbox.name: outbox.task.name for outbox in background.outboxes()}
    assert registered == {
        "accounts.sms": "accounts.tasks.send_code_sms",
        "accounts.emails": "accounts.tasks.send_email",
        "declarations.import_jobs": "declarations.tasks.run_import_job",
        "integrations.webhooks": "integrations.webhooks.tasks.deliver",
    }


class FakeTask:
    name = "fake"

    def __init__(self, fail_after=None):
        self.sent = []
        self.fail_after = fail_after

    def apply_async(self, args):
        if self.fail_after is not None and len(self.sent) >= self.fail_after:
            raise BrokerUnavailable("connection refused")
        self.sent.append(args)


@pytest.fixture
def only(monkeypatch):
    """The sweep sees only the outboxes a test registers."""
    monkeypatch.setattr(background, "_outboxes", {})


def test_the_sweep_sends_each_due_row_of_each_outbox(only):
    first, second = FakeTask(), FakeTask()
    background.register_outbox("first", task=first, due=lambda now: [3, 5])
    background.register_outbox("second", task=second, due=lambda now: [])
    assert background.requeue_due() == {"first": 2, "second": 0}
    assert first.sent == [(3,), (5,)] and second.sent == []


def test_a_row_the_sweep_sent_is_not_sent_again_until_the_requeue_period_passed(only, settings):
    # Workers behind: row 3 is still queued at the next sweeps, row 7 becomes due later.
    settings.DAMANE_OUTBOX_REQUEUE_AFTER_SECONDS = 60
    task, due = FakeTask(), [3]
    background.register_outbox("first", task=task, due=lambda now: list(due))
    assert background.requeue_due() == {"first": 1}
    due.append(7)
    assert background.requeue_due() == {"first": 1}
    assert background.requeue_due() == {"first": 0}
    assert task.sent == [(3,), (7,)]
    # The period over (its mark expired in the shared cache), the row still waiting is sent again.
    cache.delete("outbox-sent:first:3")
    assert background.requeue_due() == {"first": 1}
    assert task.sent[-1] == (3,)


def test_once_a_worker_takes_the_task_its_row_may_be_sent_again_as_soon_as_due(only):
    # A real task: its start (Celery's task_prerun, eager here as in a worker) clears the mark,
    # so a retry the row schedules seconds later is not held back by the requeue period.
    from celery import shared_task

    ran = []

    @shared_task(name="tests.outbox_probe")
    def probe(pk):
        ran.append(pk)

    background.register_outbox("probe", task=probe, due=lambda now: [4])
    assert background.requeue_due() == {"probe": 1}
    assert background.requeue_due() == {"probe": 1}
    assert ran == [4, 4]
    assert cache.get("outbox-sent:probe:4") is None


def test_a_cache_that_does_not_answer_lets_the_sweep_send(only, monkeypatch, caplog):
    def down(*args, **kwargs):
        raise ConnectionError("redis down")

    monkeypatch.setattr(type(caches["default"]), "add", down)
    task = FakeTask()
    background.register_outbox("first", task=task, due=lambda now: [3])
    assert background.requeue_due() == {"first": 1} and background.requeue_due() == {"first": 1}
    assert "without the requeue mark" in caplog.text


def test_a_broker_gone_in_the_middle_stops_the_sweep_and_the_rows_stay_due(only, caplog):
    task, later = FakeTask(fail_after=1), FakeTask()
    background.register_outbox("first", task=task, due=lambda now: [1, 2, 3])
    background.register_outbox("later", task=later, due=lambda now: [9])
    assert background.requeue_due() == {"first": 1}
    assert task.sent == [(1,)] and later.sent == []
    assert "requeue sweep stopped" in caplog.text
    # The broker back, the next sweep sends what was not sent, without waiting a requeue period.
    task.fail_after = None
    assert background.requeue_due() == {"first": 2, "later": 1}
    assert task.sent == [(1,), (2,), (3,)] and later.sent == [(9,)]


def test_a_retry_waits_between_half_and_all_of_an_exponential_capped_delay(settings):
    settings.DAMANE_TASK_RETRY_BACKOFF_SECONDS = 5
    settings.DAMANE_TASK_RETRY_BACKOFF_MAX_SECONDS = 300
    rng = random.Random(20)
    for attempts, ceiling in ((1, 5), (2, 10), (3, 20), (6, 160), (7, 300), (12, 300)):
        delays = [background.retry_delay(attempts, rng=rng).total_seconds() for _ in range(200)]
        assert ceiling / 2 <= min(delays) and max(delays) <= ceiling
        assert max(delays) - min(delays) > ceiling / 4  # jittered, not one fixed second


def test_the_last_attempt_is_the_one_after_the_retries(settings):
    settings.DAMANE_TASK_MAX_RETRIES = 5
    assert [background.last_attempt(n) for n in (1, 5, 6)] == [False, False, True]


def test_a_claim_is_stale_only_after_the_stuck_limit(settings):
    settings.DAMANE_OUTBOX_STUCK_AFTER_SECONDS = 300
    now = timezone.now()
    assert not background.outbox_claim_stale(now - timedelta(seconds=299), now)
    assert background.outbox_claim_stale(now - timedelta(seconds=301), now)


def job(state, *, age_seconds, started_seconds=None):
    row = EbdsImportJob.objects.create(name="DS.txt", content="x", state=state)
    now = timezone.now()
    started = now - timedelta(seconds=started_seconds) if started_seconds is not None else None
    EbdsImportJob.objects.filter(pk=row.pk).update(created_at=now - timedelta(seconds=age_seconds), started_at=started)
    return row.pk


@pytest.mark.django_db
def test_import_jobs_due_are_the_lost_and_the_orphaned(settings):
    settings.DAMANE_OUTBOX_REQUEUE_AFTER_SECONDS = 60
    lost = job("queued", age_seconds=120)
    job("queued", age_seconds=10)  # its task is on its way
    orphaned = job("running", age_seconds=600, started_seconds=300)
    job("running", age_seconds=20, started_seconds=1)  # just claimed
    job("imported", age_seconds=600, started_seconds=500)
    assert import_jobs_due(timezone.now()) == [lost, orphaned]


@pytest.mark.django_db
def test_an_import_that_lost_its_worker_for_an_hour_is_recorded_stopped_and_never_sent_again(settings):
    settings.DAMANE_OUTBOX_REQUEUE_AFTER_SECONDS = 60
    settings.DAMANE_IMPORT_GIVE_UP_SECONDS = 3600
    poison = job("running", age_seconds=4000, started_seconds=3700)
    orphaned = job("running", age_seconds=600, started_seconds=300)
    assert import_jobs_due(timezone.now()) == [orphaned]
    given_up = EbdsImportJob.objects.get(pk=poison)
    assert given_up.state == EbdsImportJob.State.FAILED and given_up.finished_at is not None
    assert given_up.content == "x"  # kept: the staff member can see what failed
    assert AuditEntry.objects.filter(action="declarations.import_job.failed", object_id=str(poison)).count() == 1
    assert import_jobs_due(timezone.now()) == [orphaned]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_running_import_held_by_a_live_worker_is_not_due():
    running = job("running", age_seconds=600, started_seconds=300)
    locked, release = threading.Event(), threading.Event()

    def live_import():
        try:
            with transaction.atomic():
                EbdsImportJob.objects.select_for_update().get(pk=running)
                locked.set()
                release.wait(timeout=20)
        finally:
            connection.close()

    worker = threading.Thread(target=live_import)
    worker.start()
    try:
        assert locked.wait(timeout=10)
        assert import_jobs_due(timezone.now()) == []
    finally:
        release.set()
        worker.join(timeout=20)
    # Its worker gone (the transaction ended without recording an outcome): due.
    assert import_jobs_due(timezone.now()) == [running]
