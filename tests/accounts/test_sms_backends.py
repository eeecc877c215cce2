"""SMS backends and the outbox (docs/security.md §2, 5): console, file, locmem, Twilio at its transport boundary."""

import io
import json

import pytest
import requests
from django.core.exceptions import ImproperlyConfigured
from twilio.http import HttpClient
from twilio.http.response import Response

from accounts import sms
from accounts.models import SmsMessage
from accounts.sms.backends.console import ConsoleBackend
from accounts.sms.backends.filebased import FileBackend
from accounts.sms.backends.twilio import TwilioBackend

SID = "AC" + "0123456789abcdef" * 2
TOKEN = "twilio-test-token"


class FakeTwilioHttp(HttpClient):
    """Twilio's transport boundary: records each request and answers what the test says."""

    def __init__(self, *, status=201, body=None, error=None):
        super().__init__(logger=None, is_async=False)
        self.status, self.body, self.error = status, body, error
        self.requests = []

    def request(self, method, url, params=None, data=None, headers=None, auth=None, timeout=None, **kwargs):
        self.requests.append({"method": method, "url": url, "data": data, "auth": auth, "headers": headers})
        if self.error:
            raise self.error
        return Response(self.status, json.dumps(self.body))


@pytest.fixture
def twilio_settings(settings):
    settings.TWILIO_ACCOUNT_SID = SID
    settings.TWILIO_AUTH_TOKEN = TOKEN
    settings.TWILIO_FROM_NUMBER = "+15005550006"
    settings.TWILIO_MESSAGING_SERVICE_SID = ""
    return settings


def message_json(sid="SM" + "f" * 32):
    return {"sid": sid, "status": "queued", "to": "+212612345601", "body": "x", "account_sid": SID}


def test_a_moroccan_number_is_masked_to_its_first_and_last_two_digits():
    assert sms.mask_phone("+212612345689") == "+212 6•• ••• •89"
    assert sms.mask_phone("+212712345601") == "+212 7•• ••• •01"


@pytest.mark.django_db
def test_the_outbox_records_a_sent_message_with_its_provider_id_and_without_the_code():
    message = sms.send_sms(to="+212612345601", body="Damane: code 123456", purpose="activation", secrets=["123456"])
    assert sms.outbox == [("+212612345601", "Damane: code 123456")]
    row = SmsMessage.objects.get()
    assert row == message
    assert row.status == SmsMessage.Status.SENT
    assert row.provider_id.startswith("locmem-")
    assert row.backend == "locmem"
    assert row.body == "Damane: code ••••••"
    assert row.sent_at is not None


@pytest.mark.django_db
def test_the_console_backend_prints_the_message(settings):
    stream = io.StringIO()
    sms.send_sms(to="+212612345601", body="hello 654321", purpose="activation", backend=ConsoleBackend(stream=stream))
    assert "+212612345601" in stream.getvalue()
    assert "hello 654321" in stream.getvalue()
    assert SmsMessage.objects.get().backend == "console"


@pytest.mark.django_db
def test_the_file_backend_writes_one_file_per_message(settings, tmp_path):
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = tmp_path / "sms"
    sms.send_sms(to="+212612345601", body="first 111111", purpose="activation")
    sms.send_sms(to="+212612345602", body="second 222222", purpose="activation")
    files = sorted((tmp_path / "sms").iterdir())
    assert len(files) == 2
    assert files[0].read_text().splitlines()[0] == "To: +212612345601"
    assert "first 111111" in files[0].read_text()
    assert "second 222222" in files[1].read_text()
    assert set(SmsMessage.objects.values_list("status", flat=True)) == {"sent"}


@pytest.mark.django_db
def test_a_file_backend_that_cannot_write_records_a_failed_send(settings, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    message = sms.send_sms(to="+212612345601", body="x 123456", purpose="activation", backend=FileBackend(blocker))
    assert message.status == SmsMessage.Status.FAILED
    assert "cannot write" in message.error


@pytest.mark.django_db
def test_twilio_gets_the_number_text_and_sender_and_its_message_sid_is_recorded(twilio_settings):
    http = FakeTwilioHttp(body=message_json("SM" + "a" * 32))
    message = sms.send_sms(
        to="+212612345601",
        body="Damane: 123456",
        purpose="activation",
        secrets=["123456"],
        backend=TwilioBackend(http_client=http),
    )
    [sent] = http.requests
    assert sent["method"] == "POST"
    assert sent["url"] == f"https://api.twilio.com/2010-04-01/Accounts/{SID}/Messages.json"
    assert sent["auth"] == (SID, TOKEN)
    assert sent["data"] == {"To": "+212612345601", "Body": "Damane: 123456", "From": "+15005550006"}
    assert message.status == SmsMessage.Status.SENT
    assert message.provider_id == "SM" + "a" * 32
    assert message.backend == "twilio"
    assert message.body == "Damane: ••••••"


@pytest.mark.django_db
def test_twilio_uses_the_messaging_service_when_one_is_configured(twilio_settings):
    twilio_settings.TWILIO_MESSAGING_SERVICE_SID = "MG" + "b" * 32
    http = FakeTwilioHttp(body=message_json())
    sms.send_sms(to="+212612345601", body="x", purpose="activation", backend=TwilioBackend(http_client=http))
    data = http.requests[0]["data"]
    assert data["MessagingServiceSid"] == "MG" + "b" * 32
    assert "From" not in data


@pytest.mark.django_db
def test_a_twilio_error_is_recorded_as_a_failed_send_with_the_provider_message(twilio_settings, caplog):
    body = {"code": 21211, "message": "The 'To' number +212600000000 is not a valid phone number.", "status": 400}
    http = FakeTwilioHttp(status=400, body=body)
    message = sms.send_sms(
        to="+212600000000",
        body="code 123456",
        purpose="activation",
        secrets=["123456"],
        backend=TwilioBackend(http_client=http),
    )
    assert message.status == SmsMessage.Status.FAILED
    assert "21211" in message.error
    assert message.provider_id == ""
    assert "failed" in caplog.text
    assert "123456" not in caplog.text


@pytest.mark.django_db
def test_a_twilio_timeout_is_recorded_as_a_failed_send(twilio_settings):
    http = FakeTwilioHttp(error=requests.exceptions.ReadTimeout("read timed out"))
    message = sms.send_sms(to="+212612345601", body="x", purpose="activation", backend=TwilioBackend(http_client=http))
    assert message.status == SmsMessage.Status.FAILED
    assert "ReadTimeout" in message.error


def test_twilio_without_credentials_is_a_configuration_error(settings):
    settings.TWILIO_ACCOUNT_SID = ""
    with pytest.raises(ImproperlyConfigured):
        TwilioBackend(http_client=FakeTwilioHttp())


def test_the_default_twilio_transport_has_a_timeout(twilio_settings):
    twilio_settings.TWILIO_TIMEOUT_SECONDS = 7
    backend = TwilioBackend()
    assert backend.client.http_client.timeout == 7


def test_the_backend_is_chosen_by_the_sms_backend_setting(settings, tmp_path):
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = tmp_path
    assert isinstance(sms.get_backend(), FileBackend)
    settings.SMS_BACKEND = "console"
    assert isinstance(sms.get_backend(), ConsoleBackend)


def test_the_deploy_check_refuses_backends_that_keep_codes_in_clear(settings):
    from accounts.checks import check_sms_backend

    settings.SMS_BACKEND = "console"
    assert [w.id for w in check_sms_backend(None)] == ["accounts.W001"]
    settings.SMS_BACKEND = "twilio"
    assert check_sms_backend(None) == []
