"""Load test: locust headless against gunicorn, PostgreSQL, Redis and a Celery worker (issue 10, item 5).

    .venv/bin/python bench/run_locust.py [--minutes 10] [--insured 54] [--verifiers 3]

Builds the stack of bench/stack.py (a database of its own with the demo
registry and one account per insured person; production settings; gunicorn
with the shipped docker/gunicorn.conf.py, i.e. 2 workers per core + 1 with 4
threads; one Celery worker on the Redis broker), issues certificates for the
verifiers to look up, then runs bench/locustfile.py headless. The default
numbers of users give 3x the expected national peak scaled to this machine
(docs/scaling.md, "Expected peak"). Locust's CSV files go to
bench/results/locust-<date>_*.csv; the load average is sampled every 30 s.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
import stack

ISSUE_FOR_VERIFIERS = """
from django.utils import timezone
from certificates.services import certificate_issue
from registry.models import Insured
for insured in Insured.objects.filter(account__isnull=False).order_by("id")[:{count}]:
    c = certificate_issue(insured=insured, kind="declared_days", actor=None, locale="fr", today=timezone.localdate())
    print("CERT", c.public_id, c.verification_code)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/damane_bench_locust")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/4"))
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--insured", type=int, default=54, help="insured users, one visit each 20 s")
    parser.add_argument("--verifiers", type=int, default=3, help="verifier users, one look-up each 2.2 s")
    parser.add_argument("--out", default=str(stack.ROOT / "bench" / "results"))
    args = parser.parse_args()

    var = stack.temp_var_dir()
    accounts = stack.prepare_database(args.database_url, args.redis_url, var.name)
    env = stack.production_env(args.database_url, args.redis_url, var.name)
    issued = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", ISSUE_FOR_VERIFIERS.format(count=60)],
        cwd=stack.ROOT, env=env, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    work = Path(tempfile.mkdtemp(prefix="damane-locust-"))
    (work / "accounts").write_text("\n".join(accounts))
    (work / "certificates").write_text("\n".join(line[5:] for line in issued.splitlines() if line.startswith("CERT ")))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H%M")
    prefix = out / f"locust-{stamp}"

    loads: list[str] = []
    done = threading.Event()

    def sample_load():
        while not done.wait(30):
            loads.append(stack.load_average())

    with (
        stack.gunicorn(env, workers=2 * os.cpu_count() + 1, threads=4, log=work / "gunicorn.log") as (base, server),
        stack.celery_worker(env, concurrency=1, log=work / "celery.log"),
        psycopg.connect(args.database_url, autocommit=True) as db,
    ):
        before = db.execute("SELECT count(*) FROM certificates_certificate").fetchone()[0]
        load_before = stack.load_average()
        threading.Thread(target=sample_load, daemon=True).start()
        users = args.insured + args.verifiers
        locust_env = {
            **os.environ,
            "DAMANE_LOCUST_ACCOUNTS": str(work / "accounts"),
            "DAMANE_LOCUST_CERTIFICATES": str(work / "certificates"),
            "DAMANE_LOCUST_INSURED_WEIGHT": str(args.insured),
            "DAMANE_LOCUST_VERIFIER_WEIGHT": str(args.verifiers),
        }
        started = time.monotonic()
        subprocess.run(
            [sys.executable, "-m", "locust", "-f", str(Path(__file__).parent / "locustfile.py"), "--headless",
             "--host", base, "-u", str(users), "-r", "5", "-t", f"{int(args.minutes * 60)}s",
             "--csv", str(prefix), "--only-summary", "--stop-timeout", "30"],
            env=locust_env, check=False,
        )  # fmt: skip
        elapsed = time.monotonic() - started
        done.set()
        after = db.execute("SELECT count(*) FROM certificates_certificate").fetchone()[0]
        rss = [f"{stack.rss_mb(pid):.0f}" for pid in stack.worker_pids(server.pid)]
    summary = [
        f"date: {stamp} UTC; {elapsed / 60:.1f} min; {args.insured} insured + {args.verifiers} verifier users",
        f"load average before: {load_before}; every 30 s: {' | '.join(loads)}",
        f"certificates issued during the run: {after - before}",
        f"gunicorn worker RSS at the end (MB): {', '.join(rss)}",
    ]
    (Path(f"{prefix}_summary.txt")).write_text("\n".join(summary) + "\n")
    print("\n".join(summary))
    var.cleanup()


if __name__ == "__main__":
    main()
