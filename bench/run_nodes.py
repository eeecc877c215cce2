"""Two web nodes behind HAProxy, one killed under load (issue 24, item 3).

    .venv/bin/python bench/run_nodes.py [--minutes 5] [--insured 36] [--verifiers 2]

Builds the stack of bench/stack.py as several machines would run it: a database
of its own on the PostgreSQL at --database-url (seeded with the demo registry,
one account per insured person), Redis (rate limits, lockouts, the broker),
moto's S3 server as the object store (tests/servers.py), the signing key in one
read-only place (as the mounted secret of production), then **two gunicorn
nodes, each with a var/ directory of its own** (DAMANE_VAR_DIR, and
PROMETHEUS_MULTIPROC_DIR inside it), one Celery worker with a third, and
Debian's HAProxy in front, health-checking /health/ready/ every second
(down after 3 failures, up after 2 successes, 5 s to answer; retries with
redispatch for requests that could not connect). bench/locustfile.py runs
headless against HAProxy at one node's peak (docs/scaling.md: 18 insured users
and one verifier, as bench/run_faults.py), first spread over both nodes, then,
half-way through, all on node A: node B is killed with SIGKILL (master and
workers: a machine lost, not a graceful stop). ``--insured 36 --verifiers 2``
puts each node at its peak before the kill.

Afterwards the script reports, and writes to bench/results/nodes-<date>_summary.txt:
requests and errors (locust's CSV), the errors before the kill, between the kill
and HAProxy marking B down (its stats), and after; every certificate issued before
the kill, each downloaded through HAProxy (so from node A) by its owner and checked
against the stored SHA-256; every certificate row with its signed PDF; and the
files each process wrote under its var/ directory (issue 24, item 2).
Exit status 1 if a target is missed (errors >= 0.5 %, an error more than 2 s
after B was marked down, a certificate missing or different).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import itertools
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from contextlib import ExitStack, suppress
from datetime import UTC, datetime
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import stack

from tests.servers import throwaway_s3

BUCKET = "damane-nodes"
# The load generator plays the TLS proxy in front of HAProxy, which appends its own
# X-Forwarded-For entry: two trusted hops, so each simulated person keeps its address.
TRUSTED_PROXIES = "2"

HAPROXY = """
global
    maxconn 4096
defaults
    mode http
    option forwardfor
    option redispatch
    retries 2
    # A node that dies with a request in flight closes without answering: a GET or HEAD is
    # sent again to another node; anything else (a login, an issuance) fails to the person,
    # who sends it again (issuing is idempotent: the same request the same day returns the
    # same certificate).
    retry-on conn-failure empty-response
    timeout connect 1s
    timeout client 60s
    timeout server 35s
    # A check answered within 5 s counts: a busy node is slow, not gone (a dead one
    # refuses the connection at once).
    timeout check 5s
frontend portal
    bind 127.0.0.1:{port}
    default_backend web
frontend stats
    bind 127.0.0.1:{stats_port}
    stats enable
    stats uri /stats
backend web
    balance leastconn
    http-request disable-l7-retry unless METH_GET
    option httpchk
    http-check send meth GET uri /health/ready/ hdr Host 127.0.0.1
    http-check expect status 200
    # A dead node refuses connections: each check fails at once, out after 3 (about 3 s).
    default-server inter 1s fall 3 rise 2
{servers}
"""

ISSUE_FOR_VERIFIERS = """
from django.utils import timezone
from certificates.services import certificate_issue
from registry.models import Insured
for insured in Insured.objects.filter(account__isnull=False).order_by("id")[:{count}]:
    c = certificate_issue(insured=insured, kind="declared_days", actor=None, locale="fr", today=timezone.localdate())
    print("CERT", c.public_id, c.verification_code)
"""

CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def haproxy_states(stats_url: str) -> dict[str, str]:
    """The status (UP, DOWN, ...) of each server of the web backend, from HAProxy's CSV stats."""
    text = urllib.request.urlopen(f"{stats_url};csv", timeout=2).read().decode()
    rows = csv.DictReader(line.lstrip("# ") if i == 0 else line for i, line in enumerate(text.splitlines()))
    return {row["svname"]: row["status"] for row in rows if row["pxname"] == "web" and row["svname"] in ("a", "b")}


def kill_node(master: subprocess.Popen) -> None:
    """SIGKILL gunicorn's workers and master at once: the machine is gone."""
    for pid in [*stack.worker_pids(master.pid), master.pid]:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def files_written(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def download_all(base: str, certificates: list[tuple[str, str, str]]) -> tuple[int, list[str]]:
    """Each owner logs in through the balancer and downloads each of their certificates; (checked, problems)."""
    owners: dict[str, list[tuple[str, str]]] = {}
    for username, public_id, sha256 in certificates:
        owners.setdefault(username, []).append((public_id, sha256))
    addresses = (f"10.250.{a}.{b}" for a, b in itertools.product(range(1, 250), range(1, 250)))
    checked, problems = 0, []
    for username, owned in owners.items():
        session = stack.http_session()
        session.headers["X-Forwarded-For"] = next(addresses)
        page = session.get(f"{base}/login/", timeout=30)
        token = CSRF_RE.search(page.text).group(1)
        login = session.post(
            f"{base}/login/", data={"csrfmiddlewaretoken": token, "identifier": username, "password": stack.PASSWORD},
            allow_redirects=False, timeout=30,
        )  # fmt: skip
        if login.status_code != 302:
            problems.append(f"{username}: login answered {login.status_code}")
            continue
        for public_id, sha256 in owned:
            answer = session.get(f"{base}/certificates/c/{public_id}/pdf/", timeout=30)
            if answer.status_code != 200:
                problems.append(f"{public_id}: {answer.status_code}")
            elif hashlib.sha256(answer.content).hexdigest() != sha256:
                problems.append(f"{public_id}: the PDF differs from the stored one")
            else:
                checked += 1
    return checked, problems


def failures_timeline(history: Path) -> list[tuple[float, int, int]]:
    """(unix time, requests so far, failures so far) of the aggregated row, each second."""
    rows = []
    with history.open() as handle:
        for row in csv.DictReader(handle):
            if row["Name"] == "Aggregated":
                rows.append((float(row["Timestamp"]), int(row["Total Request Count"]), int(row["Total Failure Count"])))
    return rows


def failures_between(timeline, start: float, end: float) -> int:
    before = max((f for t, _, f in timeline if t <= start), default=0)
    upto = max((f for t, _, f in timeline if t <= end), default=before)
    return upto - before


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/damane_bench_nodes")
    parser.add_argument("--redis-url", default=os.environ.get("DAMANE_NODES_REDIS_URL", "redis://127.0.0.1:6379/5"))
    parser.add_argument("--minutes", type=float, default=5)
    parser.add_argument("--insured", type=int, default=18, help="insured users in all, one visit each 20 s")
    parser.add_argument("--verifiers", type=int, default=1, help="verifier users in all, one look-up each 2.2 s")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers per node")
    parser.add_argument("--out", default=str(stack.ROOT / "bench" / "results"))
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="damane-nodes-"))
    shared = work / "shared"  # what production mounts or bakes into the image: keys, static files
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H%M")
    prefix = out / f"nodes-{stamp}"

    with ExitStack() as stack_:
        s3 = stack_.enter_context(throwaway_s3(log=work / "moto.log"))
        s3.create_bucket(BUCKET)
        accounts = stack.prepare_database(args.database_url, args.redis_url, str(shared))

        def node_env(name: str) -> tuple[dict, Path]:
            var = work / name
            (var / "prometheus").mkdir(parents=True)
            env = stack.production_env(args.database_url, args.redis_url, str(var), **s3.env(BUCKET))
            env.update(
                DAMANE_SIGNING_DIR=str(shared / "signing"),
                DJANGO_STATIC_ROOT=str(shared / "staticfiles"),
                DAMANE_TRUSTED_PROXY_COUNT=TRUSTED_PROXIES,
                PROMETHEUS_MULTIPROC_DIR=str(var / "prometheus"),
                TMPDIR=str(var / "tmp"),
            )
            (var / "tmp").mkdir()
            return env, var

        env_worker, var_worker = node_env("worker")
        issued = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", ISSUE_FOR_VERIFIERS.format(count=60)],
            cwd=stack.ROOT, env=env_worker, check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
        (work / "accounts").write_text("\n".join(accounts))
        (work / "certificates").write_text(
            "\n".join(line[5:] for line in issued.splitlines() if line.startswith("CERT "))
        )
        env_a, var_a = node_env("node-a")
        env_b, var_b = node_env("node-b")
        base_a, _ = stack_.enter_context(stack.gunicorn(env_a, workers=args.workers, threads=4, log=work / "a.log"))
        base_b, server_b = stack_.enter_context(
            stack.gunicorn(env_b, workers=args.workers, threads=4, log=work / "b.log")
        )
        stack_.enter_context(stack.celery_worker(env_worker, concurrency=1, log=work / "celery.log"))
        port, stats_port = stack.free_port(), stack.free_port()
        servers = "\n".join(
            f"    server {name} {base.removeprefix('http://')} check" for name, base in (("a", base_a), ("b", base_b))
        )
        (work / "haproxy.cfg").write_text(HAPROXY.format(port=port, stats_port=stats_port, servers=servers))
        haproxy = subprocess.Popen(
            ["haproxy", "-db", "-f", str(work / "haproxy.cfg")],
            stdout=(work / "haproxy.log").open("wb"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        stack_.callback(lambda: (haproxy.terminate(), haproxy.wait(timeout=10)))
        base = f"http://127.0.0.1:{port}"
        stats_url = f"http://127.0.0.1:{stats_port}/stats"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if set(haproxy_states(stats_url).values()) == {"UP"}:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        else:
            raise RuntimeError(f"HAProxy never saw both nodes ready: {haproxy_states(stats_url)}")

        db = stack_.enter_context(psycopg.connect(args.database_url, autocommit=True))
        before_run = db.execute("SELECT count(*) FROM certificates_certificate").fetchone()[0]
        load_before = stack.load_average()
        events: dict[str, float] = {}
        loads: list[str] = []
        done = threading.Event()

        def kill_in_the_middle():
            if done.wait(args.minutes * 60 / 2):
                return
            events["kill"] = time.time()
            kill_node(server_b)
            while not done.is_set():
                try:
                    if haproxy_states(stats_url).get("b", "").startswith("DOWN"):
                        events["down"] = time.time()
                        return
                except OSError:
                    pass
                time.sleep(0.1)

        def sample_load():
            while not done.wait(30):
                loads.append(stack.load_average())

        killer = threading.Thread(target=kill_in_the_middle, daemon=True)
        killer.start()
        threading.Thread(target=sample_load, daemon=True).start()
        locust_env = {
            **os.environ,
            "DAMANE_LOCUST_ACCOUNTS": str(work / "accounts"),
            "DAMANE_LOCUST_CERTIFICATES": str(work / "certificates"),
            "DAMANE_LOCUST_INSURED_WEIGHT": str(args.insured),
            "DAMANE_LOCUST_VERIFIER_WEIGHT": str(args.verifiers),
        }
        started = time.time()
        subprocess.run(
            [sys.executable, "-m", "locust", "-f", str(Path(__file__).parent / "locustfile.py"), "--headless",
             "--host", base, "-u", str(args.insured + args.verifiers), "-r", "5", "-t", f"{int(args.minutes * 60)}s",
             "--csv", str(prefix), "--csv-full-history", "--only-summary", "--stop-timeout", "30"],
            env=locust_env, check=False,
        )  # fmt: skip
        elapsed = time.time() - started
        done.set()
        killer.join(timeout=5)
        kill_at = events.get("kill", 0.0)
        # Certificates issued before the kill: each must come back whole through node A.
        rows = db.execute(
            "SELECT u.username, c.public_id, c.pdf_sha256 FROM certificates_certificate c "
            "JOIN accounts_user u ON u.insured_id = c.insured_id "
            "JOIN certificates_certificatefile f ON f.certificate_id = c.id "
            "WHERE c.issued_at < to_timestamp(%s)",
            [kill_at],
        ).fetchall()
        checked, problems = download_all(base, rows)
        totals = db.execute(
            "SELECT count(*), count(f.id) FROM certificates_certificate c "
            "LEFT JOIN certificates_certificatefile f ON f.certificate_id = c.id"
        ).fetchone()
        written = {name: files_written(var) for name, var in (("node A", var_a), ("node B", var_b),
                                                              ("worker", var_worker))}  # fmt: skip

    timeline = failures_timeline(Path(f"{prefix}_stats_history.csv"))
    requests_total = timeline[-1][1] if timeline else 0
    failures_total = timeline[-1][2] if timeline else 0
    down_at = events.get("down")
    errors_before = failures_between(timeline, 0, kill_at)
    errors_detecting = failures_between(timeline, kill_at, down_at or kill_at)
    # One second of slack: locust writes its history every second.
    errors_after = failures_between(timeline, (down_at or kill_at) + 2, time.time() + 60)
    rate = 100 * failures_total / requests_total if requests_total else 100.0
    summary = [
        f"date: {stamp} UTC; {elapsed / 60:.1f} min; {args.insured} insured + {args.verifiers} verifier users; "
        f"2 nodes x {args.workers} gunicorn workers x 4 threads, 1 Celery worker, HAProxy, moto S3",
        f"load average before: {load_before}; every 30 s: {' | '.join(loads)}",
        f"node B killed (SIGKILL) at +{kill_at - started:.0f} s; HAProxy marked it down "
        + (f"{down_at - kill_at:.1f} s later" if down_at else "never (!)"),
        f"requests: {requests_total}; errors: {failures_total} ({rate:.3f} %)",
        f"errors before the kill: {errors_before}; between the kill and 'down': {errors_detecting}; "
        f"more than 2 s after 'down': {errors_after}",
        f"certificates issued during the run: {totals[0] - before_run}; rows {totals[0]}, with their PDF {totals[1]}",
        f"certificates issued before the kill (60 before the run): {len(rows)}; downloaded through HAProxy (node A) "
        f"by their owners, identical to the stored SHA-256: {checked}; problems: {problems[:5]}",
    ]
    for name, files in written.items():
        kinds = sorted({f.split("/", 1)[0] for f in files})
        summary.append(f"files written under {name}'s var/: {len(files)} in {kinds}")
    (Path(f"{prefix}_summary.txt")).write_text("\n".join(summary) + "\n")
    print("\n".join(summary))
    ok = (
        rate < 0.5 and down_at is not None and errors_after == 0 and not problems
        and checked == len(rows) and totals[0] == totals[1]
    )  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
