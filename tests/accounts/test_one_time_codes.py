"""One-time SMS codes (SECURITY.md 1-5): HMAC storage, expiry, single use, tries, locks and send limits."""

from datetime import timedelta

import pytest
from django.utils import timezone
from freezegun import freeze_time

from accounts import codes, sms
from accounts.errors import CodeExpired, CodeInvalid, CodeLocked, CodeTriesExhausted, SendRefused, SmsNotSent
from accounts.models import OneTimeCode, SmsMessage, Throttle, User
from accounts.sms.backends.base import BaseSmsBackend, SmsBackendError
from tests.accounts.accounts_testkit import last_code
from tests.threads import run_in_threads

ACTIVATION = OneTimeCode.Purpose.ACTIVATION
LOGIN = OneTimeCode.Purpose.LOGIN
PHONE = "+212612345601"


class BrokenBackend(BaseSmsBackend):
    name = "broken"

    def send(self, *, to, body):
        raise SmsBackendError("provider timed out")


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


def test_a_provider_failure_creates_no_code_uses_no_try_and_is_in_the_outbox(user):
    with pytest.raises(SmsNotSent):
        codes.code_send(user=user, purpose=ACTIVATION, phone=PHONE, backend=BrokenBackend())
    assert not OneTimeCode.objects.exists()
    assert not Throttle.objects.filter(key=codes.account_key(user.pk)).exclude(failures=0).exists()
    failed = SmsMessage.objects.get()
    assert failed.status == SmsMessage.Status.FAILED
    assert failed.error == "provider timed out"
    # A failed send does not hold back the next one.
    assert send(user)


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
