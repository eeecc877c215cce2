"""Persistent database connections: the verify API under gunicorn, production settings.

Starts gunicorn (docker/gunicorn.conf.py, one worker, one thread) twice on a
migrated PostgreSQL database: with ``DATABASE_CONN_MAX_AGE=0`` (a new connection
for every request, Django's default) and with the shipped default (persistent,
checked before reuse). Each run times sequential ``GET /api/v1/verify?code=…``
look-ups and, as the floor, ``GET /health/live/`` (no database), and reports the
medians and the ratio of each to its floor.

    .venv/bin/python bench/bench_connections.py --database-url postgres://postgres@127.0.0.1:5432/damane_bench -n 300

The database is migrated first (it may be empty otherwise). Results: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def timings(url: str, n: int) -> list[float]:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        with urllib.request.urlopen(url, timeout=10) as response:
            response.read()
            assert response.status == 200, response.status
        out.append((time.perf_counter() - started) * 1000)
    return out


def run(env: dict, n: int) -> dict:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "docker/gunicorn.conf.py", "damane.wsgi:application"],
        cwd=ROOT,
        env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": "1", "GUNICORN_THREADS": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"{base}/health/live/", timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        api = f"{base}/api/v1/verify?code=ABCD-EFGH-JKMN-PQRS-TUVW"
        timings(api, 20)  # warm-up: imports, first connection
        timings(f"{base}/health/live/", 20)
        floor = statistics.median(timings(f"{base}/health/live/", n))
        verify = statistics.median(timings(api, n))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    return {"floor_ms": floor, "verify_ms": verify, "ratio": verify / floor}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/9"))
    parser.add_argument("-n", type=int, default=300)
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
    env.update(
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_LOG_LEVEL="WARNING",
        DATABASE_URL=args.database_url,
        REDIS_URL=args.redis_url,
        DAMANE_VERIFY_LOOKUPS_PER_MINUTE="1000000",
        SMS_BACKEND="twilio",
        TWILIO_ACCOUNT_SID="AC" + "0" * 32,
        TWILIO_AUTH_TOKEN=secrets.token_hex(16),
        TWILIO_FROM_NUMBER="+212522000000",
    )
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    print(f"{'connections':<28} {'floor (ms)':>10} {'verify (ms)':>12} {'ratio':>7}")
    for label, extra in (("new per request (0 s)", {"DATABASE_CONN_MAX_AGE": "0"}), ("persistent (default)", {})):
        result = run({**env, **extra}, args.n)
        print(f"{label:<28} {result['floor_ms']:>10.2f} {result['verify_ms']:>12.2f} {result['ratio']:>7.2f}")


if __name__ == "__main__":
    main()
