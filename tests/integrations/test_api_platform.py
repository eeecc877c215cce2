"""What an integrator's platform gives besides the look-up (issue 26, items 3, 4, 5, 7):
retries with Idempotency-Key, quotas seen in RateLimit headers, scopes and source
networks per key, batch look-ups and signed receipts."""

import json
import re
import uuid

import pytest
from django.core.management import call_command

from certificates import registry
from certificates.qrpayload import (
    PayloadError,
    b64url,
    b64url_decode,
    public_jwks,
    qr_url,
    sign_qr_payload,
    verify_jws,
)
from certificates.services import certificate_issue
from integrations import services
from integrations.models import IntegratorVerification, ShareCodeUse
from tests.integrations.conftest import bearer, current_employer

pytestmark = pytest.mark.django_db

POLICY_RE = re.compile(r'^"minute";q=(\d+);w=60, "day";q=(\d+);w=86400$')
STATE_RE = re.compile(r'^"minute";r=(\d+);t=(\d+), "day";r=(\d+);t=(\d+)$')


def qr_text_of(certificate) -> str:
    """The text of the certificate's QR code, as certificate_issue signs it."""
    claims = {
        "id": certificate.public_id,
        "k": registry.get(certificate.kind).code,
        "n": certificate.number,
        "h": "X",
        "i": certificate.issued_on.isoformat(),
        "u": certificate.valid_until.isoformat(),
    }
    return qr_url(certificate.public_id, sign_qr_payload(claims))


def _key(bank, supervisor, **kwargs):
    options = {"label": "x", "valid_days": 30, "quota_per_minute": 1000, "quota_per_day": 10000, **kwargs}
    return services.api_key_issue(organisation=bank, actor=supervisor, **options)


# --- Item 4: Idempotency-Key and RateLimit headers ------------------------------------


def test_a_retried_look_up_answers_the_same_and_records_one_check_for_the_holder(client, key, certificate):
    headers = {**bearer(key[1]), "HTTP_IDEMPOTENCY_KEY": str(uuid.uuid4())}
    first = client.get("/api/v1/verify", {"code": certificate.verification_code}, **headers)
    again = client.get("/api/v1/verify", {"code": certificate.verification_code}, **headers)
    assert first.status_code == again.status_code == 200
    assert first.content == again.content and first.json()["genuine"] is True
    assert again["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first
    assert IntegratorVerification.objects.filter(certificate=certificate).count() == 1
    # A new key is a new look-up: recorded again.
    client.get(
        "/api/v1/verify",
        {"code": certificate.verification_code},
        **bearer(key[1]),
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )
    assert IntegratorVerification.objects.filter(certificate=certificate).count() == 2


def test_a_retried_share_code_read_is_one_use_in_the_holder_s_list(client, amina, key):
    _share, code = services.share_code_create(
        insured=amina,
        employer=current_employer(amina),
        recipient="Banque",
        valid_days=3,
        show_employment=True,
        show_employer_status=False,
        show_last_period=False,
        actor=None,
    )
    headers = {**bearer(key[1]), "HTTP_IDEMPOTENCY_KEY": "loan-2026-0042"}
    answers = [
        client.post("/api/v1/share", {"code": code}, content_type="application/json", **headers) for _ in range(3)
    ]
    assert {answer.content for answer in answers} == {answers[0].content}
    assert answers[0].json()["valid"] is True
    assert ShareCodeUse.objects.count() == 1


def test_the_same_idempotency_key_with_another_request_is_refused(client, key, certificate, amina):
    other = certificate_issue(insured=amina, kind="affiliation")
    headers = {**bearer(key[1]), "HTTP_IDEMPOTENCY_KEY": "same"}
    assert client.get("/api/v1/verify", {"code": certificate.verification_code}, **headers).status_code == 200
    refused = client.get("/api/v1/verify", {"code": other.verification_code}, **headers)
    assert refused.status_code == 409 and refused.json()["error"] == "idempotency_key_reused"
    assert not IntegratorVerification.objects.filter(certificate=other).exists()


def test_another_key_s_idempotency_key_is_its_own(client, key, bank, supervisor, certificate):
    _other, other_plaintext = _key(bank, supervisor)
    for plaintext in (key[1], other_plaintext):
        answer = client.get(
            "/api/v1/verify", {"code": certificate.verification_code}, **bearer(plaintext), HTTP_IDEMPOTENCY_KEY="a"
        )
        assert "Idempotent-Replayed" not in answer
    assert IntegratorVerification.objects.filter(certificate=certificate).count() == 2


def test_an_error_answer_is_not_kept_so_the_mended_request_runs(client, key, certificate):
    headers = {**bearer(key[1]), "HTTP_IDEMPOTENCY_KEY": "retry-me"}
    refused = client.post("/api/v1/verify", "not json", content_type="application/json", **headers)
    assert refused.status_code == 400
    mended = client.post(
        "/api/v1/verify", {"code": certificate.verification_code}, content_type="application/json", **headers
    )
    assert mended.status_code == 200 and mended.json()["genuine"] is True
    assert "Idempotent-Replayed" not in mended
    assert IntegratorVerification.objects.filter(certificate=certificate).count() == 1


def test_any_idempotency_key_text_is_a_key_and_an_empty_one_is_none(client, key, certificate):
    for value in ("x" * 300, "é", " spaced key "):
        for _ in range(2):
            client.get(
                "/api/v1/verify", {"code": certificate.verification_code}, **bearer(key[1]), HTTP_IDEMPOTENCY_KEY=value
            )
    assert IntegratorVerification.objects.count() == 3
    for _ in range(2):
        empty = client.get(
            "/api/v1/verify", {"code": certificate.verification_code}, **bearer(key[1]), HTTP_IDEMPOTENCY_KEY=""
        )
        assert "Idempotent-Replayed" not in empty
    assert IntegratorVerification.objects.count() == 5


def test_every_answer_with_a_key_shows_the_quota_left_before_a_429(client, settings, bank, supervisor, certificate):
    _key_row, plaintext = _key(bank, supervisor, quota_per_minute=3, quota_per_day=100)
    seen = []
    for _ in range(4):
        answer = client.get("/api/v1/verify", {"code": certificate.verification_code}, **bearer(plaintext))
        assert POLICY_RE.match(answer["RateLimit-Policy"]).groups() == ("3", "100")
        state = STATE_RE.match(answer["RateLimit"]).groups()
        assert 1 <= int(state[1]) <= 60 and 1 <= int(state[3]) <= 86400
        seen.append((answer.status_code, int(state[0]), int(state[2])))
    # The refused look-up is not counted in the day: the day quota refuses nothing yet.
    assert seen == [(200, 2, 99), (200, 1, 98), (200, 0, 97), (429, 0, 97)]


def test_an_anonymous_answer_shows_the_per_address_limit(client, settings, certificate):
    settings.DAMANE_VERIFY_LOOKUPS_PER_MINUTE = 2
    answers = [client.get("/api/v1/verify", {"code": certificate.verification_code}) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert {a["RateLimit-Policy"] for a in answers} == {'"address";q=2;w=60'}
    assert [a["RateLimit"].split(";t=")[0] for a in answers] == ['"address";r=1', '"address";r=0', '"address";r=0']


# --- Item 5: scopes and source networks -----------------------------------------------


def test_a_key_used_outside_its_scopes_answers_403_with_the_reason(client, bank, supervisor, certificate):
    _row, plaintext = _key(bank, supervisor, scopes=["share"])
    answer = client.get("/api/v1/verify", {"code": certificate.verification_code}, **bearer(plaintext))
    assert answer.status_code == 403
    assert answer.json()["error"] == "scope_not_allowed" and "share" in answer.json()["detail"]
    assert not IntegratorVerification.objects.exists()
    batch = client.post(
        "/api/v1/verify/batch",
        {"items": [{"code": certificate.verification_code}]},
        content_type="application/json",
        **bearer(plaintext),
    )
    assert batch.status_code == 403 and batch.json()["error"] == "scope_not_allowed"


def test_a_key_used_from_outside_its_networks_answers_403(client, bank, supervisor, certificate):
    _row, plaintext = _key(bank, supervisor, allowed_networks=["10.20.0.0/16", "2001:db8::/32"])
    inside = client.get(
        "/api/v1/verify", {"code": certificate.verification_code}, **bearer(plaintext), REMOTE_ADDR="10.20.3.4"
    )
    assert inside.status_code == 200 and inside.json()["genuine"] is True
    inside6 = client.get(
        "/api/v1/verify", {"code": certificate.verification_code}, **bearer(plaintext), REMOTE_ADDR="2001:db8::7"
    )
    assert inside6.status_code == 200
    outside = client.get(
        "/api/v1/verify", {"code": certificate.verification_code}, **bearer(plaintext), REMOTE_ADDR="10.21.0.1"
    )
    assert outside.status_code == 403 and outside.json()["error"] == "network_not_allowed"
    assert "10.21.0.1" in outside.json()["detail"]
    assert IntegratorVerification.objects.count() == 2


def test_bad_scopes_or_networks_are_refused_when_issuing(bank, supervisor):
    with pytest.raises(services.IntegrationError):
        _key(bank, supervisor, scopes=[])
    with pytest.raises(services.IntegrationError):
        _key(bank, supervisor, scopes=["admin"])
    with pytest.raises(services.IntegrationError):
        _key(bank, supervisor, allowed_networks=["10.0.0.0/33"])


# --- Item 7: batch ---------------------------------------------------------------------


def test_a_batch_answers_each_look_up_in_order_and_counts_each(client, bank, supervisor, amina, certificate):
    _row, plaintext = _key(bank, supervisor, quota_per_minute=5)
    other = certificate_issue(insured=amina, kind="affiliation")
    items = [
        {"code": certificate.verification_code},
        {"code": "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF"},
        {"token": qr_text_of(other)},
    ]
    answer = client.post("/api/v1/verify/batch", {"items": items}, content_type="application/json", **bearer(plaintext))
    assert answer.status_code == 200
    results = answer.json()
    assert isinstance(results, list) and len(results) == 3
    assert results[0]["number"] == certificate.number
    assert results[1] == {"genuine": False}
    assert results[2]["number"] == other.number
    assert STATE_RE.match(answer["RateLimit"]).group(1) == "2"
    assert IntegratorVerification.objects.count() == 2
    # Three left? No: two; a batch of three is refused whole, and the two still fit singly.
    refused = client.post(
        "/api/v1/verify/batch", {"items": items}, content_type="application/json", **bearer(plaintext)
    )
    assert refused.status_code == 429 and refused.json()["error"] == "quota_exceeded"
    assert STATE_RE.match(refused["RateLimit"]).group(1) == "2"
    for _ in range(2):
        assert (
            client.get("/api/v1/verify", {"code": certificate.verification_code}, **bearer(plaintext)).status_code
            == 200
        )


def test_a_batch_with_a_bad_item_is_refused_whole_and_records_nothing(client, key, certificate, settings):
    for items in ([], [{"code": certificate.verification_code}, {"nothing": 1}], ["text"], "x"):
        answer = client.post(
            "/api/v1/verify/batch", {"items": items}, content_type="application/json", **bearer(key[1])
        )
        assert answer.status_code == 400, items
    settings.DAMANE_API_BATCH_MAX = 2
    answer = client.post(
        "/api/v1/verify/batch",
        {"items": [{"code": certificate.verification_code}] * 3},
        content_type="application/json",
        **bearer(key[1]),
    )
    assert answer.status_code == 400 and "1 to 2" in answer.json()["detail"]
    assert not IntegratorVerification.objects.exists()


def test_a_batch_needs_a_key(client, certificate):
    answer = client.post(
        "/api/v1/verify/batch", {"items": [{"code": certificate.verification_code}]}, content_type="application/json"
    )
    assert answer.status_code == 401 and answer["WWW-Authenticate"].startswith("Bearer")


# --- Item 3: signed receipts ----------------------------------------------------------


def _jwks_keys():
    from cryptography.hazmat.primitives.asymmetric import ec

    keys = {}
    for jwk in public_jwks()["keys"]:
        x = int.from_bytes(b64url_decode(jwk["x"]), "big")
        y = int.from_bytes(b64url_decode(jwk["y"]), "big")
        keys[jwk["kid"]] = ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
    return keys


@pytest.mark.parametrize("how", ["accept", "parameter"])
def test_a_receipt_is_a_jws_signed_with_a_published_key_of_the_same_answer(client, key, certificate, how):
    plain = client.get("/api/v1/verify", {"code": certificate.verification_code}, **bearer(key[1])).json()
    if how == "accept":
        answer = client.get(
            "/api/v1/verify",
            {"code": certificate.verification_code},
            **bearer(key[1]),
            HTTP_ACCEPT="application/jose",
        )
    else:
        answer = client.get("/api/v1/verify", {"code": certificate.verification_code, "receipt": "1"}, **bearer(key[1]))
    assert answer.status_code == 200 and answer["Content-Type"] == "application/jose"
    header, claims = verify_jws(answer.content.decode(), _jwks_keys())
    assert header["alg"] == "ES256" and header["kid"] in {k["kid"] for k in public_jwks()["keys"]}
    assert claims["res"] == plain
    assert claims["req"] == {
        "method": "GET",
        "path": "/api/v1/verify",
        "params": {"code": certificate.verification_code},
    }
    assert claims["org"] == "BANQUE EXEMPLE" and claims["key"] == key[0].prefix
    assert "RateLimit" in answer


def test_a_share_answer_comes_as_a_receipt_too(client, amina, key):
    _share, code = services.share_code_create(
        insured=amina,
        employer=current_employer(amina),
        recipient="Banque",
        valid_days=3,
        show_employment=False,
        show_employer_status=False,
        show_last_period=True,
        actor=None,
    )
    answer = client.post("/api/v1/share?receipt=1", {"code": code}, content_type="application/json", **bearer(key[1]))
    _header, claims = verify_jws(answer.content.decode(), _jwks_keys())
    assert claims["res"]["valid"] is True and claims["req"]["params"] == {"code": code}


def test_a_changed_or_unsigned_receipt_does_not_verify(client, key, certificate):
    token = client.get(
        "/api/v1/verify", {"code": certificate.verification_code, "receipt": "1"}, **bearer(key[1])
    ).content.decode()
    head, payload, signature = token.split(".")
    claims = json.loads(b64url_decode(payload))
    claims["res"]["state"] = "valid" if claims["res"]["state"] != "valid" else "revoked"
    forged = f"{head}.{b64url(json.dumps(claims).encode())}.{signature}"
    with pytest.raises(PayloadError) as error:
        verify_jws(forged, _jwks_keys())
    assert error.value.code == "bad_signature"
    unsigned = f"{b64url(json.dumps({'alg': 'none', 'kid': 'x'}).encode())}.{payload}."
    with pytest.raises(PayloadError):
        verify_jws(unsigned, _jwks_keys())


def test_verify_certificate_checks_a_receipt(client, key, certificate, tmp_path, capsys):
    token = client.get(
        "/api/v1/verify", {"code": certificate.verification_code, "receipt": "1"}, **bearer(key[1])
    ).content.decode()
    path = tmp_path / "receipt.jws"
    path.write_text(token)
    call_command("verify_certificate", str(path), "--receipt")
    out = capsys.readouterr().out
    assert "receipt signed by the fund" in out and certificate.number in out
    path.write_text(token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"))
    with pytest.raises(SystemExit) as exit_code:
        call_command("verify_certificate", str(path), "--receipt")
    assert exit_code.value.code == 1


def test_only_receipt_1_asks_for_a_receipt(client, certificate):
    for value in ("0", "yes", "true"):
        answer = client.get("/api/v1/verify", {"code": certificate.verification_code, "receipt": value})
        assert answer.status_code == 200 and answer.json()["genuine"] is True
    anonymous = client.get("/api/v1/verify", {"code": certificate.verification_code, "receipt": "1"})
    assert anonymous["Content-Type"] == "application/jose"
    _header, claims = verify_jws(anonymous.content.decode(), _jwks_keys())
    assert claims["res"]["genuine"] is True and "org" not in claims


def test_a_supervisor_sets_a_key_s_scopes_and_networks_and_the_change_is_audited(
    client, as_supervisor, as_agent, key, certificate
):
    from audit.models import AuditEntry

    api_key, plaintext = key
    page = as_supervisor.get(f"/staff/integrators/{api_key.organisation_id}/").content.decode()
    assert "verify, share, batch" in page and "any address" in page
    assert f"/staff/integrators/keys/{api_key.pk}/restrict/" in page
    refused = as_agent.post(
        f"/staff/integrators/keys/{api_key.pk}/restrict/", {"scopes": ["share"], "allowed_networks": ""}
    )
    assert refused.status_code == 403
    bad = as_supervisor.post(
        f"/staff/integrators/keys/{api_key.pk}/restrict/", {"scopes": ["share"], "allowed_networks": "10.0.0.0/99"}
    )
    assert bad.status_code == 400 and "is not a network" in bad.content.decode()
    saved = as_supervisor.post(
        f"/staff/integrators/keys/{api_key.pk}/restrict/",
        {"scopes": ["share", "verify"], "allowed_networks": "196.200.0.0/16\n 10.1.2.3 \n"},
    )
    assert saved.status_code == 302
    api_key.refresh_from_db()
    assert api_key.scopes == ["verify", "share"] and api_key.allowed_networks == ["196.200.0.0/16", "10.1.2.3/32"]
    entry = AuditEntry.objects.get(action="integrations.api_key.restricted")
    assert entry.before == {"scopes": ["verify", "share", "batch"], "allowed_networks": []}
    assert entry.after == {"scopes": ["verify", "share"], "allowed_networks": ["196.200.0.0/16", "10.1.2.3/32"]}
    page = as_supervisor.get(f"/staff/integrators/{api_key.organisation_id}/").content.decode()
    assert "196.200.0.0/16, 10.1.2.3/32" in page
    # At once, on the key's next call.
    answer = client.get(
        "/api/v1/verify", {"code": certificate.verification_code}, **bearer(plaintext), REMOTE_ADDR="8.8.8.8"
    )
    assert answer.status_code == 403 and answer.json()["error"] == "network_not_allowed"


def test_a_rotated_key_keeps_its_scopes_and_networks(key, supervisor):
    api_key, _plaintext = key
    services.api_key_restrict(key=api_key, scopes=["batch"], allowed_networks=["10.0.0.0/8"], actor=supervisor)
    new, _ = services.api_key_rotate(key=api_key, actor=supervisor)
    assert new.scopes == ["batch"] and new.allowed_networks == ["10.0.0.0/8"]


def test_the_document_types_the_facts_of_every_kind_as_its_presenter_gives_them():
    from verification.openapi import FACTS_BY_KIND

    for kind in registry.kinds():
        assert set(FACTS_BY_KIND[kind.value]) == set(kind.present({})), kind.value


# --- Item 2: sandbox keys --------------------------------------------------------------


@pytest.fixture
def sandbox_key(bank, django_user_model):
    from integrations.models import ApiKey

    agent = django_user_model.objects.create_user("agent.sandbox", password="x" * 20, is_staff=True)
    row, plaintext = services.sandbox_key_issue(organisation=bank, label="tests", actor=agent)
    assert plaintext.startswith("dmn_test_") and ApiKey.objects.get(pk=row.pk).prefix.startswith("test_")
    return plaintext


def test_a_sandbox_key_answers_the_documented_fictitious_certificates_and_records_nothing(
    client, sandbox_key, certificate
):
    from pathlib import Path

    from django.conf import settings as django_settings

    from audit.models import AuditEntry

    assert AuditEntry.objects.filter(action="integrations.api_key.sandbox_issued").count() == 1
    doc = (Path(django_settings.BASE_DIR) / "docs" / "integrators.md").read_text()
    rows = re.findall(r"^\| `(TEST-[A-Z0-9-]+)` \| (\w+) \| ([A-Z]{2}-\d{4}-\d{8}) \| (\w+) \|$", doc, re.M)
    assert len(rows) == 10 and {state for *_r, state in rows} == {"valid", "revoked", "expired", "replaced"}
    assert {kind for _c, kind, *_r in rows} == {kind.value for kind in registry.kinds()}
    for code, kind, number, state in rows:
        answer = client.get("/api/v1/verify", {"code": code.lower()}, **bearer(sandbox_key)).json()
        assert (answer["genuine"], answer["type"], answer["number"], answer["state"]) == (True, kind, number, state)
        assert answer["holder"]["name"] == "SANDBOX TEST"
    # A real certificate's code is not known to the sandbox, and nothing is recorded.
    real = client.get("/api/v1/verify", {"code": certificate.verification_code}, **bearer(sandbox_key))
    assert real.json() == {"genuine": False}
    batch = client.post(
        "/api/v1/verify/batch",
        {"items": [{"code": rows[0][0]}, {"code": certificate.verification_code}, {"token": qr_text_of(certificate)}]},
        content_type="application/json",
        **bearer(sandbox_key),
    ).json()
    assert [item["genuine"] for item in batch] == [True, False, False]
    assert not IntegratorVerification.objects.exists()


def test_a_sandbox_key_reads_the_documented_share_codes_and_never_a_real_one(client, sandbox_key, amina):
    _share, real_code = services.share_code_create(
        insured=amina,
        employer=current_employer(amina),
        recipient="Banque",
        valid_days=3,
        show_employment=True,
        show_employer_status=False,
        show_last_period=False,
        actor=None,
    )
    answers = {
        code: client.post(
            "/api/v1/share", {"code": code}, content_type="application/json", **bearer(sandbox_key)
        ).json()
        for code in ("tests-harev-22222", "TESTS-HAREX-22222", "TESTS-HARER-22222", real_code)
    }
    assert answers["tests-harev-22222"]["valid"] is True
    assert answers["tests-harev-22222"]["holder"]["name"] == "SANDBOX TEST"
    assert [answers[c] for c in ("TESTS-HAREX-22222", "TESTS-HARER-22222", real_code)] == [{"valid": False}] * 3
    assert not ShareCodeUse.objects.exists()
