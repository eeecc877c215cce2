"""Registration (issue items 1, 6): the CNSS number / CIN pair, the declared phone, and answers that leak nothing."""

import re
from contextlib import contextmanager
from datetime import timedelta
from unittest.mock import patch

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone
from freezegun import freeze_time

from accounts import sms
from accounts.models import OneTimeCode, Registration, SmsMessage, User
from tests.accounts.accounts_testkit import PASSWORD, last_code, register, registration_data

MISMATCH = "We could not open an account with this CNSS number and national ID number."


def main_text(response):
    """The page's <main>, without the CSRF token and the values typed, to compare two answers."""
    html = response.content.decode()
    main = html[html.index("<main") : html.index("</main>")]
    return re.sub(r' value="[^"]*"', "", main)


@pytest.mark.django_db
def test_the_registration_page_asks_for_the_cnss_number_cin_email_and_password(client):
    html = client.get("/register/").content.decode()
    for name in ("cnss_number", "cin", "email", "password"):
        assert f'name="{name}"' in html


def test_a_matching_pair_sends_a_code_to_the_declared_phone_and_shows_it_masked(client, amina):
    response = register(client, amina)
    assert response.status_code == 302
    assert response["Location"] == "/register/activate/"
    [(to, body)] = sms.outbox
    assert to == "+212612345601"
    assert re.search(r"\b\d{6}\b", body)
    page = client.get("/register/activate/").content.decode()
    assert "+212 6•• ••• •01" in page
    assert "+212612345601" not in page
    user = User.objects.get(insured=amina)
    assert (user.is_active, user.activated_at, user.email, user.has_usable_password()) == (False, None, "", False)
    registration = Registration.objects.get()
    assert registration.email == "amina@example.ma"
    assert registration.password.startswith("argon2$argon2id$")
    assert PASSWORD not in registration.password


def test_the_cnss_number_and_cin_are_normalised(client, amina):
    register(client, amina, cnss_number=" 100 234 561 ", cin=" be123456 ")
    assert len(sms.outbox) == 1


def test_an_unknown_cnss_number_and_a_wrong_cin_get_the_same_answer_and_nothing_is_sent(client, amina):
    unknown = register(client, amina, cnss_number="199999999")
    wrong_cin = register(client, amina, cin="BE999999")
    assert unknown.status_code == wrong_cin.status_code == 200
    assert MISMATCH in unknown.content.decode()
    assert main_text(unknown) == main_text(wrong_cin)
    assert sms.outbox == []
    assert not User.objects.exists()
    assert not Registration.objects.exists()


def test_identity_mismatches_are_limited_to_ten_an_hour_per_address_then_everything_waits(client, amina):
    with freeze_time(timezone.now()) as frozen:
        for _ in range(10):
            assert register(client, amina, cin="BE999999").status_code == 200
        refused = register(client, amina, cin="BE999999")
        assert refused.status_code == 429
        assert int(refused["Retry-After"]) <= 3600
        # A right pair from the same address must not tell the prober anything either.
        assert register(client, amina).status_code == 429
        assert sms.outbox == []
        # Another address is not affected.
        other = client.post("/register/", registration_data(amina), REMOTE_ADDR="10.9.9.9")
        assert other.status_code == 302
        frozen.tick(timedelta(hours=1))
        assert register(client, amina, cin="BE999999").status_code == 200


def test_an_earlier_cin_gets_the_outdated_id_guidance(client, salma):
    response = register(client, salma, cin="B345678")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="outdated-cin"' in html
    assert "civil-registry document" in html
    assert sms.outbox == []
    assert not User.objects.exists()


def test_outdated_id_answers_count_in_the_mismatch_limit(client, salma):
    with freeze_time(timezone.now()):
        for _ in range(10):
            register(client, salma, cin="B345678")
        assert register(client, salma, cin="B345678").status_code == 429


def test_no_declared_phone_gets_the_agency_guidance(client, nophone):
    response = register(client, nophone)
    assert response.status_code == 200
    assert 'id="no-phone"' in response.content.decode()
    assert sms.outbox == []
    assert not User.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("cnss_number", "12345"),
        ("cnss_number", "ABCDEFGHI"),
        ("cin", "123456"),
        ("cin", "ABC1234567"),
        ("email", "not-an-email"),
        ("password", "short pass"),
        ("password", "password1234"),
        ("password", "x" * 129),
        ("cnss_number", "\x00" * 9),
        ("cin", "<script>alert(1)</script>"),
    ],
)
def test_bad_input_is_refused_with_a_form_error_never_a_crash(client, amina, field, value):
    response = register(client, amina, **{field: value})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'class="error-summary"' in page and "<title>Error:" in page
    assert 'aria-invalid="true"' in page
    assert sms.outbox == []
    assert "<script>alert(1)</script>" not in response.content.decode()


def test_a_password_of_twelve_characters_with_spaces_is_accepted(client, amina):
    assert register(client, amina, password="mon chat  12").status_code == 302


def test_registering_again_before_activation_sends_a_new_code_and_leaves_the_first_untouched(client, amina):
    with freeze_time(timezone.now()) as frozen:
        register(client, amina)
        frozen.tick(timedelta(seconds=61))
        register(client, amina, email="other@example.ma")
    assert Registration.objects.count() == 2
    assert len(sms.outbox) == 2
    assert User.objects.filter(insured=amina).count() == 1


def test_a_second_registration_cannot_hand_its_password_to_the_account(client, amina, django_app_client):
    """Someone who knows the pair but not the phone registers after the owner: the owner's code keeps her details."""
    owner, intruder = client, django_app_client
    with freeze_time(timezone.now()) as frozen:
        register(owner, amina)
        owner_code = last_code()
        frozen.tick(timedelta(seconds=61))
        register(intruder, amina, email="intruder@example.ma", password="mot de passe de l'intrus")
        intruder_code = last_code()
        # The code sent for the intruder's registration does not work in the owner's.
        refused = owner.post("/register/activate/", {"code": intruder_code})
        assert refused.status_code == 200
        assert owner.post("/register/activate/", {"code": owner_code}).status_code == 302
        # The intruder's registration is closed, even with its own code.
        assert intruder.post("/register/activate/", {"code": intruder_code}).status_code == 200
    user = User.objects.get(insured=amina)
    assert user.email == "amina@example.ma"
    assert user.check_password(PASSWORD)
    assert not user.check_password("mot de passe de l'intrus")


def test_an_active_account_gets_the_same_answer_an_email_and_no_sms(client, amina, active_amina, django_app_client):
    sms.outbox.clear()
    mail.outbox.clear()
    fresh = django_app_client
    response = register(fresh, amina, email="someone@example.ma")
    assert response.status_code == 302
    assert response["Location"] == "/register/activate/"
    assert "+212 6•• ••• •01" in fresh.get("/register/activate/").content.decode()
    assert sms.outbox == []
    [notice] = mail.outbox
    assert notice.to == ["amina@example.ma"]
    assert "/password-reset/" in notice.body
    # Any code is simply wrong, as it would be for a real registration.
    assert fresh.post("/register/activate/", {"code": "123456"}).status_code == 200
    assert User.objects.get(insured=amina).email == "amina@example.ma"


def test_an_email_used_by_another_account_gets_the_same_answer_and_its_owner_is_told(
    client, amina, active_amina, salma, django_app_client
):
    sms.outbox.clear()
    mail.outbox.clear()
    response = register(django_app_client, salma, email="AMINA@example.ma")
    assert response.status_code == 302
    assert sms.outbox == []
    assert [m.to for m in mail.outbox] == [["amina@example.ma"]]
    # A decoy registration: it walks the pages like a real one but can never be activated.
    [decoy] = Registration.objects.filter(user__insured=salma)
    assert decoy.decoy and not OneTimeCode.objects.filter(registration=decoy).exists()


def test_a_disabled_account_is_not_revived_by_registering_again(client, amina, active_amina, django_app_client):
    User.objects.filter(pk=active_amina.pk).update(is_active=False)
    sms.outbox.clear()
    register(django_app_client, amina, email="new@example.ma")
    assert sms.outbox == []
    assert not User.objects.get(pk=active_amina.pk).is_active
    assert OneTimeCode.objects.filter(used_at=None, invalidated_at=None).count() == 0


def test_a_provider_failure_at_registration_says_so_and_costs_nothing(client, amina, monkeypatch):
    from accounts.sms.backends.base import SmsBackendError
    from accounts.sms.backends.locmem import LocmemBackend

    def fail(self, *, to, body):
        raise SmsBackendError("timeout")

    monkeypatch.setattr(LocmemBackend, "send", fail)
    response = register(client, amina)
    assert response.status_code == 302
    page = client.get("/register/activate/").content.decode()
    assert "could not be sent" in page
    assert SmsMessage.objects.get().status == "failed"
    monkeypatch.undo()
    # Resending at once is allowed: the failed send did not count.
    client.post("/register/activate/resend/")
    assert len(sms.outbox) == 1
    assert client.post("/register/activate/", {"code": last_code()}).status_code == 302


@contextmanager
def work_done_in_the_request():
    """What a registration does before it answers: password hashes, tasks enqueued, messages sent.

    The hasher and the task queue are observed, not replaced: hashing happens as
    usual, and enqueued tasks are recorded instead of run, as when a worker will
    pick them up after the answer.
    """
    from django.contrib.auth.hashers import Argon2PasswordHasher

    from accounts import registration, tasks

    work = {"hashes": 0, "tasks": []}
    encode = Argon2PasswordHasher.encode

    def counting_encode(self, password, salt):
        work["hashes"] += 1
        return encode(self, password, salt)

    def later(task):
        return lambda args=(), **options: work["tasks"].append(task.name)

    with (
        patch.object(Argon2PasswordHasher, "encode", counting_encode),
        patch.object(tasks.send_code_sms, "apply_async", later(tasks.send_code_sms)),
        patch.object(tasks.send_email, "apply_async", later(tasks.send_email)),
        patch.object(registration.send_registration_code, "apply_async", later(registration.send_registration_code)),
    ):
        yield work
    work["sent"] = len(sms.outbox) + len(mail.outbox)


def test_a_taken_email_and_a_free_one_cost_the_same_work_so_timing_tells_nothing(
    amina, active_amina, salma, django_app_client
):
    """Issue 8: a taken address answered in 17 ms, a free one in 120 ms (hashing, the SMS)."""
    sms.outbox.clear()
    mail.outbox.clear()
    with work_done_in_the_request() as taken:
        assert register(django_app_client, salma, email="amina@example.ma").status_code == 302
    Registration.objects.all().delete()
    with work_done_in_the_request() as free:
        assert register(Client(), salma, email="salma@example.ma").status_code == 302
    assert Registration.objects.filter(user__insured=salma).count() == 1
    # Both hash the password once and queue the same task for a worker, which sends the
    # SMS or tells the address's owner; neither sends anything itself.
    assert taken == {"hashes": 1, "tasks": ["accounts.registration.send_registration_code"], "sent": 0}
    assert free == {"hashes": 1, "tasks": ["accounts.registration.send_registration_code"], "sent": 0}
