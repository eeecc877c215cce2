"""Page times at scale: the insured's dashboard and certificates page, the staff search.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/damane_scale .venv/bin/python manage.py seed_scale ...
    .venv/bin/python bench/bench_pages.py --database-url postgres://postgres@127.0.0.1:5432/damane_scale [-n 200]

Run it on a database filled by ``seed_scale`` (it adds one insured account and
one staff account, ``bench.*``, and leaves them). Each page is requested ``-n``
times through Django's test client, in-process (no HTTP server: the figure is
the application's and the database's). The floor, in the same run, is
``/health/live/``, which touches no database. Prints p50 and p95 per page, the
queries per request, and the EXPLAIN of each page's main query (index use).
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def percentile(samples, fraction):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("-n", type=int, default=200)
    args = parser.parse_args()

    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DAMANE_VAR_DIR", tempfile.mkdtemp(prefix="damane-bench-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "damane.settings")
    import django

    django.setup()
    from django.contrib.auth.models import Group
    from django.db import connection
    from django.test import Client
    from django.utils import timezone
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.models import User
    from declarations.management.commands.seed_scale import FIRST_CNSS_NUMBER
    from registry.models import Insured

    counts = {"insured": Insured.objects.count()}
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM declarations_declarationline")
        counts["lines"] = cursor.fetchone()[0]
        cursor.execute("SELECT pg_database_size(current_database())")
        counts["size"] = cursor.fetchone()[0]
    # Someone in the middle of the registry.
    person = Insured.objects.get(cnss_number=f"{FIRST_CNSS_NUMBER + counts['insured'] // 2:09d}")
    insured_user = User.objects.filter(insured=person).first() or User.objects.create_user(
        username=person.cnss_number, password="bench bench bench", insured=person, activated_at=timezone.now()
    )
    staff = User.objects.filter(username="bench.agent").first()
    if staff is None:
        staff = User.objects.create_user(username="bench.agent", password="bench bench bench", is_staff=True)
        staff.groups.add(Group.objects.get_or_create(name="agent")[0])
        TOTPDevice.objects.create(user=staff, name="default", confirmed=True)

    insured_client = Client(headers={"accept-language": "fr"})
    insured_client.force_login(insured_user)
    staff_client = Client(headers={"accept-language": "fr"})
    staff_client.force_login(staff, backend="accounts.backends.StaffBackend")
    session = staff_client.session
    session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=staff).persistent_id
    session.save()

    pages = [
        ("floor: /health/live/", Client(), "/health/live/"),
        ("dashboard /me/", insured_client, "/me/"),
        ("certificates /certificates/", insured_client, "/certificates/"),
        ("staff search by CNSS number", staff_client, f"/staff/search/?q={person.cnss_number}"),
        ("staff search by CIN", staff_client, f"/staff/search/?q={person.cin}"),
        ("staff search by name prefix", staff_client, f"/staff/search/?q={person.last_name[:8]}"),
    ]
    print(
        f"PostgreSQL {connection.pg_version}; {counts['insured']:,} insured, {counts['lines']:,} declaration lines, "
        f"database {counts['size'] / 1e9:.2f} GB; {args.n} requests a page"
    )
    print()
    print("| page | p50 (ms) | p95 (ms) | queries |")
    print("|---|---:|---:|---:|")
    for label, client, url in pages:
        for _ in range(5):  # warm up
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
        queries = []
        with connection.execute_wrapper(
            lambda execute, sql, *rest, seen=queries: seen.append(sql) or execute(sql, *rest)
        ):
            client.get(url)
        samples = []
        for _ in range(args.n):
            started = time.perf_counter()
            client.get(url)
            samples.append((time.perf_counter() - started) * 1000)
        print(f"| {label} | {statistics.median(samples):.1f} | {percentile(samples, 0.95):.1f} | {len(queries)} |")

    print()
    explained = [
        (
            "the person's declaration lines (dashboard, certificates)",
            "SELECT period, days FROM declarations_declarationline WHERE insured_id = %s AND is_current",
            [person.pk],
        ),
        (
            "the person's employments",
            "SELECT * FROM registry_employment WHERE insured_id = %s",
            [person.pk],
        ),
        # The query the search runs: current or earlier CIN (Insured.objects.by_cin).
        (
            "staff search by CIN (current or earlier)",
            *Insured.objects.by_cin(person.cin)
            .order_by("last_name", "first_name", "pk")
            .values("pk")[:50]
            .query.sql_with_params(),
        ),
        (
            "staff search by name prefix",
            "SELECT id FROM registry_insured WHERE UPPER(last_name::text) LIKE UPPER(%s) "
            "ORDER BY last_name, first_name, id LIMIT 50",
            [person.last_name[:8] + "%"],
        ),
    ]
    with connection.cursor() as cursor:
        for label, sql, params in explained:
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            print(f"EXPLAIN, {label}:\n{plan}\n")


if __name__ == "__main__":
    main()
