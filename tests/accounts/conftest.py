"""The cast for account tests, built with the ORM: a few insured persons, their
employers (one up to date, one a period behind, one in arrears) and a year of
declarations, relative to today.
"""

import uuid
from datetime import date

import pytest
from django.utils import timezone

from accounts import sms
from declarations.status import expected_period
from registry.models import Insured, PreviousCin
from tests.accounts.accounts_testkit import employ, last_code, make_employer, register


@pytest.fixture(autouse=True)
def _isolated_accounts(settings):
    """Locmem SMS, and a cache namespace of its own for every test.

    The Redis database is shared with other test runs, so clearing it is not an
    option: each test gets a fresh key prefix instead.
    """
    settings.SMS_BACKEND = "locmem"
    sms.outbox.clear()
    caches = {alias: dict(config) for alias, config in settings.CACHES.items()}
    if "redis" not in caches["default"]["BACKEND"].lower():
        caches["default"] = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    caches["default"]["KEY_PREFIX"] = f"test-accounts-{uuid.uuid4().hex}"
    settings.CACHES = caches
    settings.SITE_URL = "https://damane.example"
    # Assertions read the English msgids, whatever the catalogs say.
    settings.LANGUAGE_CODE = "en"
    yield
    sms.outbox.clear()


@pytest.fixture
def amina(db):
    """Up to date with one employer, one period behind with another (the demo persona, two jobs)."""
    insured = Insured.objects.create(
        cnss_number="100234561",
        cin="BE123456",
        last_name="BENNANI",
        first_name="AMINA",
        last_name_ar="بناني",
        first_name_ar="أمينة",
        birth_date=date(1984, 5, 14),
        sex="F",
        phone="+212612345601",
        registered_on=date(2011, 3, 1),
    )
    e = expected_period(timezone.localdate())
    employ(insured, make_employer("2345678", "MAROC DIGITAL SERVICES SA"), e - 20, e, salary=1_850_000)
    employ(insured, make_employer("4567890", "BATIMENTS DU SOUSS SARL"), e - 8, e - 1, days=13, salary=420_000)
    return insured


@pytest.fixture
def fatima(db):
    """Her employer stopped declaring three periods ago: in arrears."""
    insured = Insured.objects.create(
        cnss_number="100567894",
        cin="L345678",
        last_name="OUAZZANI",
        first_name="FATIMA ZAHRA",
        phone="+212612345604",
        registered_on=date(2015, 1, 1),
    )
    e = expected_period(timezone.localdate())
    employ(insured, make_employer("5678901", "TRANSPORTS RAPIDES DU NORD"), e - 36, e - 3, salary=470_000)
    return insured


@pytest.fixture
def salma(db):
    """Renewed her CIN: B345678 is the earlier one."""
    insured = Insured.objects.create(
        cnss_number="100789016",
        cin="BK654321",
        last_name="CHRAIBI",
        first_name="SALMA",
        phone="+212612345606",
        registered_on=date(2018, 1, 1),
    )
    PreviousCin.objects.create(insured=insured, cin="B345678", replaced_on=date(2024, 2, 1))
    return insured


@pytest.fixture
def nophone(db):
    return Insured.objects.create(
        cnss_number="100999991", cin="AB12345", last_name="IDRISSI", first_name="OMAR", registered_on=date(2019, 1, 1)
    )


@pytest.fixture
def active_amina(client, amina):
    """Amina, registered and activated through the pages; the client is logged in."""
    register(client, amina)
    response = client.post("/register/activate/", {"code": last_code()})
    assert response.status_code == 302
    amina.refresh_from_db()
    return amina.account


@pytest.fixture
def django_app_client():
    """A second browser, with its own session and client address."""
    from django.test import Client

    return Client(REMOTE_ADDR="10.1.2.3")


@pytest.fixture(scope="session")
def live_server(request):
    """pytest-django's live server, started while MEDIA_URL is a path.

    MEDIA_URL is None in this project (uploads are never served by URL), and the
    media handler of Django's live server cannot parse None; the path given here
    matches no page, so nothing is served from it either.
    """
    import os

    from django.test.utils import override_settings
    from pytest_django.live_server_helper import LiveServer

    addr = request.config.getvalue("liveserver") or os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS") or "localhost"
    with override_settings(MEDIA_URL="/__uploads-are-never-served-by-url__/"):
        server = LiveServer(addr)
    yield server
    server.stop()
