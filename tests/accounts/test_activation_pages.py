"""Activation pages (issue item 2): the code logs the person in; resend limits; wrong codes counted."""

from datetime import timedelta

import pytest
from django.utils import timezone
from freezegun import freeze_time

from accounts import sms
from accounts.models import Throttle, User
from tests.accounts.accounts_testkit import PASSWORD, last_code, register


def wrong(code):
    return f"{(int(code) + 1) % 1_000_000:06d}"


@pytest.mark.django_db
def test_the_activation_page_without_a_registration_sends_to_registration(client):
    response = client.get("/register/activate/")
    assert response.status_code == 302
    assert response["Location"] == "/register/"


def test_the_right_code_activates_the_account_logs_in_and_opens_the_dashboard(client, amina):
    register(client, amina)
    session_before = client.session.session_key
    response = client.post("/register/activate/", {"code": last_code()})
    assert response.status_code == 302
    assert response["Location"] == "/me/"
    user = User.objects.get(insured=amina)
    assert user.is_active and user.activated_at is not None
    assert user.email == "amina@example.ma"
    assert user.check_password(PASSWORD)
    assert client.session.session_key != session_before
    assert client.get("/me/").status_code == 200


def test_a_code_typed_with_spaces_is_accepted(client, amina):
    register(client, amina)
    code = last_code()
    assert client.post("/register/activate/", {"code": f"{code[:3]} {code[3:]}"}).status_code == 302


def test_a_wrong_code_is_refused_with_a_message_and_counted(client, amina):
    register(client, amina)
    response = client.post("/register/activate/", {"code": wrong(last_code())})
    assert response.status_code == 200
    assert "This code is not valid" in response.content.decode()
    assert Throttle.objects.get(key__startswith="otp:user:").failures == 1
    assert not User.objects.get(insured=amina).is_active


def test_a_malformed_code_is_a_form_error(client, amina):
    register(client, amina)
    response = client.post("/register/activate/", {"code": "12ab"})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'class="error-summary"' in page and "<title>Error:" in page
    assert 'aria-invalid="true"' in page


def test_resend_waits_sixty_seconds_then_sends_a_new_code(client, amina):
    with freeze_time(timezone.now()) as frozen:
        register(client, amina)
        first = last_code()
        response = client.post("/register/activate/resend/", follow=True)
        assert len(sms.outbox) == 1
        assert "Try again in 60 seconds." in response.content.decode()
        frozen.tick(timedelta(seconds=60))
        client.post("/register/activate/resend/")
        assert len(sms.outbox) == 2
        second = last_code()
        if first != second:
            assert client.post("/register/activate/", {"code": first}).status_code == 200
        assert client.post("/register/activate/", {"code": second}).status_code == 302


def test_an_expired_registration_cannot_be_activated(client, amina, settings):
    settings.DAMANE_REGISTRATION_TTL_SECONDS = 5 * 60
    with freeze_time(timezone.now()) as frozen:
        register(client, amina)
        code = last_code()
        frozen.tick(timedelta(seconds=5 * 60 + 1))
        response = client.post("/register/activate/", {"code": code})
    assert response.status_code == 200
    assert "This registration has expired" in response.content.decode()
    assert not User.objects.get(insured=amina).is_active


def test_the_account_lock_shows_when_to_come_back(client, amina):
    with freeze_time(timezone.now()) as frozen:
        register(client, amina)
        for _ in range(5):
            client.post("/register/activate/", {"code": wrong(last_code())})
        frozen.tick(timedelta(seconds=61))
        client.post("/register/activate/resend/")
        for _ in range(4):
            client.post("/register/activate/", {"code": wrong(last_code())})
        response = client.post("/register/activate/", {"code": wrong(last_code())})
        assert "10 minutes" in response.content.decode()
        assert client.post("/register/activate/", {"code": last_code()}).status_code == 200
        frozen.tick(timedelta(minutes=10, seconds=1))
        assert client.post("/register/activate/", {"code": last_code()}).status_code == 200  # the code expired too
        client.post("/register/activate/resend/")
        assert client.post("/register/activate/", {"code": last_code()}).status_code == 302


def test_the_activation_page_reads_the_latest_code_once(client, amina):
    """Its SMS status and its resend countdown come from one look-up of the latest code (review of issue 22)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    register(client, amina)
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/register/activate/")
    assert page.status_code == 200
    code_reads = [q["sql"] for q in queries.captured_queries if 'FROM "accounts_onetimecode"' in q["sql"]]
    assert len(code_reads) == 1, code_reads
