import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from casework.models import CaseKind
from casework.services import case_create
from tests.backoffice.conftest import PDF, make_staff, verified_login
from tests.factories import seed_personas
from treaties.conventions import ensure_conventions
from treaties.models import Convention
from treaties.services import PeriodInput


@pytest.fixture(autouse=True)
def _isolated(settings):
    """A cache namespace per test (rate limits), English messages."""
    caches = {alias: dict(config) for alias, config in settings.CACHES.items()}
    caches["default"]["KEY_PREFIX"] = f"test-treaties-{uuid.uuid4().hex}"
    settings.CACHES = caches
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"
    return settings.MEDIA_ROOT


@pytest.fixture
def as_staff(client):
    def login(user):
        return verified_login(client, user)

    return login


@pytest.fixture
def officer(db):
    return make_staff("traites.nadia", "treaty")


@pytest.fixture
def second_officer(db):
    return make_staff("traites.omar", "treaty")


@pytest.fixture
def agent(db):
    return make_staff("agent.casa", "agent")


@pytest.fixture
def supervisor(db):
    return make_staff("chef.casa", "agent", "supervisor")


@pytest.fixture
def hassan(db, today):
    return seed_personas("hassan", today=today)["hassan"]


@pytest.fixture
def hassan_account(django_user_model, hassan):
    return django_user_model.objects.create_user(
        username=hassan.cnss_number,
        password="pass phrase for hassan 2026",
        email="hassan.amrani@example.fr",
        insured=hassan,
        language="ar",
    )


@pytest.fixture
def treaty_case(hassan):
    return case_create(
        insured=hassan,
        kind=CaseKind.TREATY,
        details={"country": "FR", "foreign_number": "1640975123456", "periods": "03/1986 to 09/2003, Renault, Flins"},
    )


@pytest.fixture(autouse=True)
def _conventions(request):
    """The migration's conventions, also after a transactional test flushed them."""
    if "db" in request.fixturenames or "transactional_db" in request.fixturenames:
        ensure_conventions()


@pytest.fixture
def france(db):
    ensure_conventions()
    return Convention.objects.get(country="FR")


def document(name="releve-cnav.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def french_periods():
    from datetime import date

    return [
        PeriodInput("", date(1986, 3, 1), date(1995, 12, 31), "quarters", 39, "CNAV 1986-1995"),
        PeriodInput("", date(1996, 4, 1), date(2003, 9, 30), "quarters", 30, "CNAV 1996-2003"),
    ]
