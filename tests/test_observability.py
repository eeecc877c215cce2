"""Liveness, readiness, JSON logs without personal data, metrics and Sentry (issue 9, item 5)."""

import io
import json
import logging
import logging.config
import subprocess
import sys
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from certificates.signing import SIGNING_VALIDITY, create_dev_pki
from damane.logging import logging_config, redact
from tests.test_deployment import production_env

ROOT = Path(__file__).resolve().parent.parent


# --- Liveness and readiness ----------------------------------------------------------


@pytest.mark.django_db
def test_readiness_answers_200_when_the_database_redis_and_the_signing_key_are_fine(client):
    response = client.get("/health/ready/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"Database", "Cache", "Broker", "SigningKey", "TimestampAuthority"}
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db
def test_readiness_answers_503_when_the_signing_certificate_ends_within_thirty_days(client, tmp_path, signing_settings):
    create_dev_pki(tmp_path, now=timezone.now() - SIGNING_VALIDITY + timedelta(days=20))
    with signing_settings(tmp_path):
        response = client.get("/health/ready/")
    assert response.status_code == 503
    assert "expires in 19 days" in response.json()["checks"]["SigningKey"]


@pytest.mark.django_db
def test_readiness_answers_503_when_the_signing_key_cannot_be_read(client, tmp_path, signing_settings):
    with signing_settings(tmp_path):
        response = client.get("/health/ready/")
    assert response.status_code == 503
    check = response.json()["checks"]["SigningKey"]
    assert "signing key unusable" in check
    assert str(tmp_path) not in response.content.decode()


@pytest.mark.django_db
def test_readiness_answers_503_when_the_timestamp_authority_does_not_answer(client, settings):
    settings.DAMANE_TSA_URL = "http://127.0.0.1:9/tsa"
    settings.DAMANE_TSA_TIMEOUT_SECONDS = 2
    response = client.get("/health/ready/")
    assert response.status_code == 503
    assert "timestamp authority unreachable" in response.json()["checks"]["TimestampAuthority"]


@pytest.mark.django_db(transaction=True)
def test_liveness_stays_200_while_readiness_reports_the_database_down(client):
    saved = dict(connection.settings_dict)
    connection.close()
    connection.settings_dict.update(HOST="127.0.0.1", PORT="9")
    try:
        live = client.get("/health/live/")
        ready = client.get("/health/ready/")
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)
    assert live.status_code == 200 and live.json() == {"status": "ok"}
    assert ready.status_code == 503
    assert ready.json()["checks"]["Database"] != "ok"


# --- JSON logs with a request id, without personal data -------------------------------


@pytest.fixture
def json_log():
    """The production logging configuration, writing into a buffer the test reads."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    logging.config.dictConfig(logging_config(json=True, level="DEBUG"))
    buffer = io.StringIO()
    for handler in root.handlers:
        handler.setStream(buffer)
    yield buffer
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)


@pytest.mark.django_db
def test_logs_are_json_lines_with_a_request_id_and_never_a_cin_cnss_number_phone_or_code(json_log, settings):
    from accounts import sms
    from accounts.sms.backends.base import BaseSmsBackend, SmsBackendError
    from registry.models import Insured
    from tests.accounts.accounts_testkit import PASSWORD, last_code, register

    settings.SMS_BACKEND = "locmem"
    sms.outbox.clear()
    amina = Insured.objects.create(
        cnss_number="100234561",
        cin="BE123456",
        last_name="BENNANI",
        first_name="AMINA",
        birth_date=timezone.localdate() - timedelta(days=40 * 365),
        phone="+212612345601",
        registered_on=timezone.localdate() - timedelta(days=3000),
    )
    client = Client()
    register(client, amina, email="amina@example.ma")
    code = last_code()
    client.post("/register/activate/", {"code": "000000" if code != "000000" else "111111"})
    client.post("/register/activate/", {"code": code})
    Client().post("/login/", {"identifier": "100234561", "password": "not the password at all"})
    Client().post("/login/", {"identifier": "amina@example.ma", "password": PASSWORD})

    class Refusing(BaseSmsBackend):
        def send(self, *, to, body):
            raise SmsBackendError(f"The 'To' number {to} is not a valid phone number (CIN BE123456, code {code})")

    sms.send_sms(to=amina.phone, body=f"code {code}", purpose="login", backend=Refusing())
    # A 4xx logged by django.request carries the request (its full path and query string).
    assert Client().get("/no-such-page/", {"token": "secret-token"}).status_code == 404
    logging.getLogger("damane.test").error("registration of %s / %s failed", "100234561", "BE123456")

    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    requests = [line for line in lines if line["logger"] == "damane.request"]
    assert len(requests) >= 5
    assert all(len(line["request_id"] or "") == 32 for line in requests), requests
    assert {line["route"] for line in requests} >= {"register/", "register/activate/", "login/"}
    text = json_log.getvalue()
    for secret in ("100234561", "BE123456", "+212612345601", "612345601", code, "amina@example.ma", "secret-token"):
        assert secret not in text, secret
    assert "[redacted]" in text


def test_the_redaction_leaves_ordinary_log_text_alone():
    text = "GET certificates/c/<str:public_id>/ 200 in 12.5 ms, SMS 42 (activation) sent, provider id SM0a1b"
    assert redact(text) == text


@pytest.mark.django_db
def test_a_request_id_from_the_proxy_is_kept_and_returned(client):
    request_id = "5f0c3a1e9d2b4c7a8e6f1b2c3d4e5f60"
    response = client.get("/health/live/", headers={"x-request-id": request_id})
    assert response["X-Request-ID"] == request_id


# --- Metrics ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_metrics_need_the_token_in_production_and_count_sms_outcomes(client, settings):
    from accounts import codes
    from accounts.models import OneTimeCode, User

    settings.DEBUG = False
    settings.DAMANE_METRICS_TOKEN = "s3cret-metrics-token"
    settings.SMS_BACKEND = "locmem"
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"authorization": "Bearer wrong"}).status_code == 404

    def sent_count():
        page = client.get("/metrics", headers={"authorization": "Bearer s3cret-metrics-token"})
        assert page.status_code == 200
        for line in page.content.decode().splitlines():
            if line.startswith('damane_sms_sends_total{outcome="sent"}'):
                return float(line.split()[-1])
        return 0.0

    before = sent_count()
    user = User.objects.create_user(username="100234561", is_active=False)
    codes.code_send(user=user, purpose=OneTimeCode.Purpose.LOGIN, phone="+212612345601")
    assert sent_count() == before + 1


# --- Sentry ------------------------------------------------------------------------------


class _SentryStub(BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            import gzip

            body = gzip.decompress(body)
        elif encoding == "br":
            import brotli

            body = brotli.decompress(body)
        _SentryStub.received.append(body)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_errors_reach_sentry_when_a_dsn_is_set_without_personal_data():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SentryStub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _SentryStub.received.clear()
    script = (
        "import django; django.setup()\n"
        "import sentry_sdk\n"
        "assert sentry_sdk.get_client().is_active()\n"
        "try:\n"
        "    raise ValueError('no account for CNSS 100234561, CIN BE123456, phone +212612345601')\n"
        "except ValueError:\n"
        "    sentry_sdk.capture_exception()\n"
        "sentry_sdk.flush(5)\n"
    )
    try:
        env = production_env(SENTRY_DSN=f"http://publickey@127.0.0.1:{server.server_address[1]}/1")
        env["DJANGO_SETTINGS_MODULE"] = "damane.settings"
        result = subprocess.run(
            [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
    finally:
        server.shutdown()
    assert result.returncode == 0, result.stderr
    envelope = b"".join(_SentryStub.received).decode()
    assert "ValueError" in envelope
    for secret in ("100234561", "BE123456", "+212612345601"):
        assert secret not in envelope
    assert "[redacted]" in envelope


def test_without_a_dsn_sentry_stays_off():
    script = "import django; django.setup()\nimport sentry_sdk\nprint(sentry_sdk.get_client().is_active())\n"
    env = production_env()
    env["DJANGO_SETTINGS_MODULE"] = "damane.settings"
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr
