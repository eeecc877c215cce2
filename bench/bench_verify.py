"""Verify API against a trivial JSON view, under the same gunicorn, in one run (issue 10, item 3).

    .venv/bin/python bench/bench_verify.py [--duration 10] [--connections 16] [--workers 2] [--reuse-database]

Builds a database of its own (bench/stack.py: migrated, demo data, one real
certificate issued through the service), starts gunicorn with
``docker/gunicorn.conf.py`` and the shipped production settings (DEBUG off,
psycopg pool, Redis rate limits), and runs ``wrk`` on, in turn and twice each
(ABAB, so a load change on the shared machine shows):

- the floor: ``GET /health/live/``, a JSON view that touches neither PostgreSQL nor Redis;
- ``GET /api/v1/verify?code=<the certificate's code>``: the whole API path
  (rate limit, one query, the JSON answer).

The rate limit stays on, raised so that the run is not refused: every look-up
still counts in Redis. Prints requests per second, the ratio, the queries a
look-up makes, and the load average. Results: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import stack

ISSUE_ONE = """
from django.utils import timezone
from certificates.services import certificate_issue
from registry.models import Insured
insured = Insured.objects.get(cnss_number="100234561")
c = certificate_issue(insured=insured, kind="declared_days", actor=None, locale="fr", today=timezone.localdate())
print(c.verification_code)
"""

QUERIES = """
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
client = Client(REMOTE_ADDR="192.0.2.1", HTTP_HOST="127.0.0.1")
client.get("/api/v1/verify", {{"code": {code!r}}})
with CaptureQueriesContext(connection) as queries:
    answer = client.get("/api/v1/verify", {{"code": {code!r}}})
assert answer.json()["genuine"], answer.content
print(len(queries))
"""


def wrk(url: str, *, duration: int, connections: int, threads: int) -> float:
    out = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s", "--latency", url],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non_2xx:
        raise RuntimeError(f"{url}: {non_2xx.group(1)} answers were not 200\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/damane_bench_verify")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/4"))
    parser.add_argument("--duration", type=int, default=10, help="seconds of each wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads per worker (shipped: 4)")
    parser.add_argument(
        "--reuse-database", action="store_true", help="use the database an earlier run built (new signing keys only)"
    )
    args = parser.parse_args()

    var = stack.temp_var_dir()
    env = stack.production_env(
        args.database_url, args.redis_url, var.name, DAMANE_VERIFY_LOOKUPS_PER_MINUTE="100000000"
    )
    if args.reuse_database:
        init = [sys.executable, "manage.py", "init_signing"]
        subprocess.run(init, cwd=stack.ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    else:
        stack.prepare_database(args.database_url, args.redis_url, var.name)
    manage = [sys.executable, "manage.py", "shell", "-c"]
    code = subprocess.run(
        [*manage, ISSUE_ONE], cwd=stack.ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout.split()[-1]
    queries = subprocess.run(
        [*manage, QUERIES.format(code=code)], cwd=stack.ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout.split()[-1]

    results = {"floor": [], "verify": []}
    with stack.gunicorn(env, workers=args.workers, threads=args.threads) as (base, _server):
        urls = {"floor": f"{base}/health/live/", "verify": f"{base}/api/v1/verify?code={code}"}
        answer = json.loads(urllib.request.urlopen(urls["verify"]).read())
        assert answer["genuine"] is True, answer
        for name in ("floor", "verify"):  # warm-up: imports, the pool's first connections
            wrk(urls[name], duration=2, connections=args.connections, threads=2)
        load_before = stack.load_average()
        for _ in range(2):
            for name in ("floor", "verify"):
                results[name].append(wrk(urls[name], duration=args.duration, connections=args.connections, threads=2))
        load_after = stack.load_average()
    var.cleanup()

    floor = sum(results["floor"]) / len(results["floor"])
    verify = sum(results["verify"]) / len(results["verify"])
    print(f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; load average before {load_before}, after {load_after}")
    print(f"gunicorn -w {args.workers} --threads {args.threads}; wrk -t2 -c{args.connections} -d{args.duration}s, ABAB")
    print(f"queries per look-up: {queries}")
    print(f"floor  /health/live/   req/s: {' '.join(f'{r:.0f}' for r in results['floor'])}  mean {floor:.0f}")
    print(f"verify /api/v1/verify  req/s: {' '.join(f'{r:.0f}' for r in results['verify'])}  mean {verify:.0f}")
    print(f"ratio verify / floor: {verify / floor:.2f}")


if __name__ == "__main__":
    main()
