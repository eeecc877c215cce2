import re

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import User
from certificates.services import certificate_issue
from integrations import services
from tests.backoffice.conftest import make_staff, verified_login
from tests.factories import seed_personas


@pytest.fixture
def people(db):
    return seed_personas("amina", "fatima", today=timezone.localdate())


@pytest.fixture
def amina(people):
    return people["amina"]


def insured_client(insured) -> Client:
    user = User.objects.filter(insured=insured).first() or User.objects.create_user(
        username=insured.cnss_number, password="x" * 20, insured=insured
    )
    client = Client(headers={"accept-language": "en"})
    client.force_login(user, backend="accounts.backends.InsuredBackend")
    return client


@pytest.fixture
def as_amina(amina):
    return insured_client(amina)


@pytest.fixture
def supervisor(db):
    return make_staff("chef.integrations", "agent", "supervisor")


@pytest.fixture
def as_supervisor(supervisor):
    return verified_login(Client(headers={"accept-language": "en"}), supervisor)


@pytest.fixture
def as_agent(db):
    return verified_login(Client(headers={"accept-language": "en"}), make_staff("agent.integrations", "agent"))


@pytest.fixture
def bank(supervisor):
    return services.organisation_register(
        name="BANQUE EXEMPLE", kind="bank", contact_email="api@banque.example", actor=supervisor
    )


@pytest.fixture
def key(bank, supervisor):
    """(ApiKey, its plain text)."""
    return services.api_key_issue(
        organisation=bank, label="loans", valid_days=30, quota_per_minute=1000, quota_per_day=10000, actor=supervisor
    )


@pytest.fixture
def certificate(amina):
    return certificate_issue(insured=amina, kind="employment")


def bearer(plaintext: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {plaintext}"}


def without_csrf(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)


def current_employer(insured):
    return insured.employments.filter(end_date__isnull=True).select_related("employer").first().employer
