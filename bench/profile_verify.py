"""Where the CPU of one verify-API look-up goes, in-process (issue 23, item 6).

    .venv/bin/python bench/profile_verify.py [-n 2000] [--pyinstrument]

The database bench_verify.py builds (``--database-url``, by default its own;
``--prepare`` builds it here), the shipped production settings (DEBUG off,
psycopg pool, Redis rate limits with the limit raised), and Django's test client
in this process, so the CPU a request costs is measured with
``time.process_time`` (CPU, not the machine's load) for the floor
(``/health/live/``) and for ``/api/v1/verify?code=…``. With ``--pyinstrument``
(``pip install pyinstrument``: a profiling aid, not a dependency) the look-ups
run again under pyinstrument and its call tree is printed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import stack


def cpu_per_request(client, url: str, n: int) -> tuple[float, float]:
    """Microseconds of CPU per request in user space and in the kernel (the round trips'
    system calls), from the round of ``n`` with the least of both, of three."""
    best = (float("inf"), float("inf"))
    for _ in range(3):
        start = os.times()
        for _ in range(n):
            response = client.get(url)
        end = os.times()
        spent = ((end.user - start.user) / n * 1e6, (end.system - start.system) / n * 1e6)
        best = min(best, spent, key=sum)
        assert response.status_code == 200, response.content
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/damane_bench_verify")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/4"))
    parser.add_argument("--prepare", action="store_true", help="drop, migrate and seed the database first")
    parser.add_argument("-n", type=int, default=2000, help="requests per round")
    parser.add_argument("--pyinstrument", action="store_true", help="print pyinstrument's call tree of the look-ups")
    parser.add_argument("--cprofile", type=int, default=0, metavar="N", help="print cProfile's N costliest (CPU time)")
    parser.add_argument("--profiled", choices=("verify", "floor"), default="verify", help="what the profilers run")
    args = parser.parse_args()

    var = stack.temp_var_dir()
    if args.prepare:
        stack.prepare_database(args.database_url, args.redis_url, var.name)
    os.environ.update(
        stack.production_env(args.database_url, args.redis_url, var.name, DAMANE_VERIFY_LOOKUPS_PER_MINUTE="100000000")
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "damane.settings")
    os.chdir(stack.ROOT)
    sys.path.insert(0, str(stack.ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    from certificates.models import Certificate

    call_command("init_signing", verbosity=0)
    certificate = Certificate.objects.filter(revoked_at__isnull=True, valid_until__gte=timezone.localdate()).first()
    if certificate is None:
        from certificates.services import certificate_issue
        from registry.models import Insured

        insured = Insured.objects.get(cnss_number="100234561")
        certificate = certificate_issue(insured=insured, kind="declared_days", actor=None, locale="fr")
    client = Client(REMOTE_ADDR="192.0.2.1", HTTP_HOST="127.0.0.1")
    urls = {"floor": "/health/live/", "verify": f"/api/v1/verify?code={certificate.verification_code}"}
    for url in urls.values():  # warm-up: imports, the pool's connections, template and URL caches
        cpu_per_request(client, url, 50)
    cpu = {name: cpu_per_request(client, url, args.n) for name, url in urls.items()}
    print(f"CPU per request (best of 3 x {args.n}, os.times(): user + system):")
    for name, (user, system) in cpu.items():
        print(f"  {name:7s} {urls[name].split('?')[0]:16s} {user:6.0f} + {system:5.0f} = {user + system:6.0f} µs")
    print(f"  CPU ratio floor / verify: {sum(cpu['floor']) / sum(cpu['verify']):.2f}")
    if args.pyinstrument:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0002)
        with profiler:
            for _ in range(args.n):
                client.get(urls[args.profiled])
        print(profiler.output_text(unicode=True, color=False, show_all=False))
    if args.cprofile:
        import cProfile
        import pstats

        profile = cProfile.Profile(time.process_time)
        profile.enable()
        for _ in range(args.n):
            client.get(urls[args.profiled])
        profile.disable()
        if os.environ.get("PROFILE_DUMP"):
            profile.dump_stats(os.environ["PROFILE_DUMP"])
        pstats.Stats(profile).sort_stats("cumulative").print_stats(args.cprofile)
        pstats.Stats(profile).sort_stats("tottime").print_stats(args.cprofile)
    var.cleanup()


if __name__ == "__main__":
    main()
