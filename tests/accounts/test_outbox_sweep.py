"""The beat sweep: outbox rows whose task was lost are sent, rows left by a dead worker are closed."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import codes, sms, tasks
from accounts.models import OneTimeCode, OutboundEmail, SmsMessage, User
from damane.background import enqueue
from tests.servers import throwaway_redis

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
    assert tasks.requeue_outbox() == 1
    assert SmsMessage.objects.get(pk=lost.sms_id).status == SmsMessage.Status.SENT
    assert len(sms.outbox) == 1
    fresh = queued_code(user, minutes_ago=0)
    SmsMessage.objects.filter(pk=lost.sms_id).update(created_at=timezone.now() - timedelta(hours=3))
    assert tasks.requeue_outbox() == 0
    assert SmsMessage.objects.get(pk=fresh.sms_id).status == SmsMessage.Status.QUEUED


def test_a_message_left_sending_by_a_dead_worker_is_closed_without_a_second_sms(user):
    code = queued_code(user, minutes_ago=20)
    SmsMessage.objects.filter(pk=code.sms_id).update(
        status=SmsMessage.Status.SENDING, attempts=1, claimed_at=timezone.now() - timedelta(minutes=10)
    )
    assert tasks.requeue_outbox() == 1
    message = SmsMessage.objects.get(pk=code.sms_id)
    assert message.status == SmsMessage.Status.FAILED and "delivery unknown" in message.error
    assert sms.outbox == []


def test_an_email_whose_task_was_lost_is_sent_by_the_sweep(user, mailoutbox):
    email = OutboundEmail.objects.create(to="amina@example.ma", template="password_changed", user=user)
    OutboundEmail.objects.filter(pk=email.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    assert tasks.requeue_outbox() == 1
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
