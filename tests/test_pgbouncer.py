"""The web paths through a real PgBouncer in transaction mode (issue 23, item 4; docs/scaling.md, "PgBouncer").

The module starts Debian's ``pgbouncer`` (tests/servers.py, ``throwaway_pgbouncer``)
in front of the test run's PostgreSQL, with two server connections for the test
database, and points Django's ``default`` connection at it, with the settings
``DATABASE_PGBOUNCER=true`` gives: no server-side cursors, and no prepared
statements (Django's psycopg default). The tests commit for real
(``transaction=True``) so that every statement goes through PgBouncer's
transaction pooling, as in production: logging in, asking for a certificate and
downloading it, the verify page and the API, and concurrent issuing (row locks
inside one transaction, whichever server connection it gets).
"""

from __future__ import annotations

import io
import shutil

import pytest
from django.core.management import call_command
from django.db import connections
from django.urls import reverse
from django.utils import timezone

from certificates.models import Certificate
from certificates.services import certificate_issue
from tests.factories import seed_personas
from tests.servers import throwaway_pgbouncer
from tests.threads import run_in_threads

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PASSWORD = "ciel bleu sur la corniche"


@pytest.fixture(scope="module")
def pgbouncer(django_db_setup):
    if connections["default"].vendor != "postgresql":
        pytest.skip("PgBouncer needs PostgreSQL")
    if not shutil.which("pgbouncer") and not shutil.which("/usr/sbin/pgbouncer"):
        pytest.skip("pgbouncer is not installed (.ci/run installs it)")
    primary = connections["default"].settings_dict
    with throwaway_pgbouncer(
        host=primary["HOST"] or "127.0.0.1",
        port=int(primary["PORT"] or 5432),
        user=primary["USER"] or "postgres",
        password=primary["PASSWORD"] or "",
        pool_size=2,
    ) as server:
        yield server


@pytest.fixture(scope="module", autouse=True)
def through_pgbouncer(pgbouncer):
    """Django's default connection goes through PgBouncer for this module, as with DATABASE_PGBOUNCER=true."""
    conf = connections["default"].settings_dict
    saved = {key: conf.get(key) for key in ("HOST", "PORT", "DISABLE_SERVER_SIDE_CURSORS")}
    connections["default"].close()
    conf.update(HOST="127.0.0.1", PORT=str(pgbouncer.port), DISABLE_SERVER_SIDE_CURSORS=True)
    yield
    connections["default"].close()
    conf.update(saved)


def transactions_through(pgbouncer) -> int:
    database = connections["default"].settings_dict["NAME"]
    return sum(int(row["total_xact_count"]) for row in pgbouncer.admin("SHOW STATS") if row["database"] == database)


@pytest.fixture
def amina():
    return seed_personas("amina", today=timezone.localdate())["amina"]


def test_the_connection_is_pgbouncer_in_transaction_mode_without_prepared_statements(pgbouncer):
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT inet_server_port()")
        # PostgreSQL answers on its own port; the client connected to PgBouncer's.
        assert cursor.fetchone()[0] != pgbouncer.port
    assert connections["default"].settings_dict["PORT"] == str(pgbouncer.port)
    assert connections["default"].connection.prepare_threshold is None
    database = connections["default"].settings_dict["NAME"]
    [pool] = [row for row in pgbouncer.admin("SHOW POOLS") if row["database"] == database]
    assert pool["pool_mode"] == "transaction"


def test_log_in_ask_for_a_certificate_download_it_and_verify_it(client, amina, django_user_model, pgbouncer):
    django_user_model.objects.create_user(username=amina.cnss_number, password=PASSWORD, insured=amina)
    before = transactions_through(pgbouncer)
    login = client.post("/login/", {"identifier": amina.cnss_number, "password": PASSWORD})
    assert login.status_code == 302 and login["Location"] == "/me/"
    assert client.get("/me/").status_code == 200
    asked = client.post(reverse("certificates:request", args=["affiliation"]), {})
    certificate = Certificate.objects.get()
    assert asked.status_code == 302
    assert asked["Location"] == reverse("certificates:detail", args=[certificate.public_id]) + "?ready=1"
    pdf = client.get(reverse("certificates:download", args=[certificate.public_id]))
    assert pdf.content == bytes(certificate.file.data)
    client.post("/logout/")
    page = client.get(f"/verify/{certificate.public_id}")
    assert page.status_code == 200 and certificate.number in page.content.decode()
    api = client.get("/api/v1/verify", {"code": certificate.verification_code}).json()
    assert api["genuine"] is True and api["number"] == certificate.number
    # Each request's transactions went through PgBouncer.
    assert transactions_through(pgbouncer) - before >= 10


def test_repeated_look_ups_never_need_a_prepared_statement(client, amina):
    # psycopg prepares a statement run 5 times on one connection when allowed to; through
    # transaction pooling the next transaction may run on a server connection without it.
    certificate = certificate_issue(insured=amina, kind="employment")
    for _ in range(20):
        api = client.get("/api/v1/verify", {"code": certificate.verification_code}).json()
        assert api["genuine"] is True


def test_ten_concurrent_identical_requests_give_one_certificate_on_two_server_connections(amina):
    # Ten clients share the pool's two server connections: each transaction, with its row locks, keeps one to itself.
    results = run_in_threads(10, lambda: certificate_issue(insured=amina, kind="affiliation"))
    assert {type(r) for r in results} == {Certificate}, results
    assert len({r.pk for r in results}) == 1
    assert Certificate.objects.count() == 1


def test_e_bds_imports_run_through_pgbouncer_copy_and_staging_table_included(tmp_path):
    # The fast path COPYs into a session temporary table made inside the import's
    # transaction (declarations/bulk.py): on whichever server connection each file gets.
    from declarations.models import Declaration
    from tests.declarations.ebds_testkit import make_declaration, make_line, write

    paths = []
    for period, line in (
        ("202501", make_line("100000001", is_new=True, cin="J456789")),
        ("202502", make_line("100000001")),
        ("202503", make_line("100000001")),
    ):
        path = tmp_path / f"DS_1234567_{period}.txt"
        path.write_text(write(make_declaration(period, [line])), encoding="ascii", newline="")
        paths.append(str(path))
    out = io.StringIO()
    call_command("import_ebds", *paths, stdout=out, stderr=io.StringIO())
    assert sorted(Declaration.objects.values_list("period", flat=True)) == ["202501", "202502", "202503"]
