"""Live share codes (issue 13 item 2, docs/security.md §25)."""

import math
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from audit.models import AuditEntry
from certificates.documents import VERIFICATION_ALPHABET
from integrations import services, tokens
from integrations.models import ShareCode, ShareCodeUse
from tests.integrations.conftest import bearer, current_employer, insured_client, without_csrf

pytestmark = pytest.mark.django_db

CODE_RE = re.compile(r"[2-9A-HJKMNP-Z]{5}-[2-9A-HJKMNP-Z]{5}-[2-9A-HJKMNP-Z]{5}")


def create(insured, **chosen):
    values = {"show_employment": False, "show_employer_status": False, "show_last_period": False, **chosen}
    return services.share_code_create(
        insured=insured,
        employer=current_employer(insured),
        recipient="Agence Immobilière Atlas",
        valid_days=30,
        actor=None,
        **values,
    )


def test_a_code_has_at_least_60_bits_and_only_its_keyed_hash_is_stored(amina):
    assert tokens.SHARE_CODE_LENGTH * math.log2(len(VERIFICATION_ALPHABET)) >= 60
    share, code = create(amina, show_employment=True)
    assert CODE_RE.fullmatch(code)
    assert share.code_digest == tokens.share_code_digest(code) != tokens.sha256(code)
    assert share.hint == code[-4:]
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM integrations_sharecode")
        stored = " ".join(str(value) for row in cursor.fetchall() for value in row)
    assert code not in stored and code.replace("-", "") not in stored


def test_the_insured_creates_a_code_and_sees_it_once(as_amina, amina):
    employer = current_employer(amina)
    response = as_amina.post(
        "/me/sharing/",
        {
            "recipient": "Banque Populaire",
            "employer": employer.pk,
            "show_employment": "on",
            "show_last_period": "on",
            "valid_days": "7",
        },
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    [code] = CODE_RE.findall(response.content.decode())
    share = ShareCode.objects.get(insured=amina)
    assert (
        share.recipient,
        share.employer,
        share.show_employment,
        share.show_employer_status,
        share.show_last_period,
    ) == (
        "Banque Populaire",
        employer,
        True,
        False,
        True,
    )
    assert timedelta(days=6, hours=23) < share.expires_at - timezone.now() <= timedelta(days=7)
    assert AuditEntry.objects.filter(action="integrations.share_code.created", insured=amina).count() == 1
    again = as_amina.get("/me/sharing/").content.decode()
    assert code not in again and "…" + share.hint in again and "Banque Populaire" in again


@pytest.mark.parametrize(
    "change, message",
    [
        ({"valid_days": "31"}, "At most 30."),
        ({"valid_days": "0"}, "At least 1."),
        ({"show_employment": ""}, "Choose at least one fact to share."),
        ({"recipient": ""}, "Say who the code is for."),
        ({"employer": "999999"}, "Choose one of your employers."),
        ({"recipient": "x" * 121}, "At most 120 characters."),
    ],
)
def test_bad_input_gets_a_clear_error_and_creates_nothing(as_amina, amina, change, message):
    data = {
        "recipient": "Ambassade",
        "employer": current_employer(amina).pk,
        "show_employment": "on",
        "valid_days": "30",
    }
    data.update(change)
    response = as_amina.post("/me/sharing/", {k: v for k, v in data.items() if v != ""})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ShareCode.objects.exists()


def test_the_service_refuses_an_employer_that_is_not_a_current_one(amina, people):
    with pytest.raises(services.IntegrationError):
        services.share_code_create(
            insured=amina,
            employer=current_employer(people["fatima"]),
            recipient="x",
            valid_days=3,
            show_employment=True,
            show_employer_status=False,
            show_last_period=False,
            actor=None,
        )
    assert not ShareCode.objects.exists()


def test_the_recipient_sees_only_the_chosen_facts_as_of_now(client, amina):
    share, code = create(amina, show_employment=True)
    employer = current_employer(amina)
    response = client.post("/share/", {"code": code.lower().replace("-", " ")})
    html = response.content.decode()
    assert response.status_code == 200
    assert f"Still employed by <strong>{employer.name}</strong>" in html
    assert "s declarations</dt>" not in html and "Last month declared" not in html
    assert ShareCodeUse.objects.get(share_code=share).channel == "page"
    # The employment ends after the code was made: the next check says so.
    amina.employments.filter(employer=employer).update(end_date=timezone.localdate())
    html = client.post("/share/", {"code": code}).content.decode()
    assert f"No longer employed by <strong>{employer.name}</strong>" in html
    assert ShareCodeUse.objects.filter(share_code=share).count() == 2


def test_status_and_last_period_show_when_chosen(client, amina):
    _share, code = create(amina, show_employer_status=True, show_last_period=True)
    html = client.post("/share/", {"code": code}).content.decode()
    assert "s declarations</dt>" in html and "Last month declared" in html
    assert "Still employed" not in html


def _not_found_page(client, code):
    response = client.post("/share/", {"code": code})
    return response.status_code, without_csrf(response.content.decode())


def test_unknown_malformed_expired_and_revoked_codes_get_one_identical_answer(client, amina):
    expired, expired_code = create(amina, show_employment=True)
    ShareCode.objects.filter(pk=expired.pk).update(
        created_at=timezone.now() - timedelta(days=31), expires_at=timezone.now() - timedelta(seconds=1)
    )
    revoked, revoked_code = create(amina, show_employment=True)
    services.share_code_revoke(insured=amina, share_id=revoked.pk, actor=None)
    answers = {
        _not_found_page(client, code) for code in (expired_code, revoked_code, "ABCDE-FGHJK-MNPQR", "not a code", "١٢٣")
    }
    assert len(answers) == 1
    [(status, html)] = answers
    assert status == 404 and "No share code matches" in html
    assert not ShareCodeUse.objects.exists()


def test_the_public_page_is_rate_limited_like_verification(client, settings):
    settings.DAMANE_VERIFY_LOOKUPS_PER_MINUTE = 3
    statuses = [client.post("/share/", {"code": "ABCDE-FGHJK-MNPQR"}).status_code for _ in range(4)]
    assert statuses == [404, 404, 404, 429]
    # One budget per address, shared with certificate verification.
    assert client.get("/api/v1/verify", {"code": "x"}).status_code == 429


def test_the_api_answers_with_a_key_and_records_which_organisation(client, amina, key):
    share, code = create(amina, show_employer_status=True, show_last_period=True)
    response = client.post("/api/v1/share", {"code": code}, content_type="application/json", **bearer(key[1]))
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    body = response.json()
    assert body["valid"] is True and body["recipient"] == "Agence Immobilière Atlas"
    assert set(body["facts"]) == {"employer_status", "last_declared_period"}
    assert body["facts"]["employer_status"]["state"] in {"up_to_date", "one_behind", "in_arrears"}
    assert re.fullmatch(r"\d{6}", body["facts"]["last_declared_period"])
    assert "cin" not in str(body).lower() and amina.cnss_number not in str(body)
    use = ShareCodeUse.objects.get(share_code=share)
    assert (use.channel, use.organisation) == ("api", key[0].organisation)
    # Without a key: refused, nothing recorded.
    anonymous = client.post("/api/v1/share", {"code": code}, content_type="application/json")
    assert anonymous.status_code == 401
    assert ShareCodeUse.objects.count() == 1
    # Unknown and revoked codes: one answer.
    services.share_code_revoke(insured=amina, share_id=share.pk, actor=None)
    for other in (code, "ABCDE-FGHJK-MNPQR"):
        again = client.post("/api/v1/share", {"code": other}, content_type="application/json", **bearer(key[1]))
        assert again.json() == {"valid": False}


@pytest.mark.parametrize("body", ["[]", "{}", '{"code": 5}', '{"code": ""}', "not json"])
def test_the_api_refuses_bad_bodies_with_400(client, key, body):
    response = client.post("/api/v1/share", body, content_type="application/json", **bearer(key[1]))
    assert response.status_code == 400 and response.json()["error"]


def test_the_holder_revokes_a_code_and_nobody_else_can(as_amina, amina, people, client):
    share, code = create(amina, show_employment=True)
    fatima = insured_client(people["fatima"])
    assert fatima.post(f"/me/sharing/{share.pk}/revoke/").status_code == 404
    assert client.post("/share/", {"code": code}).status_code == 200
    response = as_amina.post(f"/me/sharing/{share.pk}/revoke/")
    assert response.status_code == 302
    share.refresh_from_db()
    assert share.revoked_at is not None
    assert AuditEntry.objects.filter(action="integrations.share_code.revoked", insured=amina).count() == 1
    assert client.post("/share/", {"code": code}).status_code == 404


def test_every_use_is_shown_to_the_holder(as_amina, amina, client, key):
    _share, code = create(amina, show_employment=True)
    client.post("/share/", {"code": code})
    client.post("/api/v1/share", {"code": code}, content_type="application/json", **bearer(key[1]))
    page = as_amina.get("/me/sharing/").content.decode()
    assert (
        "The share code made for <strong><bdi>Agence Immobilière Atlas</bdi></strong> was used on the public page"
        in page
    )
    assert (
        "<strong><bdi>BANQUE EXEMPLE</bdi></strong> used the share code made for <bdi>Agence Immobilière Atlas</bdi>"
        in page
    )
    dashboard = as_amina.get("/me/").content.decode()
    assert "used the share code made for" in dashboard


def test_pages_of_the_insured_need_a_login(client):
    response = client.get("/me/sharing/")
    assert response.status_code == 302 and "/login/" in response["Location"]
