"""The beat sweep of the accounts outboxes: rows whose task was lost or whose retry is due are sent,
rows left by a dead worker are closed; a second delivery never closes a row a live one is sending."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts import codes, sms, tasks
from accounts.models import OneTimeCode, OutboundEmail, SmsMessage, User
from accounts.sms.backends.locmem import LocmemBackend
from damane.background import enqueue
from damane.tasks import requeue_outbox
from tests.servers import throwaway_redis
from tests.threads import run_in_threads

PHONE = "+212612345601"


@pytest.fixture
def user(db):
    return User.objects.create_user(username="100234561", is_active=False)


def queued_code(user, *, minutes_ago: int) -> OneTimeCode:
    """A code whose SMS task never reached a worker."""
    from unittest.mock import patch

    with patch.object(tasks.send_code_sms, "apply_async"):
        code = codes.code_send(user=user, purpose=OneTimeCode.Purpose.LOGIN, phone=PHONE)
    SmsMessage.objects.filter(pk=code.sms_id).update(created_at=timezone.now() - timedelta(minutes=minutes_ago))
    return code


def test_a_message_whose_task_was_lost_is_sent_by_the_sweep_and_a_fresh_one_is_left_alone(user):
    lost = queued_code(user, minutes_ago=2)
    assert requeue_outbox() == 1
    assert SmsMessage.objects.get(pk=lost.sms_id).status == SmsMessage.Status.SENT
    assert len(sms.outbox) == 1
    fresh = queued_code(user, minutes_ago=0)
    SmsMessage.objects.filter(pk=lost.sms_id).update(created_at=timezone.now() - timedelta(hours=3))
    assert requeue_outbox() == 0
    assert SmsMessage.objects.get(pk=fresh.sms_id).status == SmsMessage.Status.QUEUED


def test_a_failed_attempt_is_sent_again_by_the_sweep_once_its_retry_is_due(user, settings):
    settings.SMS_BACKEND = "tests.accounts.accounts_testkit.FlakyBackend"
    from tests.accounts.accounts_testkit import FAILURES

    FAILURES["left"] = 1
    code = queued_code(user, minutes_ago=0)
    assert codes.code_deliver(sms_id=code.sms_id, final_attempt=False) == SmsMessage.Status.QUEUED
    message = SmsMessage.objects.get(pk=code.sms_id)
    assert message.attempts == 1 and message.next_attempt_at > timezone.now()
    # Not due yet: the sweep leaves it.
    assert requeue_outbox() == 0
    SmsMessage.objects.filter(pk=code.sms_id).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert requeue_outbox() == 1
    message.refresh_from_db()
    assert (message.status, message.attempts, message.next_attempt_at) == (SmsMessage.Status.SENT, 2, None)
    assert len(sms.outbox) == 1


def test_a_message_left_sending_by_a_dead_worker_is_closed_without_a_second_sms(user):
    code = queued_code(user, minutes_ago=20)
    SmsMessage.objects.filter(pk=code.sms_id).update(
        status=SmsMessage.Status.SENDING, attempts=1, claimed_at=timezone.now() - timedelta(minutes=10)
    )
    assert requeue_outbox() == 1
    message = SmsMessage.objects.get(pk=code.sms_id)
    assert message.status == SmsMessage.Status.FAILED and "delivery unknown" in message.error
    assert sms.outbox == []


def test_an_email_whose_task_was_lost_is_sent_by_the_sweep(user, mailoutbox):
    email = OutboundEmail.objects.create(to="amina@example.ma", template="password_changed", user=user)
    OutboundEmail.objects.filter(pk=email.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    assert requeue_outbox() == 1
    assert [m.to for m in mailoutbox] == [["amina@example.ma"]]


@pytest.mark.django_db(transaction=True)
def test_when_the_broker_is_down_at_commit_the_row_stays_queued_for_the_sweep(user, caplog, settings):
    from celery import Celery

    with throwaway_redis() as broker:
        # An application of its own on a broker this test stops: the suite's shared one keeps its pools.
        app = Celery("broker-down", broker=broker.url, set_as_current=False)
        app.conf.broker_transport_options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
        app.conf.task_publish_retry_policy = settings.CELERY_TASK_PUBLISH_RETRY_POLICY

        @app.task(name="accounts.tasks.send_email")
        def send_email(email_id):
            raise AssertionError("never runs: no worker")

        broker.stop()
        email = OutboundEmail.objects.create(to="amina@example.ma", template="password_changed", user=user)
        enqueue(send_email, email.pk)
    assert OutboundEmail.objects.get(pk=email.pk).status == OutboundEmail.Status.QUEUED
    assert "left for the requeue sweep" in caplog.text


def test_a_second_delivery_leaves_a_message_claimed_a_moment_ago_alone(user, settings):
    code = queued_code(user, minutes_ago=1)
    claimed = timezone.now() - timedelta(seconds=settings.DAMANE_OUTBOX_STUCK_AFTER_SECONDS - 5)
    SmsMessage.objects.filter(pk=code.sms_id).update(status=SmsMessage.Status.SENDING, attempts=1, claimed_at=claimed)
    assert codes.code_deliver(sms_id=code.sms_id) == SmsMessage.Status.SENDING
    message = SmsMessage.objects.get(pk=code.sms_id)
    assert (message.status, message.error, message.attempts) == (SmsMessage.Status.SENDING, "", 1)
    assert codes.code_status(OneTimeCode.objects.get(pk=code.pk)) == SmsMessage.Status.QUEUED
    # The sweep does not hand it to a second delivery either.
    assert requeue_outbox() == 0
    assert sms.outbox == []


def test_a_second_delivery_of_an_email_being_sent_leaves_it_alone(user, mailoutbox):
    email = OutboundEmail.objects.create(
        to="amina@example.ma",
        template="password_changed",
        user=user,
        status=OutboundEmail.Status.SENDING,
        attempts=1,
        claimed_at=timezone.now(),
    )
    assert tasks.send_email(email.pk) == OutboundEmail.Status.SENDING
    email.refresh_from_db()
    assert (email.status, email.error) == (OutboundEmail.Status.SENDING, "")
    assert mailoutbox == []


class SlowBackend(LocmemBackend):
    """The provider takes a while to answer: long enough for a second delivery to arrive meanwhile."""

    name = "slow"
    release = None

    def send(self, *, to, body):
        assert SlowBackend.release.wait(timeout=20)
        return super().send(to=to, body=body)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_deliveries_at_once_send_one_sms_and_the_message_is_never_shown_failed(user, settings):
    import threading

    settings.SMS_BACKEND = "tests.accounts.test_outbox_sweep.SlowBackend"
    SlowBackend.release = threading.Event()
    code = queued_code(user, minutes_ago=0)
    seen = []

    def deliver_first():
        try:
            seen.append(codes.code_deliver(sms_id=code.sms_id))
        finally:
            connection.close()

    first = threading.Thread(target=deliver_first)
    first.start()
    try:
        # The first delivery has claimed the message and is waiting for the provider.
        deadline = timezone.now() + timedelta(seconds=10)
        while SmsMessage.objects.get(pk=code.sms_id).status != SmsMessage.Status.SENDING:
            assert timezone.now() < deadline
        # The broker delivers the same task again (visibility timeout, redelivery).
        results = run_in_threads(3, lambda: codes.code_deliver(sms_id=code.sms_id))
        assert results == [SmsMessage.Status.SENDING] * 3
        message = SmsMessage.objects.get(pk=code.sms_id)
        assert (message.status, message.error, message.attempts) == (SmsMessage.Status.SENDING, "", 1)
        assert codes.code_status(OneTimeCode.objects.get(pk=code.pk)) == SmsMessage.Status.QUEUED
    finally:
        SlowBackend.release.set()
        first.join(timeout=20)
    assert seen == [SmsMessage.Status.SENT]
    assert SmsMessage.objects.get(pk=code.sms_id).status == SmsMessage.Status.SENT
    assert len(sms.outbox) == 1
