"""Where the CPU of one issuance goes, in-process under cProfile (issue 10, item 4).

    .venv/bin/python bench/profile_issuing.py [-n 40] [--dump FILE]

The same database and production settings as bench_issuing.py (bench/stack.py),
but the requests go through Django's test client in this process, so cProfile
(timed with ``time.process_time``: CPU, not the machine's load) sees the whole
request. ``POST /certificates/new/<kind>/`` alternates the declared-days
statement and the affiliation certificate of a few insured persons; the earlier
certificates are revoked between requests, as in bench_issuing.py.

First without the profiler, whose overhead inflates Python-heavy code: the
main steps timed in place (``time.process_time`` around each). Then the same
loop under cProfile, for the detail. Both print the CPU per issuance split
into the render (WeasyPrint, with the QR code image), the QR seal (ES256), the
JSON snapshot, the signature (pyHanko) and inside it the visible stamp, the
signature-size estimate and certificate.json, and the rest of the request
(session, rules, queries, row, audit entry).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import stack

# (label, module path suffix, function name): cumulative CPU of each, per issuance.
PARTS = [
    ("render: render_certificate_pdf (template, WeasyPrint, PDF/A-3a)", "certificates/rendering.py", "_write_pdf"),
    ("  of which the QR code image (segno)", "certificates/rendering.py", "qr_png_data_uri"),
    ("  of which the template (Django)", "django/template/loader.py", "render_to_string"),
    ("QR seal (ES256 payload)", "certificates/qrpayload.py", "sign_qr_payload"),
    ("certificate.json bytes", "certificates/machine_readable.py", "certificate_json_bytes"),
    ("sign: sign_pdf (pyHanko, whole)", "certificates/signing.py", "sign_pdf"),
    ("  of which the stamp WeasyPrint render (cached per day)", "certificates/rendering.py", "render_signature_stamp"),
    ("  of which the stamp appearance (import into the PDF)", "signing.py", "render"),
    ("  of which the signature-size estimate (dummy CMS)", "pyhanko/sign/signers/pdf_signer.py",
     "estimate_signature_container_size"),
    ("  of which certificate.json embedded", "certificates/machine_readable.py", "embed_json"),
    ("  of which the CMS signatures (the dummy and the real one)", "pyhanko/sign/signers/pdf_cms.py", "async_sign"),
    ("  of which writing the incremental update", "pyhanko/pdf_utils/incremental_writer.py", "write"),
    ("certificate_store (all of the above + row, audit)", "certificates/services.py", "certificate_store"),
]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/damane_profile_issuing")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/5"))
    parser.add_argument("-n", type=int, default=40, help="profiled issuances (after 6 warm-up ones)")
    parser.add_argument("--people", type=int, default=10)
    parser.add_argument("--dump", help="write the raw cProfile statistics to this file")
    parser.add_argument("--top", type=int, default=0, help="also print the N functions with most own CPU")
    parser.add_argument(
        "--reuse", metavar="DIR", help="keep the database and its keys in DIR between runs (prepared when DIR is new)"
    )
    args = parser.parse_args()

    if args.reuse:
        var_dir = args.reuse
        if not Path(var_dir, "accounts.txt").exists():
            Path(var_dir).mkdir(parents=True, exist_ok=True)
            accounts = stack.prepare_database(args.database_url, args.redis_url, var_dir)
            Path(var_dir, "accounts.txt").write_text("\n".join(accounts))
        accounts = Path(var_dir, "accounts.txt").read_text().split()
    else:
        var = stack.temp_var_dir()
        var_dir = var.name
        accounts = stack.prepare_database(args.database_url, args.redis_url, var_dir)
    os.environ.update(stack.production_env(args.database_url, args.redis_url, var_dir, DATABASE_POOL="false"))
    os.environ.update(DJANGO_ALLOWED_HOSTS="testserver", DJANGO_SETTINGS_MODULE="damane.settings")
    os.chdir(stack.ROOT)
    sys.path.insert(0, str(stack.ROOT))
    import django

    django.setup()
    from django.test import Client

    from accounts.models import User
    from certificates.models import Certificate

    clients = []
    for cnss in accounts[: args.people]:
        client = Client(REMOTE_ADDR="10.4.0.1")
        client.force_login(User.objects.get(username=cnss))
        clients.append(client)

    def issue(i: int) -> int:
        Certificate.objects.filter(revoked_at__isnull=True).update(
            revoked_at=django.utils.timezone.now(), revocation_reason="bench"
        )
        kind = ("declared_days", "affiliation")[(i // len(clients)) % 2]
        return clients[i % len(clients)].post(f"/certificates/new/{kind}/").status_code

    for i in range(6):
        issue(i)

    # Timed in place: wrap the functions certificate_store calls.
    from certificates import rendering, services, signing

    spent: dict[str, float] = {}

    def timed(label, function):
        def wrapper(*args, **kwargs):
            started = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                spent[label] = spent.get(label, 0.0) + time.process_time() - started

        return wrapper

    shipped = {
        (services, "render_certificate_pdf"): "render (WeasyPrint, PDF/A-3a, with the QR image)",
        (rendering, "qr_png_data_uri"): "  of which the QR code image (segno)",
        (services, "sign_qr_payload"): "QR seal (ES256 payload)",
        (services, "certificate_json_bytes"): "certificate.json bytes",
        (services, "sign_pdf"): "sign (pyHanko: stamp, certificate.json, CMS, update)",
        (signing, "_stamp_reader"): "  of which the stamp PDF, parsed (cached per day)",
        (services, "certificate_store"): "certificate_store (the above, number, row, PDF row, audit)",
    }
    originals = {key: getattr(*key) for key in shipped if hasattr(*key)}
    for (module, name), function in originals.items():
        setattr(module, name, timed(shipped[(module, name)], function))
    started = time.process_time()
    for i in range(args.n):
        issue(i)
    whole = (time.process_time() - started) * 1000 / args.n
    for (module, name), function in originals.items():
        setattr(module, name, function)
    revoke_started = time.process_time()
    for _ in range(args.n):
        Certificate.objects.filter(revoked_at__isnull=True).update(revoked_at=django.utils.timezone.now(),
                                                                   revocation_reason="bench")  # fmt: skip
    revoke_ms = (time.process_time() - revoke_started) * 1000 / args.n
    print(f"load average {stack.load_average()}; {args.n} issuances timed in place (no profiler)")
    print("| part | CPU per issuance (ms) |")
    print("|---|---:|")
    for label in shipped.values():
        if label in spent:
            print(f"| {label} | {spent[label] * 1000 / args.n:.1f} |")
    request = whole - revoke_ms - spent[shipped[(services, "certificate_store")]] * 1000 / args.n
    print(f"| the request around certificate_store (test client, session, rules, queries) | {request:.1f} |")
    print(f"| whole request | {whole - revoke_ms:.1f} |")
    print()

    profiler = cProfile.Profile(time.process_time)
    statuses = []
    started = time.process_time()
    for i in range(args.n):
        profiler.enable()
        statuses.append(issue(i))
        profiler.disable()
    total_ms = (time.process_time() - started) * 1000 / args.n
    if args.dump:
        profiler.dump_stats(args.dump)
    stats = pstats.Stats(profiler).stats

    def cumulative(path_suffix: str, name: str) -> float:
        return sum(
            ct for (filename, _line, func), (_cc, _nc, _tt, ct, _callers) in stats.items()
            if func == name and filename.endswith(path_suffix)
        ) * 1000 / args.n  # fmt: skip

    revoke = cumulative("django/db/models/query.py", "update")
    print(f"load average {stack.load_average()}; {args.n} issuances, answers {sorted(set(statuses))}")
    print(f"CPU per issuance, whole loop under cProfile: {total_ms:.1f} ms (the benchmark's revoke: {revoke:.1f} ms)")
    print("| part | CPU per issuance (ms) |")
    print("|---|---:|")
    for label, suffix, name in PARTS:
        print(f"| {label} | {cumulative(suffix, name):.1f} |")
    if args.top:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(args.top)
    if not args.reuse:
        var.cleanup()


if __name__ == "__main__":
    main()
