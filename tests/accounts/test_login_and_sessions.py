"""Login, lockouts, per-address limits, logout and session expiry (issue item 4; docs/security.md §6, 8, 9)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from freezegun import freeze_time

from accounts.models import User
from tests.accounts.accounts_testkit import PASSWORD

WRONG = "The CNSS number or e-mail address, or the password, is not correct."


def login(client, identifier, password=PASSWORD, **extra):
    return client.post("/login/", {"identifier": identifier, "password": password}, **extra)


@pytest.fixture
def amina_account(active_amina, client):
    client.logout()
    return active_amina


def test_an_insured_logs_in_with_the_cnss_number(client, amina_account):
    response = login(client, "100234561")
    assert response.status_code == 302
    assert response["Location"] == "/me/"
    assert client.get("/me/").status_code == 200


def test_an_insured_logs_in_with_the_email_in_any_case(client, amina_account):
    assert login(client, "  Amina@Example.MA ").status_code == 302


def test_the_session_key_changes_at_login(client, amina_account):
    client.get("/login/")
    client.cookies["sessionid"] = "attacker-chosen-session-id-000000"
    login(client, "100234561")
    assert client.cookies["sessionid"].value != "attacker-chosen-session-id-000000"


def test_a_wrong_password_and_an_unknown_account_get_the_same_answer(client, amina_account):
    wrong = login(client, "100234561", "not the password at all")
    unknown = login(client, "199999999", "not the password at all")
    assert wrong.status_code == unknown.status_code == 200
    assert WRONG in wrong.content.decode()
    assert WRONG in unknown.content.decode()
    assert "_auth_user_id" not in client.session


def test_five_failures_lock_the_account_for_ten_minutes_even_with_the_right_password(client, amina_account):
    with freeze_time(timezone.now()) as frozen:
        for _ in range(4):
            assert WRONG in login(client, "100234561", "wrong password here").content.decode()
        locked = login(client, "amina@example.ma", "wrong password here").content.decode()
        assert "locked" in locked
        assert "10 minutes" in locked
        assert login(client, "100234561").status_code == 200
        frozen.tick(timedelta(minutes=9, seconds=59))
        assert login(client, "100234561").status_code == 200
        frozen.tick(timedelta(seconds=2))
        assert login(client, "100234561").status_code == 302


def test_failures_older_than_ten_minutes_do_not_count(client, amina_account):
    with freeze_time(timezone.now()) as frozen:
        for _ in range(4):
            login(client, "100234561", "wrong password here")
        frozen.tick(timedelta(minutes=10, seconds=1))
        for _ in range(4):
            login(client, "100234561", "wrong password here")
        assert login(client, "100234561").status_code == 302


def test_an_unknown_account_locks_like_a_real_one(client, db):
    for _ in range(4):
        login(client, "199999999", "wrong password here")
    assert "locked" in login(client, "199999999", "wrong password here").content.decode()


def test_more_than_twenty_login_posts_a_minute_from_one_address_get_429(client, amina_account):
    with freeze_time(timezone.now()):
        for i in range(20):
            assert login(client, f"1000000{i:02d}", "wrong password here").status_code == 200
        refused = login(client, "100234561")
        assert refused.status_code == 429
        assert refused["Retry-After"]
        assert login(client, "100234561", REMOTE_ADDR="10.7.7.7").status_code == 302


def test_the_login_limit_follows_the_trusted_forwarded_address(client, amina_account, settings):
    settings.DAMANE_TRUSTED_PROXY_COUNT = 1
    with freeze_time(timezone.now()):
        for i in range(21):
            login(client, f"1000000{i:02d}", "wrong password here", HTTP_X_FORWARDED_FOR="41.1.1.1")
        assert login(client, "100234561", HTTP_X_FORWARDED_FOR="41.1.1.1").status_code == 429
        assert login(client, "100234561", HTTP_X_FORWARDED_FOR="41.2.2.2").status_code == 302


def test_an_account_not_yet_activated_cannot_log_in(client, amina):
    from tests.accounts.accounts_testkit import register

    register(client, amina)
    assert WRONG in login(client, "100234561").content.decode()
    assert WRONG in login(client, "amina@example.ma").content.decode()


def test_a_staff_account_cannot_log_in_through_the_insured_login(client, db):
    User.objects.create_user(username="agent1", email="agent1@cnss.example", password=PASSWORD, is_staff=True)
    assert WRONG in login(client, "agent1@cnss.example").content.decode()
    assert WRONG in login(client, "agent1").content.decode()


def test_the_login_goes_back_to_a_safe_next_page_only(client, amina_account):
    response = client.post("/login/", {"identifier": "100234561", "password": PASSWORD, "next": "/me/email/"})
    assert response["Location"] == "/me/email/"
    client.post("/logout/")
    response = client.post(
        "/login/", {"identifier": "100234561", "password": PASSWORD, "next": "https://evil.example/"}
    )
    assert response["Location"] == "/me/"


def test_logout_is_a_post_and_ends_the_session(client, active_amina):
    assert client.get("/logout/").status_code == 405
    assert client.get("/me/").status_code == 200
    assert client.post("/logout/").status_code == 302
    response = client.get("/me/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_a_session_ends_after_fifteen_idle_minutes(client, amina_account):
    with freeze_time(timezone.now()) as frozen:
        login(client, "100234561")
        frozen.tick(timedelta(minutes=14))
        assert client.get("/me/").status_code == 200
        frozen.tick(timedelta(minutes=14))
        assert client.get("/me/").status_code == 200
        frozen.tick(timedelta(minutes=15, seconds=1))
        assert client.get("/me/").status_code == 302


def test_a_session_ends_twelve_hours_after_login_however_active(client, amina_account):
    with freeze_time(timezone.now()) as frozen:
        login(client, "100234561")
        for _ in range(11 * 6 + 5):
            frozen.tick(timedelta(minutes=10))
            assert client.get("/me/").status_code == 200
        frozen.tick(timedelta(minutes=10, seconds=1))
        response = client.get("/me/")
        assert response.status_code == 302
        assert response["Location"].startswith("/login/")
        assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_the_login_page_renders_for_anonymous_visitors(client):
    html = client.get("/login/").content.decode()
    assert 'name="identifier"' in html
    assert 'autocomplete="current-password"' in html
