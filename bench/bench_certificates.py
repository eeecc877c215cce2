"""Certificates: how long rendering and signing one PDF takes, in one process.

    .venv/bin/python bench/bench_certificates.py [-n 30] [--no-write]

Measures, over the six sample certificates in turn: WeasyPrint rendering,
pyHanko PAdES B-B signing (EC P-256), and both with the QR payload, as an issue
request does them. The first call of each (fonts, keys, imports) is reported
apart. Results go to the "Certificates: render and sign" section of
docs/benchmarks.md unless --no-write.
"""

import argparse
import os
import platform
import resource
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## Certificates: render and sign"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=30, help="timed runs per measure (default 30)")
    parser.add_argument("--no-write", action="store_true", help="print only, leave docs/benchmarks.md alone")
    args = parser.parse_args()

    keys = tempfile.TemporaryDirectory(prefix="damane-bench-keys-")
    os.environ["DAMANE_SIGNING_DIR"] = keys.name
    os.environ["DAMANE_SIGNING_AUTO_CREATE"] = "true"
    os.environ["DAMANE_TSA_URL"] = ""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "damane.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from certificates.qrpayload import qr_claims, qr_url, sign_qr_payload
    from certificates.rendering import render_certificate_pdf
    from certificates.samples import all_samples
    from certificates.signing import sign_pdf

    samples = all_samples()

    def render(i: int) -> bytes:
        snapshot = samples[i % len(samples)]
        return render_certificate_pdf(snapshot, qr_payload_url=qr_url(snapshot.public_id, "DMN1.x"))

    unsigned: list[bytes] = []

    def sign(i: int) -> bytes:
        return sign_pdf(unsigned[i % len(unsigned)])

    def issue(i: int) -> bytes:
        snapshot = samples[i % len(samples)]
        token = sign_qr_payload(qr_claims(snapshot))
        return sign_pdf(render_certificate_pdf(snapshot, qr_payload_url=qr_url(snapshot.public_id, token)))

    rows = []
    for name, function in (
        ("render (WeasyPrint)", render),
        ("sign (pyHanko B-B)", sign),
        ("QR payload + render + sign", issue),
    ):
        if function is sign:
            unsigned.extend(render(j) for j in range(len(samples)))
        start = time.perf_counter()
        function(0)
        first = (time.perf_counter() - start) * 1000
        timings = []
        for i in range(args.n):
            start = time.perf_counter()
            function(i)
            timings.append((time.perf_counter() - start) * 1000)
        timings.sort()
        p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
        rows.append((name, first, statistics.median(timings), p95))
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    sizes = [len(issue(i)) for i in range(len(samples))]
    keys.cleanup()

    table = [
        SECTION,
        "",
        f"Command: `.venv/bin/python bench/bench_certificates.py -n {args.n}` (one process, the six sample "
        "certificates in turn; EC P-256 key; no timestamp authority).",
        "",
        f"Measured {date.today().isoformat()} on {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; shared machine, so treat as an order of magnitude.",
        "",
        "| step | first call (ms) | median (ms) | p95 (ms) |",
        "|---|---:|---:|---:|",
        *[f"| {name} | {first:.0f} | {median:.0f} | {p95:.0f} |" for name, first, median, p95 in rows],
        "",
        f"Peak process RSS: {rss_mb:.0f} MB. Signed PDF size: {min(sizes) // 1024}–{max(sizes) // 1024} KB.",
        "",
        "The first call loads fonts (one WeasyPrint FontConfiguration per process), the signing key and the "
        "pyHanko modules; later calls reuse them. A timestamp authority (B-T) adds one HTTP round trip per signature.",
        "",
    ]
    text = "\n".join(table)
    print(text)
    if not args.no_write:
        write_section(ROOT / "docs" / "benchmarks.md", text)


def write_section(path: Path, section: str) -> None:
    """Replace this benchmark's section, keeping the others in the file."""
    existing = path.read_text() if path.exists() else "# Benchmarks\n\n"
    if SECTION in existing:
        before, rest = existing.split(SECTION, 1)
        after = rest[rest.find("\n## ") + 1 :] if "\n## " in rest else ""
        existing = before + section + ("\n" + after if after else "")
    else:
        existing = existing.rstrip("\n") + "\n\n" + section
    path.write_text(existing)


if __name__ == "__main__":
    main()
