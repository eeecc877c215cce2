"""The organisation's own console at /integrators/ (issue 26 item 6), tried as its contact would."""

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AuditEntry
from integrations import services
from integrations.console.services import account_create
from integrations.models import ApiKey
from integrations.webhooks.models import WebhookEndpoint
from tests.backoffice.conftest import current_token
from tests.integrations.conftest import insured_client

pytestmark = pytest.mark.django_db

PASSWORD = "a long console password 2026"


@pytest.fixture
def contact(bank):
    user, _device = account_create(
        organisation=bank, username="banque.api", email="api@banque.example", password=PASSWORD
    )
    return user


@pytest.fixture
def as_contact(contact):
    """The contact, logged in through both steps as a person would."""
    client = Client(headers={"accept-language": "en"})
    assert client.post("/integrators/login/", {"username": "banque.api", "password": PASSWORD}).status_code == 302
    response = client.post("/integrators/login/code/", {"token": current_token(contact)})
    assert response.status_code == 302 and response["Location"] == "/integrators/"
    return client


@pytest.fixture
def other_key(supervisor):
    other = services.organisation_register(
        name="AMBASSADE X", kind="embassy", contact_email="visa@amb.example", actor=supervisor
    )
    return services.api_key_issue(
        organisation=other, label="visas", valid_days=30, quota_per_minute=10, quota_per_day=100, actor=supervisor
    )[0]


def test_the_contact_logs_in_with_password_then_totp_and_sees_the_keys(contact, key, client):
    api_key, plaintext = key
    response = client.get("/integrators/")
    assert response.status_code == 302 and response["Location"].startswith("/integrators/login/")

    response = client.post("/integrators/login/", {"username": "banque.api", "password": "wrong password"})
    assert response.status_code == 400 and "not correct" in response.content.decode()
    response = client.post("/integrators/login/", {"username": "banque.api", "password": PASSWORD})
    assert response["Location"] == "/integrators/login/code/"
    # The password alone opens nothing.
    assert client.get("/integrators/").status_code == 302
    response = client.post(
        "/integrators/login/code/", {"token": "000000" if current_token(contact) != "000000" else "111111"}
    )
    assert response.status_code == 400 and "not valid" in response.content.decode()
    # django-otp then makes a device wait before its next try (1 s, doubling): a person's pace, not a test's.
    TOTPDevice.objects.filter(user=contact).update(throttling_failure_count=0, throttling_failure_timestamp=None)
    assert client.post("/integrators/login/code/", {"token": current_token(contact)}).status_code == 302

    page = client.get("/integrators/")
    html = page.content.decode()
    assert (page.status_code == 200 and "no-store" in page["Cache-Control"]) or "max-age=0" in page["Cache-Control"]
    assert "BANQUE EXEMPLE" in html and api_key.prefix in html and "loans" in html
    assert "1000/min · 10000/day" in html
    assert plaintext not in html
    # No way to issue a key or raise a quota here.
    assert "Issue the key" not in html and 'name="quota_per_day"' not in html


def test_a_staff_or_insured_account_cannot_use_the_console_nor_the_contact_the_back_office(
    as_contact, as_supervisor, amina, bank, supervisor
):
    assert as_supervisor.get("/integrators/").status_code == 404
    assert insured_client(amina).get("/integrators/").status_code == 404
    assert as_contact.get("/staff/integrators/").status_code == 404
    assert as_contact.get(f"/staff/integrators/{bank.pk}/").status_code == 404
    assert as_contact.get("/me/sharing/").status_code == 404
    # A staff member's password is not a console password.
    response = Client().post("/integrators/login/", {"username": supervisor.username, "password": "x" * 20})
    assert response.status_code == 400


def test_the_contact_rotates_a_key_sees_the_new_one_once_and_the_audit_names_them(as_contact, contact, key):
    api_key, _plaintext = key
    response = as_contact.post(f"/integrators/keys/{api_key.pk}/rotate/")
    assert response.status_code == 200
    new = ApiKey.objects.get(replaces=api_key)
    html = response.content.decode()
    shown = next(
        word for word in html.replace("<", " ").replace(">", " ").split() if word.startswith("dmn_") and "…" not in word
    )
    assert services.authenticate(shown) == new
    api_key.refresh_from_db()
    assert api_key.expires_at <= timezone.now() + timezone.timedelta(hours=24, minutes=1)
    assert AuditEntry.objects.filter(
        action="integrations.api_key.rotated", actor=contact, object_id=str(api_key.pk)
    ).exists()
    assert AuditEntry.objects.filter(
        action="integrations.api_key.issued", actor=contact, object_id=str(new.pk)
    ).exists()
    assert shown not in as_contact.get("/integrators/").content.decode()


def test_the_contact_revokes_a_key_with_a_reason(as_contact, contact, key):
    api_key, plaintext = key
    assert as_contact.post(f"/integrators/keys/{api_key.pk}/revoke/", {"reason": ""}).status_code == 400
    assert ApiKey.objects.get(pk=api_key.pk).revoked_at is None
    response = as_contact.post(f"/integrators/keys/{api_key.pk}/revoke/", {"reason": "leaked in a log"})
    assert response.status_code == 302
    assert services.authenticate(plaintext) is None
    entry = AuditEntry.objects.get(action="integrations.api_key.revoked", object_id=str(api_key.pk))
    assert entry.actor == contact and entry.reason == "leaked in a log"
    assert "revoked" in as_contact.get("/integrators/").content.decode()


def test_another_organisations_key_endpoint_and_delivery_are_404_and_unchanged(
    as_contact, other_key, supervisor, settings
):
    html = as_contact.get("/integrators/").content.decode()
    assert other_key.prefix not in html and "AMBASSADE" not in html
    assert as_contact.post(f"/integrators/keys/{other_key.pk}/rotate/").status_code == 404
    assert as_contact.post(f"/integrators/keys/{other_key.pk}/revoke/", {"reason": "x"}).status_code == 404
    other_key.refresh_from_db()
    assert other_key.revoked_at is None and other_key.replaced_by is None
    from integrations.webhooks.services import endpoint_register

    hook, _ = endpoint_register(
        organisation=other_key.organisation,
        url="https://hooks.amb.example/",
        events=["quota.threshold"],
        actor=supervisor,
    )
    assert as_contact.post(f"/integrators/webhooks/{hook.pk}/switch/").status_code == 404
    assert WebhookEndpoint.objects.get(pk=hook.pk).is_active
    assert not AuditEntry.objects.filter(actor__username="banque.api").exists()


def test_the_contact_adds_an_endpoint_sees_its_secret_once_and_http_is_refused(as_contact, contact):
    response = as_contact.post(
        "/integrators/webhooks/", {"url": "http://hooks.banque.example/", "events": ["quota.threshold"]}
    )
    assert response.status_code == 400 and "https://" in response.content.decode()
    for private in ("https://169.254.169.254/latest/meta-data/", "https://[::1]:8443/", "https://10.0.0.5/"):
        response = as_contact.post("/integrators/webhooks/", {"url": private, "events": ["quota.threshold"]})
        assert response.status_code == 400 and "private or reserved" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()
    response = as_contact.post(
        "/integrators/webhooks/", {"url": "https://hooks.banque.example/damane", "events": ["certificate.revoked"]}
    )
    hook = WebhookEndpoint.objects.get()
    assert response.status_code == 200 and hook.secret in response.content.decode()
    assert hook.secret not in as_contact.get("/integrators/").content.decode()
    assert AuditEntry.objects.filter(action="integrations.webhook.registered", actor=contact).exists()
    assert as_contact.post(f"/integrators/webhooks/{hook.pk}/switch/").status_code == 302
    assert not WebhookEndpoint.objects.get().is_active
    assert AuditEntry.objects.filter(action="integrations.webhook.disabled", actor=contact).exists()


def test_use_per_day_counts_the_certificates_found_with_the_organisations_keys(as_contact, key, certificate, client):
    _api_key, plaintext = key
    for _ in range(3):
        client.get(f"/api/v1/verify?code={certificate.verification_code}", HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    response = as_contact.get("/integrators/")
    usage = response.context["usage"]
    assert usage[0]["day"] == timezone.localdate() and usage[0]["certificates"] == 3
    assert response.context["keys"][0]["today"] == 3


@pytest.mark.parametrize("language, text", [("fr", "Console intégrateur"), ("ar", "وحدة تحكم المدمج")])
def test_the_console_is_translated(contact, language, text):
    client = Client(headers={"accept-language": language})
    assert text in client.get("/integrators/login/").content.decode()


def test_the_command_makes_a_console_account_that_can_log_in(bank, capsys):
    call_command("create_integrator_user", "banque exemple", "banque.ops")
    out = capsys.readouterr().out
    password = out.split("Password (shown once): ")[1].split()[0]
    assert "otpauth://totp/" in out
    client = Client()
    assert client.post("/integrators/login/", {"username": "banque.ops", "password": password}).status_code == 302
    assert AuditEntry.objects.filter(action="integrations.console_account.created").exists()


def test_the_contact_creates_a_sandbox_key_at_once_and_it_answers_only_from_the_fictitious_set(
    as_contact, contact, bank
):
    response = as_contact.post("/integrators/keys/sandbox/", {"label": "recette"})
    assert response.status_code == 200
    html = response.content.decode()
    shown = next(
        word
        for word in html.replace("<", " ").replace(">", " ").split()
        if word.startswith("dmn_test_") and "…" not in word
    )
    key = services.authenticate(shown)
    assert key is not None and key.organisation == bank and key.label == "recette"
    assert AuditEntry.objects.filter(
        action="integrations.api_key.sandbox_issued", actor=contact, object_id=str(key.pk)
    ).exists()
    # Shown once; the list names it by its prefix only.
    again = as_contact.get("/integrators/").content.decode()
    assert shown not in again and f"dmn_{key.prefix}_" in again
    # A look-up with it answers from the documented fictitious set (docs/integrators.md, "Sandbox").
    api = Client(headers={"authorization": f"Bearer {shown}"})
    answer = api.get("/api/v1/verify", {"code": "TEST-EMPS-GENU-2222-2222-2222"})
    assert answer.status_code == 200
    assert answer.json()["number"] == "AT-2026-99000001" and answer.json()["state"] == "valid"
