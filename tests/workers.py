"""A real Celery worker process on the real Redis broker, for the tests that need one.

Each test gets its own queue name on the broker of REDIS_URL, so runs sharing one
Redis never take each other's tasks and nothing needs flushing. The worker uses
the test database (committed rows only: tests using it are ``transaction=True``)
and the file SMS backend, whose files the test reads like a phone would.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def database_url() -> str:
    db = connection.settings_dict
    user = db["USER"] or ""
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    def __init__(self, process: subprocess.Popen, log: Path, queue: str):
        self.process = process
        self.log = log
        self.queue = queue

    def children(self) -> list[int]:
        """Pool processes of the worker (prefork), from /proc."""
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:
                found.append(int(stat.parent.name))
        return found

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def kill(self) -> None:
        """SIGKILL the worker and its pool processes at once, as the kernel's OOM killer or a lost node would."""
        for pid in [*self.children(), self.process.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


@contextmanager
def celery_worker(
    tmp_path: Path,
    *,
    sms_backend: str = "file",
    env: dict | None = None,
    concurrency: int = 1,
    queue: str | None = None,
    app_module: str = "damane",
    beat: bool = False,
):
    """Start ``celery -A damane worker`` on a queue of its own; the test process publishes to it.

    ``queue`` reuses the queue of a worker that died; ``app_module`` loads a test
    application (``tests.worker_hooks``); ``beat`` embeds the beat scheduler
    (the outbox sweep, every ``DAMANE_OUTBOX_SWEEP_SECONDS``).
    """
    from damane.celery import app

    queue = queue or f"test-{uuid.uuid4().hex}"
    log = tmp_path / f"worker-{queue}-{uuid.uuid4().hex[:6]}.log"
    worker_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PYTEST")},
        "DJANGO_DEBUG": "true",
        "DJANGO_SECRET_KEY": settings.SECRET_KEY,
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        # Tasks the worker's own tasks queue (e-mails of a scheduled job) stay on its queue.
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "SMS_BACKEND": sms_backend,
        "SMS_FILE_PATH": str(settings.SMS_FILE_PATH),
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(tmp_path / "mail"),
        "PYTHONPATH": str(ROOT),
        **(env or {}),
    }
    command = [
        sys.executable, "-m", "celery", "-A", app_module, "worker", "-Q", queue, "--pool=prefork",
        f"--concurrency={concurrency}", "--without-gossip", "--without-mingle", "--without-heartbeat",
        "-n", f"{queue}-{uuid.uuid4().hex[:6]}@%h", "--loglevel=INFO",
    ]  # fmt: skip
    if beat:
        command += ["-B", "-s", str(tmp_path / f"beat-{uuid.uuid4().hex[:6]}")]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=worker_env, stdout=out, stderr=subprocess.STDOUT)
    worker = Worker(process, log, queue)
    eager, default_queue = app.conf.task_always_eager, app.conf.task_default_queue
    app.conf.task_always_eager = False
    app.conf.task_default_queue = queue
    try:
        wait_for(lambda: "ready." in worker.output() or process.poll() is not None, timeout=60)
        assert process.poll() is None, worker.output()
        yield worker
    finally:
        app.conf.task_always_eager, app.conf.task_default_queue = eager, default_queue
        worker.stop()


@contextmanager
def publishing_to(broker_url: str):
    """The test process's Celery application publishes to ``broker_url`` (a throwaway Redis) in the block."""
    from damane.celery import app

    saved = app.conf.broker_url
    app.conf.broker_url = broker_url
    app._after_fork()  # forget the pools of the previous broker
    try:
        yield
    finally:
        if app._pool is not None:
            app._pool.force_close_all()
        app.conf.broker_url = saved
        app._after_fork()


def wait_for(condition, *, timeout: float = 30, interval: float = 0.1):
    """Poll ``condition`` until it is true; return its value, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s")
        time.sleep(interval)


# --- SMS backends for worker processes (SMS_BACKEND=tests.workers.<Name>) -----------------
# They share their state with the test through files under DAMANE_TEST_SMS_STATE:
# "fail" holds how many sends still fail, "attempts" gets one line per send.

from accounts.sms.backends.base import SmsBackendError  # noqa: E402
from accounts.sms.backends.filebased import FileBackend  # noqa: E402


def _state() -> Path:
    return Path(os.environ["DAMANE_TEST_SMS_STATE"])


class UnreachableThenFileBackend(FileBackend):
    """The provider cannot be reached for the first ``fail`` sends (it certainly took nothing), then sends."""

    name = "file"

    def send(self, *, to, body):
        with (_state() / "attempts").open("a") as attempts:
            attempts.write(f"{time.time()}\n")
        left = int((_state() / "fail").read_text() or 0) if (_state() / "fail").exists() else 0
        if left > 0:
            (_state() / "fail").write_text(str(left - 1))
            raise SmsBackendError("connection refused")
        return super().send(to=to, body=body)


class HangingFileBackend(FileBackend):
    """Takes the message (writes the file), then never answers: the worker gets killed meanwhile."""

    name = "file"

    def send(self, *, to, body):
        message_id = super().send(to=to, body=body)
        (_state() / "pid").write_text(str(os.getpid()))
        (_state() / "handed-over").write_text(message_id)
        time.sleep(600)
        return message_id


def attempts(state: Path) -> int:
    path = state / "attempts"
    return len(path.read_text().splitlines()) if path.exists() else 0
