"""Account recovery by SMS for workers without e-mail access: the code goes to the employer-declared phone
through the activation's code path, with the same limits, and the answer is the same for unknown pairs."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from freezegun import freeze_time

from accounts import sms
from accounts.models import OneTimeCode, SmsMessage
from audit.models import AuditEntry
from tests.accounts.accounts_testkit import last_code

NEW_PASSWORD = "un nouveau mot de passe solide"


@pytest.fixture
def amina_account(client, active_amina):
    """Amina's activated account, logged out, her activation SMS two minutes old and out of the outbox."""
    client.logout()
    SmsMessage.objects.update(created_at=timezone.now() - timedelta(minutes=2))
    sms.outbox.clear()
    mail.outbox.clear()
    return active_amina


def start(client, cnss_number, cin):
    return client.post("/password-reset/sms/", {"cnss_number": cnss_number, "cin": cin})


def main_text(response):
    html = response.content.decode()
    main = html[html.index("<main") : html.index("</main>")]
    return re.sub(r' value="[^"]*"', "", main)


def test_a_worker_gets_a_code_on_the_declared_phone_and_chooses_a_new_password(client, amina_account):
    response = start(client, "100 234 561", "be123456")
    assert response.status_code == 302 and response["Location"] == "/password-reset/sms/code/"
    [(to, body)] = sms.outbox
    assert to == amina_account.insured.phone
    assert "new password" in body
    code = last_code()
    response = client.post("/password-reset/sms/code/", {"code": code, "new_password": NEW_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/login/"
    amina_account.refresh_from_db()
    assert amina_account.check_password(NEW_PASSWORD)
    assert OneTimeCode.objects.get(purpose="recovery").used_at is not None
    assert AuditEntry.objects.filter(action="accounts.user.recovered_by_sms", object_id=str(amina_account.pk)).exists()
    assert [m.to for m in mail.outbox][-1] == [amina_account.email]  # the owner is told


def test_an_unknown_pair_gets_the_same_pages_and_no_sms(client, amina_account):
    # Frozen: the countdown on the page must not differ by the second between the two requests.
    with freeze_time(timezone.now()):
        known = client.get(start(client, "100234561", "BE123456")["Location"])
        other = type(client)(headers={"accept-language": "en"})
        unknown = other.get(start(other, "100234561", "XX999999")["Location"])
    assert main_text(known) == main_text(unknown)
    assert len(sms.outbox) == 1
    wrong = other.post("/password-reset/sms/code/", {"code": "123456", "new_password": NEW_PASSWORD})
    assert "This code is not valid." in wrong.content.decode()


def test_a_wrong_code_changes_nothing_and_counts_like_an_activation_code(client, amina_account):
    start(client, "100234561", "BE123456")
    code = last_code()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    page = client.post("/password-reset/sms/code/", {"code": wrong, "new_password": NEW_PASSWORD}).content.decode()
    assert "<title>Error:" in page and 'href="#id_code"' in page
    amina_account.refresh_from_db()
    assert not amina_account.check_password(NEW_PASSWORD)
    assert OneTimeCode.objects.get(purpose="recovery").tries == 1


def test_a_weak_new_password_is_refused_before_the_code_is_used(client, amina_account):
    start(client, "100234561", "BE123456")
    page = client.post("/password-reset/sms/code/", {"code": last_code(), "new_password": "short"}).content.decode()
    assert 'href="#id_new_password"' in page
    assert OneTimeCode.objects.get(purpose="recovery").used_at is None


def test_sends_share_the_activation_limits_of_the_phone_number(client, amina_account):
    with freeze_time(timezone.now()) as frozen:
        start(client, "100234561", "BE123456")
        start(client, "100234561", "BE123456")
        assert len(sms.outbox) == 1  # 60 s between two sends to a number
        frozen.tick(61)
        start(client, "100234561", "BE123456")
        assert len(sms.outbox) == 2
    assert SmsMessage.objects.filter(purpose="recovery", status="sent").count() == 2


@pytest.mark.django_db
def test_the_login_and_reset_pages_lead_to_recovery_by_sms(client):
    assert 'href="/password-reset/sms/"' in client.get("/login/").content.decode()
    assert 'href="/password-reset/sms/"' in client.get("/password-reset/").content.decode()
