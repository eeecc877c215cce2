"""The production stack on this machine, for benchmarks and the load test.

A database of its own (created from scratch, migrated, seeded with the demo
registry and declarations, one activated account per insured person), then
gunicorn with ``docker/gunicorn.conf.py`` and the shipped production settings
(DEBUG off, pooled connections, Redis rate limits) and, when asked, a Celery
worker on the Redis broker. Used by bench_verify.py, bench_issuing.py and
run_locust.py; nothing here is imported by the application.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench password 2026"
# Client addresses the load generator sends in X-Forwarded-For (one trusted proxy in front,
# as in production): per-address limits then apply per simulated person, not to the whole run.
TRUSTED_PROXY_COUNT = "1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def send_secure_cookies_over_http(session) -> None:
    """Make a requests session send the production settings' Secure cookies over plain HTTP.

    In production TLS ends at the proxy in front of gunicorn; here the client
    talks to gunicorn directly and would otherwise drop the session and CSRF
    cookies. requests merges its jar into a fresh one per request (default
    policy), so the header is written here.
    """
    prepare = session.prepare_request

    def prepare_request(request):
        prepared = prepare(request)
        cookies = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
        if cookies:
            prepared.headers["Cookie"] = cookies
        return prepared

    session.prepare_request = prepare_request


def http_session():
    import requests

    session = requests.Session()
    send_secure_cookies_over_http(session)
    return session


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def production_env(database_url: str, redis_url: str, var_dir: str, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST", "DATABASE_", "GUNICORN_"))}
    env.update(
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_LOG_LEVEL="WARNING",
        GUNICORN_LOG_LEVEL="warning",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        DAMANE_VAR_DIR=var_dir,
        DAMANE_SIGNING_DIR=str(Path(var_dir) / "signing"),
        # The benchmarks sign with throwaway development keys, on purpose: without this the
        # production settings refuse the development CA and readiness answers 503 (issue 18).
        DAMANE_DEV_SIGNING="true",
        DAMANE_TSA_URL="",
        DAMANE_TRUSTED_PROXY_COUNT=TRUSTED_PROXY_COUNT,
        SMS_BACKEND="twilio",
        TWILIO_ACCOUNT_SID="AC" + "0" * 32,
        TWILIO_AUTH_TOKEN=secrets.token_hex(16),
        TWILIO_FROM_NUMBER="+212522000000",
        **extra,
    )
    return env


ACCOUNTS = """
from django.contrib.auth.hashers import make_password
from django.utils import timezone
from accounts.models import User
from registry.models import Insured
hashed = make_password({password!r})
now = timezone.now()
existing = set(User.objects.values_list("username", flat=True))
User.objects.bulk_create(
    User(username=i.cnss_number, insured=i, email=f"{{i.cnss_number}}@bench.invalid", password=hashed, activated_at=now)
    for i in Insured.objects.all() if i.cnss_number not in existing
)
print(User.objects.filter(insured__isnull=False).count())
"""


def prepare_database(database_url: str, redis_url: str, var_dir: str) -> list[str]:
    """Drop and recreate the database, migrate, seed the demo data, create accounts; the CNSS numbers."""
    name = database_url.rsplit("/", 1)[1]
    admin = database_url.rsplit("/", 1)[0] + "/postgres"
    subprocess.run(["psql", admin, "-q", "-c", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'], check=True)
    subprocess.run(["psql", admin, "-q", "-c", f'CREATE DATABASE "{name}"'], check=True)
    env = production_env(database_url, redis_url, var_dir, DATABASE_POOL="false")
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run([*manage, "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run([*manage, "init_signing"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    # The demo seed is a development command: DEBUG on for it alone, same database.
    subprocess.run(
        [*manage, "seed_demo", "--no-files"], cwd=ROOT, env={**env, "DJANGO_DEBUG": "true"}, check=True,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    subprocess.run(
        [*manage, "shell", "-c", ACCOUNTS.format(password=PASSWORD)], cwd=ROOT, env=env, check=True,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    out = subprocess.run(
        ["psql", database_url, "-At", "-c", "SELECT username FROM accounts_user WHERE insured_id IS NOT NULL"],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return out.stdout.split()


@contextlib.contextmanager
def gunicorn(env: dict, *, workers: int, threads: int, log: Path | None = None):
    """gunicorn with the shipped configuration; yields (base URL, the master process)."""
    port = free_port()
    out = log.open("wb") if log else subprocess.DEVNULL
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "docker/gunicorn.conf.py", "damane.wsgi:application"],
        cwd=ROOT,
        env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": str(workers),
             "GUNICORN_THREADS": str(threads)},
        stdout=out,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{base}/health/live/", timeout=2)
                break
            except OSError:
                if server.poll() is not None:
                    raise RuntimeError("gunicorn exited; see its log") from None
                time.sleep(0.2)
        yield base, server
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        if log:
            out.close()


@contextlib.contextmanager
def celery_worker(env: dict, *, concurrency: int = 1, log: Path | None = None):
    out = log.open("wb") if log else subprocess.DEVNULL
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "damane", "worker", "--loglevel", "WARNING",
         "--concurrency", str(concurrency), "--pool", "prefork"],
        cwd=ROOT, env={**env, "DATABASE_POOL": "false"}, stdout=out, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        yield worker
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
        if log:
            out.close()


def worker_pids(master_pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(master_pid)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/<pid>/stat), whatever the machine's load."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def temp_var_dir() -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory(prefix="damane-bench-var-")
