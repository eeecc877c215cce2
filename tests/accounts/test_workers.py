"""Background work end to end: a real worker process on the real Redis broker (issue 9).

The request queues the SMS and answers; a separate ``celery worker`` process
draws the code and sends it; the person reads it and activates the account.
"""

import re

import pytest
from django.test import Client

from accounts.models import OneTimeCode, OutboundEmail, SmsMessage
from tests.accounts.accounts_testkit import register
from tests.workers import celery_worker, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def sms_dir(settings, tmp_path):
    settings.SMS_FILE_PATH = tmp_path / "sms"
    return settings.SMS_FILE_PATH


def received(sms_dir) -> list[str]:
    return [p.read_text() for p in sorted(sms_dir.glob("*.txt"))] if sms_dir.exists() else []


def test_a_registration_sms_is_sent_by_a_worker_and_its_code_activates_the_account(amina, sms_dir, tmp_path):
    client = Client(headers={"accept-language": "fr"})
    with celery_worker(tmp_path) as worker:
        assert register(client, amina, email="amina@example.ma").status_code == 302
        # The worker writes the outbox row (the request only queues the registration's task).
        wait_for(lambda: SmsMessage.objects.filter(status=SmsMessage.Status.SENT).exists(), timeout=30)
        message = SmsMessage.objects.get()
        log = worker.output()
    [text] = received(sms_dir)
    assert text.startswith(f"To: {amina.phone}")
    # Written by the worker in the language of the request.
    assert "code d'activation" in text
    code = re.search(r"\b(\d{6})\b", text).group(1)
    page = client.get("/register/activate/").content.decode()
    assert "sms-sent" in page
    assert client.post("/register/activate/", {"code": code}).status_code == 302
    assert OneTimeCode.objects.get().used_at is not None
    message.refresh_from_db()
    assert message.attempts == 1 and message.backend == "file" and message.provider_id.startswith("file-")
    # The task carried the row id only: no number and no code went through the broker.
    assert "send_code_sms[" in log
    assert amina.phone not in log and code not in log


def test_a_notice_email_is_sent_by_a_worker(amina, active_amina, sms_dir, tmp_path):
    with celery_worker(tmp_path):
        assert register(Client(), amina, email="someone@example.ma").status_code == 302
        wait_for(lambda: OutboundEmail.objects.filter(status=OutboundEmail.Status.SENT).exists(), timeout=30)
    [mail] = (tmp_path / "mail").glob("*.log")
    assert "To: amina@example.ma" in mail.read_text()
    assert received(sms_dir) == []
