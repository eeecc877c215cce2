"""Staff log in with password then TOTP, never through the insured flow; insured accounts never reach staff pages
(issue item 6; docs/security.md §11)."""

import io
from datetime import date

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from registry.models import Insured
from tests.backoffice.conftest import STAFF_PASSWORD, current_token


def password_step(client, username="agent.casa", password=STAFF_PASSWORD):
    return client.post("/staff/login/", {"username": username, "password": password})


@pytest.fixture
def insured_user(db):
    insured = Insured.objects.create(
        cnss_number="100234561", cin="BE123456", last_name="BENNANI", registered_on=date(2011, 3, 1)
    )
    return User.objects.create_user(username="100234561", password=STAFF_PASSWORD, insured=insured)


def test_staff_log_in_with_their_password_then_the_totp_code(client, agent):
    response = password_step(client)
    assert response.status_code == 302
    assert response["Location"] == "/staff/login/code/"
    # The password alone does not log in.
    assert "_auth_user_id" not in client.session
    assert client.get("/staff/").status_code == 302
    response = client.post("/staff/login/code/", {"token": current_token(agent)})
    assert response.status_code == 302
    assert response["Location"] == "/staff/"
    assert client.get("/staff/").status_code == 200


def test_a_wrong_totp_code_does_not_log_in(client, agent):
    password_step(client)
    good = current_token(agent)
    bad = f"{(int(good) + 1) % 1_000_000:06d}"
    response = client.post("/staff/login/code/", {"token": bad})
    assert response.status_code == 200
    assert "This code is not valid" in response.content.decode()
    assert client.get("/staff/").status_code == 302


def test_a_wrong_password_does_not_reach_the_totp_step(client, agent):
    response = password_step(client, password="not the password")
    assert response.status_code == 200
    assert "The username or the password is not correct." in response.content.decode()
    assert client.get("/staff/login/code/").status_code == 302


def test_staff_logins_lock_after_five_failures(client, agent):
    for _ in range(5):
        password_step(client, password="not the password")
    response = password_step(client)
    assert response.status_code == 200
    assert "locked" in response.content.decode()


def test_staff_cannot_log_in_through_the_insured_login(client, agent):
    response = client.post("/login/", {"identifier": "agent.casa", "password": STAFF_PASSWORD})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_an_insured_cannot_log_in_through_the_staff_login(client, insured_user):
    response = password_step(client, username="100234561")
    assert response.status_code == 200
    assert "The username or the password is not correct." in response.content.decode()


def test_a_staff_session_without_totp_cannot_reach_staff_pages_or_the_admin(client, agent):
    client.force_login(agent, backend="accounts.backends.StaffBackend")
    response = client.get("/staff/")
    assert response.status_code == 302
    assert response["Location"].startswith("/staff/login/")
    response = client.get("/admin/")
    assert response.status_code == 302
    response = client.get(response["Location"])
    assert response["Location"].startswith("/staff/login/")


def test_a_verified_staff_member_reaches_the_admin(client, agent):
    agent.is_superuser = True
    agent.save()
    password_step(client)
    client.post("/staff/login/code/", {"token": current_token(agent)})
    assert client.get("/admin/").status_code == 200


def test_an_insured_account_gets_404_on_staff_pages_and_the_admin(client, insured_user):
    client.force_login(insured_user)
    for url in ("/staff/", "/staff/login/", "/staff/login/code/", "/admin/", "/admin/login/", "/admin/auth/group/"):
        assert client.get(url).status_code == 404, url


def test_the_admin_login_sends_staff_to_the_back_office_login(client, db):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/staff/login/?next=/admin/")


def test_staff_logout_ends_the_session(client, agent):
    password_step(client)
    client.post("/staff/login/code/", {"token": current_token(agent)})
    assert client.post("/staff/logout/").status_code == 302
    assert client.get("/staff/").status_code == 302


def test_the_agent_and_supervisor_groups_exist(db):
    assert set(Group.objects.values_list("name", flat=True)) >= {"agent", "supervisor"}


def test_create_staff_user_makes_a_staff_account_with_a_totp_device(db, monkeypatch):
    monkeypatch.setenv("DAMANE_STAFF_PASSWORD", STAFF_PASSWORD)
    out = io.StringIO()
    call_command("create_staff_user", "super.rabat", "--supervisor", "--no-qr", stdout=out)
    user = User.objects.get(username="super.rabat")
    assert user.is_staff and not user.is_superuser and user.insured_id is None
    assert user.check_password(STAFF_PASSWORD)
    assert set(user.groups.values_list("name", flat=True)) == {"agent", "supervisor"}
    device = TOTPDevice.objects.get(user=user)
    assert device.confirmed
    assert "otpauth://totp/" in out.getvalue()
    assert device.config_url in out.getvalue()
    assert STAFF_PASSWORD not in out.getvalue()


def test_create_staff_user_prints_a_generated_password_once_and_draws_the_qr(db, monkeypatch):
    monkeypatch.delenv("DAMANE_STAFF_PASSWORD", raising=False)
    out = io.StringIO()
    call_command("create_staff_user", "agent.fes", "--role", "agent", stdout=out)
    password = next(line for line in out.getvalue().splitlines() if line.startswith("Password")).split(": ", 1)[1]
    assert User.objects.get(username="agent.fes").check_password(password)
    assert out.getvalue().count("\n") > 10


def test_create_staff_user_refuses_an_existing_username(db, agent):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("create_staff_user", "agent.casa", "--role", "agent", "--no-qr", stdout=io.StringIO())
