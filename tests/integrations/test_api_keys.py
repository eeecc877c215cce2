"""Integrator organisations and API keys (issue 13 item 1, docs/security.md §25)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from audit.models import AuditEntry
from integrations import services, tokens
from integrations.models import ApiKey, IntegratorVerification, Organisation
from tests.integrations.conftest import bearer, insured_client

pytestmark = pytest.mark.django_db


def test_a_key_carries_at_least_128_random_bits_and_only_its_hash_is_stored(key):
    api_key, plaintext = key
    assert tokens.parse_api_key(plaintext) == api_key.prefix
    secret = plaintext[len("dmn_") + tokens.KEY_PREFIX_LENGTH + 1 :]
    assert len(secret) == 43 and len(secret) * 6 >= 256 > 128
    assert api_key.secret_sha256 == tokens.sha256(plaintext) != plaintext
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM integrations_apikey")
        stored = " ".join(str(value) for row in cursor.fetchall() for value in row)
    assert secret not in stored


def test_a_supervisor_registers_an_organisation_and_sees_its_key_once(as_supervisor, supervisor):
    response = as_supervisor.post(
        "/staff/integrators/", {"name": "BANQUE X", "kind": "bank", "contact_email": "it@banquex.example"}
    )
    organisation = Organisation.objects.get(name="BANQUE X")
    assert response.status_code == 302 and response["Location"] == f"/staff/integrators/{organisation.pk}/"
    assert AuditEntry.objects.filter(action="integrations.organisation.registered", actor=supervisor).count() == 1

    response = as_supervisor.post(
        f"/staff/integrators/{organisation.pk}/",
        {
            "label": "loan files",
            "valid_days": "90",
            "quota_per_minute": "100",
            "quota_per_day": "5000",
            "scopes": ["verify", "share", "batch"],
        },
    )
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0") or "no-store" in response["Cache-Control"]
    key = ApiKey.objects.get(organisation=organisation)
    shown = response.content.decode()
    plaintext = next(word for word in shown.replace("<", " ").replace(">", " ").split() if word.startswith("dmn_"))
    assert services.authenticate(plaintext) == key
    assert (key.quota_per_minute, key.quota_per_day) == (100, 5000)
    assert timedelta(days=89) < key.expires_at - timezone.now() <= timedelta(days=90)
    assert AuditEntry.objects.filter(action="integrations.api_key.issued", object_id=str(key.pk)).count() == 1
    # Shown once: the page seen again names the key by its prefix only.
    again = as_supervisor.get(f"/staff/integrators/{organisation.pk}/").content.decode()
    assert key.prefix in again and plaintext not in again


def test_a_duplicate_organisation_or_bad_quota_is_a_clear_error_that_changes_nothing(as_supervisor, bank):
    response = as_supervisor.post(
        "/staff/integrators/", {"name": "banque exemple", "kind": "bank", "contact_email": "x@example.ma"}
    )
    assert response.status_code == 400
    assert "already registered" in response.content.decode()
    assert Organisation.objects.count() == 1
    response = as_supervisor.post(
        f"/staff/integrators/{bank.pk}/",
        {"label": "x", "valid_days": "9999", "quota_per_minute": "0", "quota_per_day": "abc"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "At most 365." in html and "At least 1." in html and "Give a whole number." in html
    assert not ApiKey.objects.exists()


def test_agents_may_look_but_only_supervisors_write_and_the_insured_never_enter(as_agent, bank, amina):
    assert as_agent.get("/staff/integrators/").status_code == 200
    assert as_agent.get(f"/staff/integrators/{bank.pk}/").status_code == 200
    refused = as_agent.post(f"/staff/integrators/{bank.pk}/", {"label": "x", "valid_days": "1"})
    assert refused.status_code == 403 and not ApiKey.objects.exists()
    assert insured_client(amina).get("/staff/integrators/").status_code == 404


def test_a_key_verifies_beyond_the_per_address_limit_and_each_find_is_recorded(client, settings, key, certificate):
    settings.DAMANE_VERIFY_LOOKUPS_PER_MINUTE = 2
    api_key, plaintext = key
    for _ in range(5):
        response = client.get("/api/v1/verify", {"code": certificate.verification_code}, **bearer(plaintext))
        assert response.status_code == 200 and response.json()["genuine"] is True
    assert IntegratorVerification.objects.filter(api_key=api_key, certificate=certificate).count() == 5
    recorded = IntegratorVerification.objects.first()
    assert (recorded.organisation.name, recorded.insured_id) == ("BANQUE EXEMPLE", certificate.insured_id)
    api_key.refresh_from_db()
    assert api_key.last_used_at is not None
    # A code that finds nothing is recorded for nobody.
    assert client.post(
        "/api/v1/verify",
        {"code": "2222-2222-2222-2222-2222-2222"},
        content_type="application/json",
        **bearer(plaintext),
    ).json() == {"genuine": False}
    assert IntegratorVerification.objects.count() == 5


def test_anonymous_verification_is_unchanged(client, settings, certificate):
    settings.DAMANE_VERIFY_LOOKUPS_PER_MINUTE = 2
    for _ in range(2):
        assert client.get("/api/v1/verify", {"code": certificate.verification_code}).json()["genuine"] is True
    refused = client.get("/api/v1/verify", {"code": certificate.verification_code})
    assert refused.status_code == 429 and refused.json()["error"] == "rate_limited"
    assert not IntegratorVerification.objects.exists()


def test_the_quota_per_minute_is_per_key(client, settings, bank, supervisor, certificate):
    settings.DAMANE_VERIFY_LOOKUPS_PER_MINUTE = 1000
    _small, small = services.api_key_issue(
        organisation=bank, label="test", valid_days=1, quota_per_minute=3, quota_per_day=100, actor=supervisor
    )
    _other, other = services.api_key_issue(
        organisation=bank, label="other", valid_days=1, quota_per_minute=3, quota_per_day=100, actor=supervisor
    )
    params = {"code": certificate.verification_code}
    assert [client.get("/api/v1/verify", params, **bearer(small)).status_code for _ in range(4)] == [200, 200, 200, 429]
    refused = client.get("/api/v1/verify", params, **bearer(small))
    assert refused.json()["error"] == "quota_exceeded" and 1 <= int(refused["Retry-After"]) <= 60
    # The other key and anonymous callers have their own budgets.
    assert client.get("/api/v1/verify", params, **bearer(other)).status_code == 200
    assert client.get("/api/v1/verify", params).status_code == 200


def test_the_quota_per_day_holds_too(client, bank, supervisor, certificate):
    _key, plaintext = services.api_key_issue(
        organisation=bank, label="day", valid_days=1, quota_per_minute=100, quota_per_day=2, actor=supervisor
    )
    statuses = [
        client.get("/api/v1/verify", {"code": certificate.verification_code}, **bearer(plaintext)).status_code
        for _ in range(3)
    ]
    assert statuses == [200, 200, 429]


@pytest.mark.parametrize(
    "mangle",
    [
        lambda key: "",
        lambda key: "not-a-key",
        lambda key: key[:-1] + ("A" if key[-1] != "A" else "B"),
        lambda key: "dmn_aaaaaaaa_" + "A" * 43,
        lambda key: "Basic " + key,
    ],
    ids=["empty", "malformed", "wrong-secret", "unknown-prefix", "other-scheme"],
)
def test_a_bad_key_gets_one_answer_and_no_fallback_to_anonymous(client, key, certificate, mangle):
    header = mangle(key[1])
    value = header if header.startswith("Basic ") else f"Bearer {header}"
    response = client.get("/api/v1/verify", {"code": certificate.verification_code}, HTTP_AUTHORIZATION=value)
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_key", "detail": "unknown, expired or revoked API key"}
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert not IntegratorVerification.objects.exists()


def test_revoked_and_expired_keys_stop_at_once(client, key, supervisor, certificate):
    api_key, plaintext = key
    params = {"code": certificate.verification_code}
    assert client.get("/api/v1/verify", params, **bearer(plaintext)).status_code == 200
    services.api_key_revoke(key=api_key, actor=supervisor, reason="leaked in a log")
    assert client.get("/api/v1/verify", params, **bearer(plaintext)).status_code == 401
    assert AuditEntry.objects.get(action="integrations.api_key.revoked").reason == "leaked in a log"

    bank = api_key.organisation
    expiring, text = services.api_key_issue(
        organisation=bank, label="old", valid_days=1, quota_per_minute=10, quota_per_day=10, actor=supervisor
    )
    ApiKey.objects.filter(pk=expiring.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get("/api/v1/verify", params, **bearer(text)).status_code == 401


def test_a_suspended_organisation_s_keys_stop_and_come_back_when_reinstated(client, as_supervisor, key, certificate):
    api_key, plaintext = key
    params = {"code": certificate.verification_code}
    url = f"/staff/integrators/{api_key.organisation_id}/suspend/"
    as_supervisor.post(url, {"active": "0", "reason": ""})
    assert client.get("/api/v1/verify", params, **bearer(plaintext)).status_code == 200
    as_supervisor.post(url, {"active": "0", "reason": "contract suspended"})
    assert client.get("/api/v1/verify", params, **bearer(plaintext)).status_code == 401
    assert AuditEntry.objects.get(action="integrations.organisation.suspended").reason == "contract suspended"
    as_supervisor.post(url, {"active": "1", "reason": "contract renewed"})
    assert client.get("/api/v1/verify", params, **bearer(plaintext)).status_code == 200


def test_rotation_gives_a_new_key_and_the_old_one_lasts_only_the_grace_period(
    as_supervisor, client, settings, key, certificate
):
    api_key, old_text = key
    response = as_supervisor.post(f"/staff/integrators/keys/{api_key.pk}/rotate/")
    assert response.status_code == 200
    html = response.content.decode()
    new_text = next(word for word in html.replace("<", " ").replace(">", " ").split() if word.startswith("dmn_"))
    assert new_text != old_text
    api_key.refresh_from_db()
    new = api_key.replaced_by
    assert services.authenticate(new_text) == new
    assert (new.label, new.quota_per_minute, new.quota_per_day) == ("loans", 1000, 10000)
    grace = api_key.expires_at - timezone.now()
    assert timedelta(hours=23) < grace <= timedelta(hours=settings.DAMANE_API_KEY_ROTATION_GRACE_HOURS)
    params = {"code": certificate.verification_code}
    assert client.get("/api/v1/verify", params, **bearer(old_text)).status_code == 200
    # Past the grace period (time travel on the row), only the new key works.
    ApiKey.objects.filter(pk=api_key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get("/api/v1/verify", params, **bearer(old_text)).status_code == 401
    assert client.get("/api/v1/verify", params, **bearer(new_text)).status_code == 200
    # A rotated key cannot be rotated twice: the page again, with why.
    again = as_supervisor.post(f"/staff/integrators/keys/{api_key.pk}/rotate/")
    assert again.status_code == 400 and "Only an active key that was not rotated" in again.content.decode()
    assert ApiKey.objects.count() == 2


def test_a_suspended_organisation_gets_no_key_by_rotation_or_issue_and_the_page_offers_neither(
    as_supervisor, bank, key, supervisor
):
    api_key, _plaintext = key
    as_supervisor.post(f"/staff/integrators/{bank.pk}/suspend/", {"active": "0", "reason": "contract suspended"})
    entries = AuditEntry.objects.count()
    page = as_supervisor.get(f"/staff/integrators/{bank.pk}/").content.decode()
    assert f"/staff/integrators/keys/{api_key.pk}/rotate/" not in page and "Issue the key" not in page
    rotated = as_supervisor.post(f"/staff/integrators/keys/{api_key.pk}/rotate/")
    issued = as_supervisor.post(
        f"/staff/integrators/{bank.pk}/",
        {"label": "again", "valid_days": "30", "quota_per_minute": "10", "quota_per_day": "100", "scopes": ["verify"]},
    )
    for response in (rotated, issued):
        html = response.content.decode()
        assert response.status_code == 400 and "This organisation is suspended: it cannot get new keys." in html
        assert html.count("dmn_") == html.count(f"dmn_{api_key.prefix}_")  # no new key shown
    with pytest.raises(services.IntegrationError, match="suspended"):
        services.api_key_rotate(key=api_key, actor=supervisor)
    assert ApiKey.objects.count() == 1 and AuditEntry.objects.count() == entries
    api_key.refresh_from_db()
    assert api_key.replaced_by is None


def test_revoking_from_the_back_office_needs_a_reason(as_supervisor, key):
    api_key, _plaintext = key
    response = as_supervisor.post(f"/staff/integrators/keys/{api_key.pk}/revoke/", {"reason": ""})
    assert response.status_code == 400 and "Say why the key is revoked." in response.content.decode()
    api_key.refresh_from_db()
    assert api_key.revoked_at is None
    as_supervisor.post(f"/staff/integrators/keys/{api_key.pk}/revoke/", {"reason": "contract ended"})
    api_key.refresh_from_db()
    assert api_key.revoked_at is not None and api_key.revocation_reason == "contract ended"


def test_the_holder_sees_who_checked_their_certificate_on_the_dashboard(client, key, certificate, as_amina, people):
    client.get("/api/v1/verify", {"code": certificate.verification_code}, **bearer(key[1]))
    html = as_amina.get("/me/").content.decode()
    assert "<strong><bdi>BANQUE EXEMPLE</bdi></strong> checked your certificate" in html
    assert certificate.number in html
    # Another insured person sees nothing of it.
    assert "BANQUE EXEMPLE" not in insured_client(people["fatima"]).get("/me/").content.decode()


def test_the_openapi_document_describes_the_key(client):
    document = client.get("/api/v1/openapi.json").json()
    scheme = document["components"]["securitySchemes"]["integratorKey"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert document["paths"]["/api/v1/verify"]["get"]["security"] == [{}, {"integratorKey": []}]
    assert document["paths"]["/api/v1/share"]["post"]["security"] == [{"integratorKey": []}]
    assert "401" in document["paths"]["/api/v1/verify"]["post"]["responses"]
