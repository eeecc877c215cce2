"""One-time SMS codes (docs/security.md §1-5): HMAC storage, expiry, single use, tries, locks and send limits."""

from contextlib import contextmanager
from datetime import timedelta
from unittest.mock import patch

import pytest
from django.db import transaction
from django.utils import timezone
from freezegun import freeze_time

from accounts import codes, sms
from accounts.errors import CodeExpired, CodeInvalid, CodeLocked, CodeTriesExhausted, SendRefused
from accounts.models import OneTimeCode, SmsMessage, Throttle, User
from tests.accounts.accounts_testkit import FAILURES, last_code
from tests.threads import run_in_threads

ACTIVATION = OneTimeCode.Purpose.ACTIVATION
LOGIN = OneTimeCode.Purpose.LOGIN
PHONE = "+212612345601"


@pytest.fixture
def user(db):
    return User.objects.create_user(username="100234561", is_active=False)


@pytest.fixture
def other_user(db):
    return User.objects.create_user(username="100345672", is_active=False)


def wrong(code):
    return f"{(int(code) + 1) % 1_000_000:06d}"


def send(user, purpose=ACTIVATION, phone=PHONE):
    codes.code_send(user=user, purpose=purpose, phone=phone)
    return last_code(phone)


@contextmanager
def worker_not_run_yet():
    """The broker is slow: the task is not run yet when the request ends."""
    with patch("accounts.tasks.send_code_sms.apply_async"):
        yield


def send_queued(user):
    """A code whose SMS is queued and not yet sent (no worker has run)."""
    with worker_not_run_yet():
        return codes.code_send(user=user, purpose=ACTIVATION, phone=PHONE)


def test_codes_are_six_digits():
    assert all(len(c) == 6 and c.isdigit() for c in (codes.generate_code() for _ in range(200)))


def test_a_sent_code_is_stored_only_as_an_hmac(user):
    code = send(user)
    row = OneTimeCode.objects.get()
    assert row.code_hmac != code and code not in row.code_hmac
    assert len(row.code_hmac) == 64
    assert code not in SmsMessage.objects.get().body
    assert row.expires_at - row.created_at == timedelta(minutes=10)


def test_the_right_code_is_accepted_once(user):
    code = send(user)
    assert codes.code_verify(user=user, purpose=ACTIVATION, code=code).used_at is not None
    with pytest.raises(CodeExpired):
        codes.code_verify(user=user, purpose=ACTIVATION, code=code)


def test_a_code_is_bound_to_its_purpose_and_account(user, other_user):
    code = send(user)
    with pytest.raises(CodeExpired):
        codes.code_verify(user=user, purpose=LOGIN, code=code)
    with pytest.raises(CodeExpired):
        codes.code_verify(user=other_user, purpose=ACTIVATION, code=code)
    assert codes.code_verify(user=user, purpose=ACTIVATION, code=code)


def test_a_code_expires_after_ten_minutes(user):
    with freeze_time(timezone.now()) as frozen:
        code = send(user)
        frozen.tick(timedelta(minutes=10, seconds=1))
        with pytest.raises(CodeExpired):
            codes.code_verify(user=user, purpose=ACTIVATION, code=code)


def test_a_code_is_still_good_just_before_ten_minutes(user):
    with freeze_time(timezone.now()) as frozen:
        code = send(user)
        frozen.tick(timedelta(minutes=9, seconds=59))
        assert codes.code_verify(user=user, purpose=ACTIVATION, code=code)


def test_five_wrong_tries_kill_the_code_even_for_the_right_code(user):
    code = send(user)
    for _ in range(4):
        with pytest.raises(CodeInvalid):
            codes.code_verify(user=user, purpose=ACTIVATION, code=wrong(code))
    with pytest.raises(CodeTriesExhausted):
        codes.code_verify(user=user, purpose=ACTIVATION, code=wrong(code))
    with pytest.raises(CodeTriesExhausted):
        codes.code_verify(user=user, purpose=ACTIVATION, code=code)
    assert OneTimeCode.objects.get().tries == 5


def test_a_new_code_replaces_the_previous_one(user):
    with freeze_time(timezone.now()) as frozen:
        first = send(user)
        frozen.tick(timedelta(seconds=61))
        second = send(user)
        with pytest.raises(CodeInvalid):
            codes.code_verify(user=user, purpose=ACTIVATION, code=first)
        assert codes.code_verify(user=user, purpose=ACTIVATION, code=second)


def test_ten_wrong_tries_lock_the_account_for_ten_minutes_and_a_new_code_does_not_reset_them(user):
    with freeze_time(timezone.now()) as frozen:
        code = send(user)
        for _ in range(5):
            with pytest.raises((CodeInvalid, CodeTriesExhausted)):
                codes.code_verify(user=user, purpose=ACTIVATION, code=wrong(code))
        frozen.tick(timedelta(seconds=61))
        code = send(user)
        for _ in range(4):
            with pytest.raises(CodeInvalid):
                codes.code_verify(user=user, purpose=ACTIVATION, code=wrong(code))
        with pytest.raises(CodeLocked) as locked:
            codes.code_verify(user=user, purpose=ACTIVATION, code=wrong(code))
        assert 540 < locked.value.retry_after <= 600
        assert "minutes" in str(locked.value)
        # Locked: even the right code is refused.
        with pytest.raises(CodeLocked):
            codes.code_verify(user=user, purpose=ACTIVATION, code=code)
        frozen.tick(timedelta(minutes=10, seconds=1))
        code = send(user)
        assert codes.code_verify(user=user, purpose=ACTIVATION, code=code)


def test_sends_to_a_number_are_sixty_seconds_apart(user):
    with freeze_time(timezone.now()) as frozen:
        send(user)
        frozen.tick(timedelta(seconds=30))
        with pytest.raises(SendRefused) as refused:
            send(user)
        assert refused.value.retry_after == 30
        assert "30 seconds" in str(refused.value)
        assert len(sms.outbox) == 1
        frozen.tick(timedelta(seconds=30))
        send(user)
        assert len(sms.outbox) == 2


def test_at_most_five_sends_an_hour_and_ten_a_day_per_number_across_accounts(user, other_user):
    with freeze_time(timezone.now()) as frozen:
        for i in range(5):
            send(user if i % 2 else other_user)
            frozen.tick(timedelta(seconds=61))
        with pytest.raises(SendRefused) as refused:
            send(user)
        # The first send leaves the hour 5 x 61 s after it was made.
        assert refused.value.retry_after == 3600 - 5 * 61
        frozen.tick(timedelta(seconds=3600 - 5 * 61))
        for _ in range(5):
            send(other_user)
            frozen.tick(timedelta(minutes=13))
        with pytest.raises(SendRefused):
            send(user)
        frozen.tick(timedelta(hours=2))
        with pytest.raises(SendRefused) as refused_day:
            send(user)
        assert refused_day.value.retry_after > 3600
        assert len(sms.outbox) == 10
        # Another number is not affected.
        assert send(user, phone="+212612345699")


def test_a_provider_failure_leaves_no_usable_code_uses_no_try_and_is_in_the_outbox(user, settings):
    previous = send(user)
    settings.SMS_BACKEND = "tests.accounts.accounts_testkit.BrokenBackend"
    with freeze_time(timezone.now() + timedelta(seconds=61)):
        queued = codes.code_send(user=user, purpose=ACTIVATION, phone=PHONE)
    queued.refresh_from_db()
    assert queued.code_hmac == ""
    assert codes.code_status(queued) == SmsMessage.Status.FAILED
    assert not Throttle.objects.filter(key=codes.account_key(user.pk)).exclude(failures=0).exists()
    failed = SmsMessage.objects.get(pk=queued.sms_id)
    assert failed.status == SmsMessage.Status.FAILED
    assert failed.error == "provider timed out"
    # The code sent before still works, and a failed send does not hold back the next one.
    settings.SMS_BACKEND = "locmem"
    with freeze_time(timezone.now() + timedelta(seconds=122)):
        assert codes.code_send(user=user, purpose=ACTIVATION, phone=PHONE)
    assert codes.code_verify(user=user, purpose=ACTIVATION, code=last_code())
    with pytest.raises(CodeExpired):
        codes.code_verify(user=user, purpose=ACTIVATION, code=previous)


def test_a_queued_code_counts_against_the_limits_before_it_is_sent(user):
    with worker_not_run_yet():
        queued = codes.code_send(user=user, purpose=ACTIVATION, phone=PHONE)
    assert SmsMessage.objects.get(pk=queued.sms_id).status == SmsMessage.Status.QUEUED
    assert sms.outbox == []
    with pytest.raises(SendRefused):
        codes.code_send(user=user, purpose=ACTIVATION, phone=PHONE)


def test_a_retried_send_never_sends_a_second_sms(user):
    queued = send_queued(user)
    assert codes.code_deliver(sms_id=queued.sms_id) == SmsMessage.Status.SENT
    assert codes.code_deliver(sms_id=queued.sms_id) == SmsMessage.Status.SENT
    assert len(sms.outbox) == 1
    assert SmsMessage.objects.get().attempts == 1


def test_a_provider_that_did_not_take_the_message_is_tried_again_and_the_code_then_works(user, settings):
    settings.SMS_BACKEND = "tests.accounts.accounts_testkit.FlakyBackend"
    FAILURES["left"] = 2
    queued = send_queued(user)
    for attempt in (1, 2):
        before = timezone.now()
        assert codes.code_deliver(sms_id=queued.sms_id, final_attempt=False) == SmsMessage.Status.QUEUED
        assert codes.code_status(OneTimeCode.objects.get()) == SmsMessage.Status.QUEUED
        # The retry is scheduled in the row (the outbox sweep sends it), not on the broker.
        message = SmsMessage.objects.get()
        delay = settings.DAMANE_TASK_RETRY_BACKOFF_SECONDS * 2 ** (attempt - 1)
        assert before + timedelta(seconds=delay / 2) <= message.next_attempt_at
        assert message.next_attempt_at <= timezone.now() + timedelta(seconds=delay)
    assert codes.code_deliver(sms_id=queued.sms_id, final_attempt=False) == SmsMessage.Status.SENT
    assert len(sms.outbox) == 1
    assert SmsMessage.objects.get().attempts == 3
    assert codes.code_verify(user=user, purpose=ACTIVATION, code=last_code())


def test_a_message_whose_answer_was_lost_is_not_sent_again_and_its_code_stays_valid(user, settings):
    settings.SMS_BACKEND = "tests.accounts.accounts_testkit.LostAnswerBackend"
    queued = send_queued(user)
    assert codes.code_deliver(sms_id=queued.sms_id, final_attempt=False) == SmsMessage.Status.FAILED
    assert codes.code_deliver(sms_id=queued.sms_id, final_attempt=False) == SmsMessage.Status.FAILED
    assert len(sms.outbox) == 1
    # It did arrive: the person can use it.
    assert codes.code_verify(user=user, purpose=ACTIVATION, code=last_code())


def test_a_message_left_sending_by_a_dead_worker_is_not_sent_again(user):
    queued = send_queued(user)
    SmsMessage.objects.filter(pk=queued.sms_id).update(
        status=SmsMessage.Status.SENDING, claimed_at=timezone.now() - timedelta(minutes=10)
    )
    assert codes.code_deliver(sms_id=queued.sms_id) == SmsMessage.Status.FAILED
    assert sms.outbox == []
    assert "delivery unknown" in SmsMessage.objects.get().error


def test_a_rolled_back_send_queues_nothing(user):
    with pytest.raises(RuntimeError), transaction.atomic():
        codes.code_send(user=user, purpose=ACTIVATION, phone=PHONE)
        raise RuntimeError("the caller's transaction fails")
    assert sms.outbox == []
    assert not SmsMessage.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_parallel_wrong_tries_count_twenty(user):
    code = send(user)
    results = run_in_threads(20, lambda: codes.code_verify(user=user, purpose=ACTIVATION, code=wrong(code)))
    assert len(results) == 20
    assert all(isinstance(r, CodeInvalid | CodeTriesExhausted | CodeLocked) for r in results)
    assert Throttle.objects.get(key=codes.account_key(user.pk)).failures == 20
    assert OneTimeCode.objects.get().tries == 5
    with pytest.raises(CodeLocked):
        codes.code_verify(user=user, purpose=ACTIVATION, code=code)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_right_codes_are_accepted_once(user):
    code = send(user)
    results = run_in_threads(8, lambda: codes.code_verify(user=user, purpose=ACTIVATION, code=code))
    assert sum(isinstance(r, OneTimeCode) for r in results) == 1
    assert sum(isinstance(r, CodeExpired) for r in results) == 7


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_sends_to_one_number_send_one_sms(user, other_user):
    results = run_in_threads(10, lambda: codes.code_send(user=user, purpose=ACTIVATION, phone=PHONE) and "sent")
    assert results.count("sent") == 1
    assert sum(isinstance(r, SendRefused) for r in results) == 9
    assert SmsMessage.objects.filter(to=PHONE, status="sent").count() == 1
    assert len(sms.outbox) == 1
