"""Issuing a certificate through HTTP against its floor, in one run (issue 10, item 4).

    .venv/bin/python bench/bench_issuing.py [-n 1000] [--floor-every 5]

The floor: WeasyPrint renders bench/floor_certificate.html (a one-page bilingual
certificate with the same text, tables and a QR code of the same version, written
plainly) with one FontConfiguration reused across renders, and pyHanko signs it
(PAdES B-B, the same EC P-256 key), in this process.

The measure: ``POST /certificates/new/<kind>/`` by signed-in insured persons
(session, CSRF, the rules, the QR payload, render, sign, the transaction with
its audit entry) until the 302 to the new certificate, against gunicorn with
``docker/gunicorn.conf.py`` and the production settings (bench/stack.py), one
worker with the shipped 4 threads and no recycling (GUNICORN_MAX_REQUESTS=0),
so that one process does every issuance and its RSS after them is a real one.
Each request issues a new certificate: the earlier ones are revoked between
requests (an identical request the same day would return the stored one).

Floor renders are interleaved with the requests (one every ``--floor-every``)
so both see the same load on this shared machine. Results: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import base64
import io
import os
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
import stack

KINDS = ("declared_days", "affiliation")
REVOKE_ALL = (
    "UPDATE certificates_certificate SET revoked_at = now(), revocation_reason = 'bench' WHERE revoked_at IS NULL"
)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class Floor:
    """Render bench/floor_certificate.html and sign it, with what a bare script would reuse."""

    def __init__(self, signing_dir: str):
        import segno
        from pyhanko.sign import signers
        from weasyprint.text.fonts import FontConfiguration

        self.fonts = FontConfiguration()
        # A QR code of the same version as a certificate's (DMN2 payload and address: about 200 characters).
        qr = segno.make("http://127.0.0.1:8000/verify/" + "A" * 22 + "#DMN2." + "B" * 170, error="m")
        png = io.BytesIO()
        qr.save(png, kind="png", scale=1, border=0)
        uri = "data:image/png;base64," + base64.b64encode(png.getvalue()).decode("ascii")
        self.html = (Path(__file__).parent / "floor_certificate.html").read_text().replace("QR_DATA_URI", uri)
        signing = Path(signing_dir)
        self.signer = signers.SimpleSigner.load(
            str(signing / "signing-key.pem"),
            str(signing / "signing-cert.pem"),
            ca_chain_files=(str(signing / "root-ca.pem"),),
        )
        self.meta = signers.PdfSignatureMetadata(field_name="CNSS", md_algorithm="sha256")
        self.cpu_ms: list[float] = []

    def once(self) -> float:
        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
        from pyhanko.sign import signers
        from weasyprint import HTML

        started, cpu = time.perf_counter(), time.process_time()
        pdf = HTML(string=self.html).write_pdf(font_config=self.fonts)
        signed = signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)), self.meta, signer=self.signer)
        elapsed = (time.perf_counter() - started) * 1000
        self.cpu_ms.append((time.process_time() - cpu) * 1000)
        assert signed.getvalue().startswith(b"%PDF")
        return elapsed


def login(base: str, cnss: str) -> requests.Session:
    session = stack.http_session()
    page = session.get(f"{base}/login/")
    assert page.status_code == 200, (page.status_code, page.text[:500])
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = session.post(
        f"{base}/login/",
        data={"csrfmiddlewaretoken": token, "identifier": cnss, "password": stack.PASSWORD},
        headers={"Referer": f"{base}/login/", "X-Forwarded-For": f"10.1.{len(cnss) % 250}.{int(cnss) % 250}"},
        allow_redirects=False,
    )
    assert answer.status_code == 302, (answer.status_code, cnss, answer.text[:3000])
    return session


def issue(base: str, session: requests.Session, kind: str, forwarded: str) -> tuple[float, int]:
    url = f"{base}/certificates/new/{kind}/"
    token = session.cookies.get("csrftoken")
    started = time.perf_counter()
    answer = session.post(
        url,
        data={"csrfmiddlewaretoken": token},
        headers={"Referer": url, "X-Forwarded-For": forwarded},
        allow_redirects=False,
    )
    return (time.perf_counter() - started) * 1000, answer.status_code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/damane_bench_issuing")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/4"))
    parser.add_argument("-n", type=int, default=1000, help="issuances through HTTP (default 1000)")
    parser.add_argument("--floor-every", type=int, default=5, help="one floor render every N issuances")
    parser.add_argument("--people", type=int, default=40, help="signed-in insured persons taking turns")
    args = parser.parse_args()

    var = stack.temp_var_dir()
    accounts = stack.prepare_database(args.database_url, args.redis_url, var.name)
    env = stack.production_env(args.database_url, args.redis_url, var.name, GUNICORN_MAX_REQUESTS="0")
    floor = Floor(str(Path(var.name) / "signing"))
    for _ in range(3):
        floor.once()

    http, floors, failures, rss = [], [], 0, []
    log = Path(tempfile.gettempdir()) / "damane-bench-issuing-gunicorn.log"
    with (
        stack.gunicorn(env, workers=1, threads=4, log=log) as (base, server),
        psycopg.connect(args.database_url, autocommit=True) as db,
    ):
        people = [login(base, cnss) for cnss in accounts[: args.people]]
        # Each person's kinds: both, unless the rules refuse one (an identity under correction).
        kinds = []
        for n, person in enumerate(people):
            db.execute(REVOKE_ALL)
            allowed = [k for k in KINDS if issue(base, person, k, f"10.3.0.{n}")[1] == 302]
            kinds.append(allowed)
        (worker,) = stack.worker_pids(server.pid)
        load_before = stack.load_average()
        floor.cpu_ms.clear()
        worker_cpu_before = stack.cpu_seconds(worker)
        for i in range(args.n + 10):
            db.execute(REVOKE_ALL)
            person = i % len(people)
            kind = kinds[person][(i // len(people)) % len(kinds[person])]
            elapsed, status = issue(base, people[person], kind, f"10.2.{i % 200}.{i % 250}")
            if i < 10:  # warm-up: the first render loads fonts and keys
                if i == 9:
                    rss.append((0, stack.rss_mb(worker)))
                continue
            if status != 302:
                failures += 1
                continue
            http.append(elapsed)
            if i % args.floor_every == 0:
                floors.append(floor.once())
            if (i - 9) % 250 == 0:
                rss.append((i - 9, stack.rss_mb(worker)))
                print(
                    f"after {i - 9}: HTTP p50 {statistics.median(http):.0f} ms p95 {percentile(http, 95):.0f} ms, "
                    f"floor p50 {statistics.median(floors):.0f} ms, RSS {rss[-1][1]:.0f} MB, "
                    f"load {stack.load_average()}",
                    flush=True,
                )
        load_after = stack.load_average()
        worker_cpu_ms = (stack.cpu_seconds(worker) - worker_cpu_before) * 1000 / (args.n + 10)
        rss.append((args.n, stack.rss_mb(worker)))
        issued = db.execute("SELECT count(*) FROM certificates_certificate").fetchone()[0]
    var.cleanup()

    floor_p50 = statistics.median(floors)
    p50, p95 = statistics.median(http), percentile(http, 95)
    print(f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; load before {load_before}, after {load_after}")
    print(f"issuances through HTTP: {len(http)} timed, {failures} not 302; certificates in the database: {issued}")
    print(f"people: {len(people)}, of whom {sum(len(k) < len(KINDS) for k in kinds)} refused one kind by the rules")
    floor_p95 = percentile(floors, 95)
    print(f"floor (render + B-B sign, in-process): n={len(floors)} p50 {floor_p50:.0f} ms p95 {floor_p95:.0f} ms")
    print(f"HTTP issuing: p50 {p50:.0f} ms  p95 {p95:.0f} ms  max {max(http):.0f} ms")
    print(f"ratio p50 HTTP / floor: {p50 / floor_p50:.2f}")
    floor_cpu = statistics.median(floor.cpu_ms)
    print(f"CPU per issuance in the gunicorn worker (mean, whole request): {worker_cpu_ms:.0f} ms")
    print(f"CPU per floor render + sign (median): {floor_cpu:.0f} ms; ratio {worker_cpu_ms / floor_cpu:.2f}")
    print("worker RSS (MB) after N issuances: " + ", ".join(f"{n}: {mb:.0f}" for n, mb in rss))


if __name__ == "__main__":
    main()
