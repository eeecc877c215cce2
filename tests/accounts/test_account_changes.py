"""E-mail and password changes with the current password, and password reset by e-mail link
(docs/security.md §6, 7, 10)."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from freezegun import freeze_time

from accounts.models import User
from audit.models import AuditEntry
from tests.accounts.accounts_testkit import PASSWORD

NEW_PASSWORD = "un autre mot de passe solide"


@pytest.fixture
def logged_in(active_amina):
    mail.outbox.clear()
    return active_amina


def test_changing_the_email_needs_the_current_password(client, logged_in):
    response = client.post("/me/email/", {"email": "new@example.ma", "current_password": "wrong password!"})
    assert response.status_code == 200
    assert "Your current password is not correct." in response.content.decode()
    assert User.objects.get(pk=logged_in.pk).email == "amina@example.ma"
    assert mail.outbox == []


def test_a_changed_email_is_saved_audited_and_both_addresses_are_told(client, logged_in):
    response = client.post("/me/email/", {"email": "amina.b@example.ma", "current_password": PASSWORD})
    assert response.status_code == 302
    assert User.objects.get(pk=logged_in.pk).email == "amina.b@example.ma"
    assert sorted(m.to[0] for m in mail.outbox) == ["amina.b@example.ma", "amina@example.ma"]
    assert all("amina.b@example.ma" in m.body for m in mail.outbox)
    entry = AuditEntry.objects.get(action="accounts.user.email_changed")
    assert (entry.before, entry.after) == ({"email": "amina@example.ma"}, {"email": "amina.b@example.ma"})


def test_an_email_of_another_account_cannot_be_taken(client, logged_in):
    User.objects.create_user(username="someone", email="taken@example.ma", password=PASSWORD)
    response = client.post("/me/email/", {"email": "Taken@example.ma", "current_password": PASSWORD})
    assert response.status_code == 200
    assert User.objects.get(pk=logged_in.pk).email == "amina@example.ma"


def test_wrong_current_passwords_count_towards_the_login_lock(client, logged_in):
    for _ in range(4):
        client.post("/me/email/", {"email": "x@example.ma", "current_password": "wrong password!"})
    response = client.post("/me/email/", {"email": "x@example.ma", "current_password": "wrong password!"})
    assert "locked" in response.content.decode()
    response = client.post("/me/email/", {"email": "x@example.ma", "current_password": PASSWORD})
    assert "locked" in response.content.decode()


def test_changing_the_password_needs_the_current_one_and_notifies(client, logged_in):
    refused = client.post(
        "/me/password/",
        {"old_password": "wrong password!", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert refused.status_code == 200
    assert User.objects.get(pk=logged_in.pk).check_password(PASSWORD)
    response = client.post(
        "/me/password/", {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert User.objects.get(pk=logged_in.pk).check_password(NEW_PASSWORD)
    [notice] = mail.outbox
    assert notice.to == ["amina@example.ma"]
    assert "password" in notice.subject
    # This session goes on.
    assert client.get("/me/").status_code == 200


def test_a_common_new_password_is_refused(client, logged_in):
    response = client.post(
        "/me/password/", {"old_password": PASSWORD, "new_password1": "password1234", "new_password2": "password1234"}
    )
    assert response.status_code == 200
    assert User.objects.get(pk=logged_in.pk).check_password(PASSWORD)


def reset_link(message):
    return re.search(r"https://damane\.example(/password-reset/[^\s]+/)", message.body).group(1)


def test_a_password_reset_link_goes_by_email_and_sets_a_new_password(client, logged_in):
    client.post("/logout/")
    mail.outbox.clear()
    response = client.post("/password-reset/", {"email": "AMINA@example.ma"})
    assert response.status_code == 302
    [message] = mail.outbox
    link = reset_link(message)
    form = client.get(link, follow=True)
    assert form.status_code == 200
    done = client.post(form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302
    assert User.objects.get(pk=logged_in.pk).check_password(NEW_PASSWORD)
    assert mail.outbox[-1].subject.startswith("Damane: your password was changed")
    # The link works once.
    assert "does not work any more" in client.get(link, follow=True).content.decode()


def test_a_reset_for_an_unknown_address_looks_the_same_and_sends_no_link(client, logged_in):
    known = client.post("/password-reset/", {"email": "amina@example.ma"}, follow=True)
    mail.outbox.clear()
    unknown = client.post("/password-reset/", {"email": "nobody@example.ma"}, follow=True)
    assert unknown.redirect_chain == known.redirect_chain
    # The typed address is told that no account uses it, and where to turn; no link.
    [message] = mail.outbox
    assert message.to == ["nobody@example.ma"]
    assert message.subject == "Damane: no account uses this e-mail address"
    assert "https://damane.example/password-reset/sms/" in message.body
    assert not re.search(r"/password-reset/[^s\s][^/\s]*/[^/\s]+/", message.body)


def test_staff_accounts_get_no_reset_link(client, db):
    User.objects.create_user(username="agent1", email="agent1@cnss.example", password=PASSWORD, is_staff=True)
    client.post("/password-reset/", {"email": "agent1@cnss.example"})
    [message] = mail.outbox
    assert message.subject == "Damane: no account uses this e-mail address"
    assert not re.search(r"/password-reset/[^s\s][^/\s]*/[^/\s]+/", message.body)


def test_a_reset_ends_a_login_lock(client, logged_in):
    client.post("/logout/")
    with freeze_time(timezone.now()):
        for _ in range(5):
            client.post("/login/", {"identifier": "100234561", "password": "wrong password!"})
        assert "locked" in client.post("/login/", {"identifier": "100234561", "password": PASSWORD}).content.decode()
        mail.outbox.clear()
        client.post("/password-reset/", {"email": "amina@example.ma"})
        form = client.get(reset_link(mail.outbox[0]), follow=True)
        client.post(form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
        assert client.post("/login/", {"identifier": "100234561", "password": NEW_PASSWORD}).status_code == 302


def test_reset_links_last_one_hour(client, logged_in):
    client.post("/logout/")
    with freeze_time(timezone.now()) as frozen:
        client.post("/password-reset/", {"email": "amina@example.ma"})
        link = reset_link(mail.outbox[-1])
        frozen.tick(timedelta(hours=1, seconds=1))
        assert "does not work any more" in client.get(link, follow=True).content.decode()


@pytest.mark.django_db
def test_account_pages_need_a_login(client):
    for url in ("/me/", "/me/email/", "/me/password/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/login/?next=")
