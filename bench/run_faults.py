"""Load under faults: a node's peak with a Redis restart, a PostgreSQL restart, a SIGKILLed worker (issue 20).

    .venv/bin/python bench/run_faults.py [--minutes 10] [--insured 18] [--verifiers 1]

Builds the stack of bench/stack.py on a throwaway PostgreSQL and a throwaway
Redis (tests/servers.py; the shared servers are never touched): gunicorn with
the shipped configuration and production settings, one Celery worker
(concurrency 2) and beat. While bench/locustfile.py runs headless at one
node's share of the expected peak (docs/scaling.md; run_locust.py runs 3x
that), a generator queues background work the way the portal does (an SMS code
every 2 s, a notice e-mail every 2 s, an e-BDS upload every 15 s, each in its
own transaction, through the services), and the faults come at a quarter,
half and three quarters of the run:

1. Redis stops for 5 s and comes back empty (no persistence: queued broker
   messages are lost too, the outbox sweep must recover them);
2. PostgreSQL restarts (``pg_ctl stop -m fast``, then start);
3. the Celery worker and its pool processes are SIGKILLed; a new one starts at
   once, as the orchestrator would.

At the end the generator stops, the background work drains, and the script
reports: requests and errors from locust's CSV files (error rate, and any 5xx
other than 503), the time each fault took to recover (until /health/ready/
answers 200 again), and whether every queued SMS, e-mail and import was done
exactly once (one SMS file per sent message, one e-mail per sent row, one
stored file per imported job, nothing left queued or failed). The summary goes
to bench/results/faults-<date>_summary.txt; exit status 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import stack

from tests.servers import throwaway_postgres, throwaway_redis

ISSUE_FOR_VERIFIERS = """
from django.utils import timezone
from certificates.services import certificate_issue
from registry.models import Insured
for insured in Insured.objects.filter(account__isnull=False).order_by("id")[:{count}]:
    c = certificate_issue(insured=insured, kind="declared_days", actor=None, locale="fr", today=timezone.localdate())
    print("CERT", c.public_id, c.verification_code)
"""

# Queues background work through the services until the stop file appears; a
# write that fails (the database is restarting) is counted and tried again later.
GENERATOR = r"""
import os, random, sys, time
from datetime import date
from pathlib import Path
from django.db import close_old_connections
from accounts import codes, notifications
from accounts.models import OneTimeCode, User
from declarations.ebds import EbdsDeclaration, EbdsLine, write_ebds
from declarations.jobs import import_job_create
from declarations.periods import Period
from django.conf import settings

stop = Path(os.environ["DAMANE_FAULTS_STOP"])
users = list(User.objects.filter(insured__isnull=False).order_by("id")[:300])
staff = User.objects.filter(is_superuser=True).first()
queued = {"sms": 0, "email": 0, "import": 0, "refused": 0, "errors": 0}


def ebds(i):
    affiliation = f"{8000000 + i}"
    lines = [
        EbdsLine(cnss_number=f"8{i:04d}{j:04d}", name="FAULT TEST", days=26, real_salary=400_000, is_new=True,
                 cin=f"ZT{i * 10 + j:05d}")
        for j in range(20)
    ]
    declaration = EbdsDeclaration(
        affiliation_number=affiliation, period=Period.parse("202501"), lines=lines,
        employer_name="FAULT TEST SARL", activity="TEST", address="1 RUE", city="RABAT", postal_code="10000",
        agency_code="12", issued_on=date(2025, 2, 5), due_on=date(2025, 2, 10), transfer_id=f"{affiliation}0202501",
    )
    return write_ebds(declaration, ceiling=settings.DAMANE_SALARY_CEILING_CENTIMES)


step = 0
while not stop.exists():
    step += 1
    close_old_connections()
    try:
        user = random.choice(users)
        phone = f"+2126{random.randrange(10**8):08d}"
        try:
            codes.code_send(user=user, purpose=OneTimeCode.Purpose.LOGIN, phone=phone)
            queued["sms"] += 1
        except codes.SendRefused:
            queued["refused"] += 1
        notifications.send_notice(to=f"{user.username}@bench.invalid", template="password_changed", user=user)
        queued["email"] += 1
        if step % 8 == 0:
            import_job_create(name=f"DS_{step}.txt", text=ebds(step), correction=False, user=staff)
            queued["import"] += 1
    except Exception as exc:
        queued["errors"] += 1
        print("generator:", type(exc).__name__, str(exc)[:120], file=sys.stderr, flush=True)
        time.sleep(1)
    time.sleep(2)
print("QUEUED", queued, flush=True)
"""

CHECK = """
SELECT 'sms', status, count(*), coalesce(sum(attempts), 0) FROM accounts_smsmessage GROUP BY status
UNION ALL SELECT 'email', status, count(*), coalesce(sum(attempts), 0) FROM accounts_outboundemail GROUP BY status
UNION ALL SELECT 'import', state, count(*), 0 FROM declarations_ebdsimportjob GROUP BY state
"""


def ready(base: str) -> bool:
    try:
        return urllib.request.urlopen(f"{base}/health/ready/", timeout=2).status == 200
    except OSError:
        return False


def recovery(base: str, started: float) -> float:
    """Seconds from ``started`` until readiness answers 200 again (at most 120 s)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not ready(base):
        time.sleep(0.2)
    return time.monotonic() - started


def process_children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def start_worker(env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "damane", "worker", "--loglevel", "INFO", "--concurrency", "2",
         "--pool", "prefork", "--without-gossip", "--without-mingle"],
        cwd=stack.ROOT, env={**env, "DATABASE_POOL": "false"}, stdout=log.open("ab"), stderr=subprocess.STDOUT,
    )  # fmt: skip


def stop_process(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()


def locust_errors(prefix: Path) -> tuple[int, int, list[str]]:
    """(requests, failures, failure lines that are a 5xx other than 503) from locust's CSV files."""
    requests = failures = 0
    with open(f"{prefix}_stats.csv") as stats:
        for row in csv.DictReader(stats):
            if row["Name"] == "Aggregated":
                requests, failures = int(row["Request Count"]), int(row["Failure Count"])
    bad = []
    failures_csv = Path(f"{prefix}_failures.csv")
    if failures_csv.exists():
        with failures_csv.open() as rows:
            for row in csv.DictReader(rows):
                codes = re.findall(r"\b(5\d\d)\b", row["Error"])
                if any(code != "503" for code in codes):
                    bad.append(f"{row['Name']}: {row['Error']} x{row['Occurrences']}")
    return requests, failures, bad


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--insured", type=int, default=18, help="insured users, one visit each 20 s (a node's peak)")
    parser.add_argument("--verifiers", type=int, default=1, help="verifier users, one look-up each 2.2 s")
    parser.add_argument(
        "--drain-minutes", type=float, default=4, help="how long the background work may take to finish"
    )
    parser.add_argument("--out", default=str(stack.ROOT / "bench" / "results"))
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="damane-faults-"))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H%M")
    prefix = out / f"faults-{stamp}"
    summary: list[str] = []
    targets_met = True

    with ExitStack() as stack_:
        pg = stack_.enter_context(throwaway_postgres())
        redis = stack_.enter_context(throwaway_redis())
        database_url = pg.url.rsplit("/", 1)[0] + "/damane_faults"
        var = stack.temp_var_dir()
        accounts = stack.prepare_database(database_url, redis.url, var.name)
        env = {
            **stack.production_env(database_url, redis.url, var.name),
            # The provider and the mail server write files: each SMS and e-mail sent can be counted.
            "SMS_BACKEND": "file",
            "SMS_FILE_PATH": str(work / "sms"),
            "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(work / "mail"),
        }
        issued = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c", ISSUE_FOR_VERIFIERS.format(count=30)],
            cwd=stack.ROOT, env=env, check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
        (work / "accounts").write_text("\n".join(accounts))
        (work / "certificates").write_text(
            "\n".join(line[5:] for line in issued.splitlines() if line.startswith("CERT "))
        )
        subprocess.run(
            [sys.executable, "manage.py", "shell", "-c",
             "from accounts.models import User; User.objects.create_superuser('faults', 'f@bench.invalid', None)"],
            cwd=stack.ROOT, env=env, check=True,
        )  # fmt: skip

        base, _server = stack_.enter_context(
            stack.gunicorn(env, workers=2 * os.cpu_count() + 1, threads=4, log=work / "gunicorn.log")
        )
        workers = [start_worker(env, work / "celery.log")]
        beat = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "damane", "beat", "--loglevel", "INFO",
             "-s", str(work / "beat-schedule")],
            cwd=stack.ROOT, env={**env, "DATABASE_POOL": "false"},
            stdout=(work / "beat.log").open("wb"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        stop_file = work / "stop"
        generator = subprocess.Popen(
            [sys.executable, "manage.py", "shell", "-c", GENERATOR],
            cwd=stack.ROOT, env={**env, "DATABASE_POOL": "false", "DAMANE_FAULTS_STOP": str(stop_file)},
            stdout=subprocess.PIPE, stderr=(work / "generator.log").open("wb"), text=True,
        )  # fmt: skip

        duration = args.minutes * 60
        recoveries: dict[str, float] = {}

        def faults():
            time.sleep(duration * 0.25)
            started = time.monotonic()
            redis.stop()
            time.sleep(5)
            redis.start()
            recoveries["Redis stopped 5 s, restarted empty"] = recovery(base, started)
            time.sleep(max(duration * 0.25 - (time.monotonic() - started), 0))
            started = time.monotonic()
            pg.restart()
            recoveries["PostgreSQL restart (stop -m fast, start)"] = recovery(base, started)
            time.sleep(max(duration * 0.25 - (time.monotonic() - started), 0))
            doomed = workers[-1]
            for pid in [*process_children(doomed.pid), doomed.pid]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            doomed.wait()
            workers.append(start_worker(env, work / "celery.log"))
            recoveries["worker SIGKILL (a new one started at once)"] = 0.0

        fault_thread = threading.Thread(target=faults, daemon=True)
        load_before = stack.load_average()
        started = time.monotonic()
        fault_thread.start()
        locust_env = {
            **os.environ,
            "DAMANE_LOCUST_ACCOUNTS": str(work / "accounts"),
            "DAMANE_LOCUST_CERTIFICATES": str(work / "certificates"),
            "DAMANE_LOCUST_INSURED_WEIGHT": str(args.insured),
            "DAMANE_LOCUST_VERIFIER_WEIGHT": str(args.verifiers),
        }
        subprocess.run(
            [sys.executable, "-m", "locust", "-f", str(Path(__file__).parent / "locustfile.py"), "--headless",
             "--host", base, "-u", str(args.insured + args.verifiers), "-r", "5", "-t", f"{int(duration)}s",
             "--csv", str(prefix), "--only-summary", "--stop-timeout", "30"],
            env=locust_env, check=False,
        )  # fmt: skip
        elapsed = time.monotonic() - started
        fault_thread.join(timeout=180)
        stop_file.write_text("stop")
        generated = generator.communicate(timeout=120)[0]
        load_after = stack.load_average()

        # Drain: every queued row finished, or the time is up.
        drain_started = time.monotonic()
        pending = None
        with psycopg.connect(database_url, autocommit=True) as db:
            while time.monotonic() - drain_started < args.drain_minutes * 60:
                pending = db.execute(
                    "SELECT (SELECT count(*) FROM accounts_smsmessage WHERE status IN ('queued', 'sending'))"
                    " + (SELECT count(*) FROM accounts_outboundemail WHERE status IN ('queued', 'sending'))"
                    " + (SELECT count(*) FROM declarations_ebdsimportjob WHERE state IN ('queued', 'running'))"
                ).fetchone()[0]
                if not pending:
                    break
                time.sleep(2)
            drained_in = time.monotonic() - drain_started
            rows = db.execute(CHECK).fetchall()
            stored = db.execute(
                "SELECT count(*), count(DISTINCT ebds_file_id) FROM declarations_ebdsimportjob WHERE state = 'imported'"
            ).fetchone()
            audits = db.execute(
                "SELECT count(*) FROM audit_auditentry WHERE action = 'declarations.import_job.imported'"
            ).fetchone()[0]
        for process in [beat, *workers]:
            stop_process(process)
        var.cleanup()

    sms_files = len(list((work / "sms").glob("*.txt"))) if (work / "sms").exists() else 0
    mail_text = (
        "".join(p.read_text(errors="replace") for p in (work / "mail").glob("*.log"))
        if (work / "mail").exists()
        else ""
    )
    emails_sent_files = len(re.findall(r"^Message-ID:", mail_text, flags=re.M))
    counts = {(kind, state): (count, attempts) for kind, state, count, attempts in rows}
    sms_sent = counts.get(("sms", "sent"), (0, 0))[0]
    emails_sent = counts.get(("email", "sent"), (0, 0))[0]
    requests, failures, bad = locust_errors(prefix)
    rate = failures / requests * 100 if requests else 0.0

    summary += [
        f"date: {stamp} UTC; {elapsed / 60:.1f} min of load; {args.insured} insured + {args.verifiers} verifier users",
        f"load average before: {load_before}; after: {load_after}",
        f"requests: {requests}; errors: {failures} ({rate:.3f} %); 5xx other than 503: {len(bad)}",
        *[f"  {line}" for line in bad],
        *[
            f"recovery, {name}: {seconds:.1f} s until /health/ready/ answered 200"
            for name, seconds in recoveries.items()
        ],
        f"queued by the generator: {generated.strip()}",
        f"background work: {'drained' if not pending else f'{pending} rows NOT finished'}"
        f" {drained_in:.0f} s after the load",
        *[
            f"  {kind} {state}: {count} rows, {attempts} attempts"
            for (kind, state), (count, attempts) in sorted(counts.items())
        ],
        f"SMS files written: {sms_files} for {sms_sent} messages sent",
        f"e-mails written: {emails_sent_files} for {emails_sent} rows sent",
        f"imports: {stored[0]} jobs imported into {stored[1]} distinct files, {audits} 'imported' audit entries",
        f"logs: {work}",
    ]
    failed_rows = sum(count for (kind, state), (count, _) in counts.items() if state in ("failed", "queued", "sending"))
    targets_met = (
        rate < 0.1
        and not bad
        and not pending
        and not failed_rows
        and sms_files == sms_sent
        and emails_sent_files == emails_sent
        and stored[0] == stored[1] == audits
    )
    summary.append(
        f"targets (< 0.1 % errors, no 5xx but 503, all work done exactly once): {'met' if targets_met else 'MISSED'}"
    )
    Path(f"{prefix}_summary.txt").write_text("\n".join(summary) + "\n")
    print("\n".join(summary))
    return 0 if targets_met else 1


if __name__ == "__main__":
    sys.exit(main())
