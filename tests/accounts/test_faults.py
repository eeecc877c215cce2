"""Faults, each against a real service (issue 9, item 6).

Every server stopped or restarted here is a throwaway one on a free port
(tests/servers.py): the machine's shared PostgreSQL and Redis are never touched.
"""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.test import Client

from accounts.models import SmsMessage, User
from tests.accounts.accounts_testkit import PASSWORD, register
from tests.servers import free_port, throwaway_postgres, throwaway_redis
from tests.workers import attempts as sms_attempts
from tests.workers import celery_worker, wait_for

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.postgres


# --- Redis stops -----------------------------------------------------------------------------


@pytest.fixture
def own_redis(settings):
    """The cache (rate limits, lockouts) on a Redis server this test may stop."""
    with throwaway_redis() as server:
        caches = {alias: dict(config) for alias, config in settings.CACHES.items()}
        caches["default"] = {**caches["default"], "LOCATION": server.url}
        settings.CACHES = caches
        yield server


def timed(call):
    started = time.monotonic()
    response = call()
    return response, time.monotonic() - started


@pytest.mark.django_db
def test_when_redis_stops_login_registration_and_verification_answer_503_within_a_second_and_recover(
    own_redis, active_amina
):
    account = User.objects.get(pk=active_amina.pk)
    last_login = account.last_login
    own_redis.stop()
    client = Client()
    calls = {
        "login": lambda: client.post("/login/", {"identifier": "100234561", "password": PASSWORD}),
        "registration": lambda: client.post("/register/", {"cnss_number": "100234561", "cin": "BE123456"}),
        "verification": lambda: client.post("/verify/", {"code": "ABCD-EFGH-JKMN-PQRS"}),
        "verification API": lambda: client.get("/api/v1/verify", {"code": "ABCD-EFGH-JKMN-PQRS"}),
    }
    for name, call in calls.items():
        response, elapsed = timed(call)
        assert response.status_code == 503, name
        assert elapsed < 1.0, (name, elapsed)
        assert response["Retry-After"]
        assert "nothing was checked or recorded" in response.content.decode(), name
    # Failed closed: the right password did not log anyone in while limits could not be counted.
    assert User.objects.get(pk=account.pk).last_login == last_login
    assert "_auth_user_id" not in client.session

    own_redis.start()
    response = client.post("/login/", {"identifier": "100234561", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/api/v1/verify", {"code": "ABCD-EFGH-JKMN-PQRS"}).status_code == 200


# --- PostgreSQL restarts -----------------------------------------------------------------------


def production_server_env(database_url: str, **extra) -> dict:
    from tests.test_deployment import production_env

    env = production_env(**extra)
    env.update(DATABASE_URL=database_url, DJANGO_ALLOWED_HOSTS="127.0.0.1")
    return env


@pytest.mark.django_db
def test_after_a_postgresql_restart_the_running_app_recovers_without_a_restart_of_its_own(tmp_path):
    with throwaway_postgres() as postgres:
        url = postgres.url.rsplit("/", 1)[0] + "/postgres"
        env = production_server_env(url, DJANGO_SECURE_SSL_REDIRECT="false", DAMANE_VAR_DIR=str(tmp_path / "var"))
        migrate = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert migrate.returncode == 0, migrate.stdout + migrate.stderr
        port = free_port()
        log = (tmp_path / "gunicorn.log").open("wb")
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "docker/gunicorn.conf.py", "damane.wsgi:application"],
            cwd=ROOT,
            env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": "1", "GUNICORN_THREADS": "1"},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        api = f"http://127.0.0.1:{port}/api/v1/verify"

        def ask():
            return requests.get(api, params={"code": "ABCD-EFGH-JKMN-PQRS"}, timeout=10).status_code

        try:
            wait_for(lambda: _answers(ask), timeout=60)
            assert ask() == 200
            postgres.restart()
            statuses = [ask() for _ in range(3)]
            # The persistent connection died with the server: the health check
            # replaces it before the request uses it.
            assert statuses == [200, 200, 200], statuses
            assert server.poll() is None
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
            log.close()


def _answers(ask) -> bool:
    try:
        return ask() == 200
    except requests.ConnectionError:
        return False


# --- The SMS provider fails or times out; a worker is killed mid-task --------------------------


@pytest.fixture
def sms_state(tmp_path, settings):
    settings.SMS_FILE_PATH = tmp_path / "sms"
    state = tmp_path / "state"
    state.mkdir()
    return state


def sms_files(settings) -> list[str]:
    path = Path(settings.SMS_FILE_PATH)
    return [p.read_text() for p in sorted(path.glob("*.txt"))] if path.exists() else []


# Retries are scheduled in the message's row and sent by the outbox sweep (beat, in the worker).
WORKER_RETRIES = {
    "DAMANE_OUTBOX_SWEEP_SECONDS": "1",
    "DAMANE_TASK_RETRY_BACKOFF_SECONDS": "1",
    "DAMANE_TASK_RETRY_BACKOFF_MAX_SECONDS": "4",
    "DAMANE_TASK_MAX_RETRIES": "2",
}


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_provider_is_retried_with_backoff_and_the_sms_goes_once(amina, sms_state, settings, tmp_path):
    (sms_state / "fail").write_text("2")
    env = {**WORKER_RETRIES, "DAMANE_TEST_SMS_STATE": str(sms_state)}
    with celery_worker(tmp_path, sms_backend="tests.workers.UnreachableThenFileBackend", env=env, beat=True) as worker:
        assert register(Client(), amina).status_code == 302
        wait_for(lambda: SmsMessage.objects.filter(status=SmsMessage.Status.SENT).exists(), timeout=60)
        log = worker.output()
    assert sms_attempts(sms_state) == 3
    assert len(sms_files(settings)) == 1
    assert SmsMessage.objects.get().attempts == 3
    # Sent again by the sweep, not by a broker ETA.
    assert len(re.findall(r"requeue sweep: 1 task\(s\) of accounts.sms sent again", log)) >= 2
    assert "Retry in" not in log


@pytest.mark.django_db(transaction=True)
def test_when_every_retry_fails_the_person_sees_it_and_a_new_code_works(amina, sms_state, settings, tmp_path):
    (sms_state / "fail").write_text("3")
    env = {**WORKER_RETRIES, "DAMANE_TEST_SMS_STATE": str(sms_state)}
    client = Client()
    with celery_worker(tmp_path, sms_backend="tests.workers.UnreachableThenFileBackend", env=env, beat=True):
        assert register(client, amina).status_code == 302
        wait_for(lambda: SmsMessage.objects.filter(status=SmsMessage.Status.FAILED).exists(), timeout=60)
        assert sms_files(settings) == []
        assert "could not be sent" in client.get("/register/activate/").content.decode()
        # The provider is back; a failed send did not count against the number's limits.
        client.post("/register/activate/resend/")
        wait_for(lambda: SmsMessage.objects.filter(status=SmsMessage.Status.SENT).count() == 1, timeout=60)
    [text] = sms_files(settings)
    code = re.search(r"\b(\d{6})\b", text).group(1)
    assert client.post("/register/activate/", {"code": code}).status_code == 302


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_in_the_middle_of_a_send_runs_the_task_again_without_a_second_sms(
    amina, sms_state, settings, tmp_path
):
    # The sweep closes a message claimed longer than any provider takes (8 s here, 300 s in production).
    env = {"DAMANE_TEST_SMS_STATE": str(sms_state), "DAMANE_OUTBOX_STUCK_AFTER_SECONDS": "8"}
    env["DAMANE_OUTBOX_SWEEP_SECONDS"] = "1"
    with celery_worker(tmp_path, sms_backend="tests.workers.HangingFileBackend", env=env, beat=True) as worker:
        client = Client()
        assert register(client, amina).status_code == 302
        wait_for(lambda: (sms_state / "handed-over").exists(), timeout=60)
        assert SmsMessage.objects.get().status == SmsMessage.Status.SENDING
        child = int((sms_state / "pid").read_text())
        assert child in worker.children()
        os.kill(child, signal.SIGKILL)
        # The broker gives the task back at once (acks late, rejected on worker loss): the second
        # delivery cannot tell a dead attempt from a slow one, so it leaves the message alone...
        wait_for(lambda: "succeeded" in worker.output() and "'sending'" in worker.output(), timeout=30)
        # ...and the person is not told it failed while it may still be arriving.
        assert "could not be sent" not in client.get("/register/activate/").content.decode()
        # Once claimed longer than any provider takes, the sweep closes it, without a second SMS.
        wait_for(lambda: SmsMessage.objects.get().status == SmsMessage.Status.FAILED, timeout=30)
        log = worker.output()
    assert len(sms_files(settings)) == 1
    message = SmsMessage.objects.get()
    assert message.attempts == 1
    assert "delivery unknown" in message.error
    assert "WorkerLostError" in log
