"""Verification as a bank, an embassy or an attacker sees it
(docs/domain.md "Verification", docs/security.md §14-15)."""

import json
import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from certificates.models import Certificate
from certificates.qrpayload import public_jwks, split_qr_text, verify_payload
from certificates.services import certificate_issue, certificate_revoke
from verification.services import revocation_entry

pytestmark = pytest.mark.django_db

# What differs between two answers without telling anything about the look-up:
# the CSRF token and the language switcher's echo of the requested path.
CSRF_RE = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]+"|name="next" type="hidden" value="[^"]*"')


def page(client, public_id):
    return client.get(reverse("verification:certificate", args=[public_id]))


def test_the_qr_code_opens_the_verify_page_of_this_certificate(client, certificate, qr_text):
    public_id, token = split_qr_text(qr_text)
    assert public_id == certificate.public_id
    assert qr_text.startswith("https://damane.cnss.ma/verify/" + certificate.public_id + "#DMN2.")
    response = client.get(f"/verify/{public_id}")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Genuine and valid certificate" in body
    assert "BENNANI AMINA" in body and "MAROC DIGITAL SERVICES SA" in body
    assert certificate.number in body
    assert verify_payload(token)["id"] == certificate.public_id


def test_the_verify_page_never_shows_the_full_cin_or_cnss_number_and_is_not_cached(client, certificate):
    response = page(client, certificate.public_id)
    body = response.content.decode()
    assert "BE123456" not in body and "100234561" not in body
    assert "••••••56" in body and "••••••561" in body
    assert "no-store" in response["Cache-Control"]


def test_unknown_malformed_and_forged_codes_get_one_identical_answer(client, certificate):
    forged = certificate.public_id[:-2] + ("AA" if not certificate.public_id.endswith("AA") else "BB")
    answers = [page(client, x) for x in ("A" * 22, "not-a-code!", forged, "x" * 200)]
    assert {r.status_code for r in answers} == {404}
    assert len({CSRF_RE.sub(b"", r.content) for r in answers}) == 1
    typed = [client.post(reverse("verification:index"), {"code": c}) for c in ("ABCD-EFGH", "0000", "")]
    assert len({CSRF_RE.sub(b"", r.content) for r in typed} | {CSRF_RE.sub(b"", answers[0].content)}) == 1


def test_a_typed_code_is_found_whatever_the_case_spaces_and_dashes(client, certificate):
    sloppy = certificate.verification_code.lower().replace("-", " ")
    response = client.post(reverse("verification:index"), {"code": sloppy})
    assert response.status_code == 200
    assert certificate.number in response.content.decode()


def test_a_revoked_certificate_shows_revoked_with_the_date_at_once(client, certificate, django_user_model):
    agent = django_user_model.objects.create_user(username="agent", password="x" * 16, is_staff=True)
    certificate_revoke(certificate=certificate, actor=agent, reason="Issued on a wrong employer")
    body = page(client, certificate.public_id).content.decode()
    assert "Revoked certificate" in body
    assert timezone.localdate().strftime("%d/%m/%Y") in body
    api = client.get(reverse("api:verify"), {"code": certificate.verification_code}).json()
    assert api["state"] == "revoked" and api["revoked_on"] == timezone.localdate().isoformat()
    listed = client.get(reverse("verification:revocations")).json()
    assert revocation_entry(certificate.public_id) in listed["revoked"]
    assert verify_payload(listed["signed"])["r"] == listed["revoked"]


def test_an_expired_certificate_says_so(client, certificate):
    with freeze_time(certificate.valid_until + timedelta(days=1)):
        body = page(client, certificate.public_id).content.decode()
    assert "Expired certificate" in body


def test_a_reissued_certificate_never_leaves_the_earlier_one_silently_valid(client, amina):
    earlier = certificate_issue(insured=amina, kind="declared_days", today=timezone.localdate() - timedelta(days=1))
    certificate_issue(insured=amina, kind="declared_days")
    body = page(client, earlier.public_id).content.decode()
    assert "replaced by a newer one" in body
    assert client.get(reverse("api:verify"), {"code": earlier.verification_code}).json()["state"] == "replaced"
    assert revocation_entry(earlier.public_id) in client.get(reverse("verification:revocations")).json()["replaced"]


def test_look_ups_are_limited_to_30_a_minute_per_address_across_page_code_and_api(client, certificate):
    for i in range(30):
        if i % 3 == 0:
            assert page(client, certificate.public_id).status_code == 200
        elif i % 3 == 1:
            assert client.post(reverse("verification:index"), {"code": "x"}).status_code == 404
        else:
            assert client.get(reverse("api:verify"), {"code": "x"}).status_code == 200
    assert page(client, certificate.public_id).status_code == 429
    limited = client.get(reverse("api:verify"), {"code": "x"})
    assert limited.status_code == 429 and limited.json()["error"] == "rate_limited"
    assert int(limited["Retry-After"]) > 0
    # Another address is not affected.
    assert client.get(reverse("api:verify"), {"code": "x"}, REMOTE_ADDR="10.9.8.7").status_code == 200


# --- JSON API ------------------------------------------------------------------------


def test_a_look_up_by_code_is_one_query_and_answers_like_the_page_lookup(
    client, certificate, django_assert_num_queries
):
    from verification.services import by_code, by_code_fast

    with django_assert_num_queries(1):
        answer = client.get(reverse("api:verify"), {"code": certificate.verification_code.lower()})
    assert answer.json()["genuine"] is True and answer.json()["number"] == certificate.number
    fast, slow = by_code_fast(certificate.verification_code), by_code(certificate.verification_code)
    assert {f.attname: getattr(fast, f.attname) for f in fast._meta.concrete_fields} == {
        f.attname: getattr(slow, f.attname) for f in slow._meta.concrete_fields
    }
    assert by_code_fast("ABCD-EFGH-JKMN-PQRS-TUVW") is None and by_code_fast("not a code") is None


def test_the_api_answers_by_code_and_by_qr_payload_with_the_same_privacy(client, certificate, qr_text):
    by_code = client.get(reverse("api:verify"), {"code": certificate.verification_code})
    by_token = client.post(reverse("api:verify"), json.dumps({"token": qr_text}), content_type="application/json")
    for response in (by_code, by_token):
        data = response.json()
        assert data["genuine"] is True and data["state"] == "valid"
        assert data["type"] == "employment" and data["number"] == certificate.number
        assert data["holder"]["cin_masked"] == "••••••56"
        assert "BE123456" not in response.content.decode() and "100234561" not in response.content.decode()
        assert "no-store" in response["Cache-Control"]


def test_the_api_gives_one_answer_for_unknown_malformed_and_forged_input(client, qr_text):
    _public_id, token = split_qr_text(qr_text)
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    answers = [
        client.get(reverse("api:verify"), {"code": "ABCD-EFGH-JKMN-PQRS-TUVW-XYZ2"}),
        client.get(reverse("api:verify"), {"code": "!!"}),
        client.get(reverse("api:verify"), {"token": forged}),
        client.get(reverse("api:verify"), {"token": "DMN9.nothing"}),
        client.post(reverse("api:verify"), b"{not json", content_type="application/json"),
    ]
    assert [r.status_code for r in answers[:4]] == [200] * 4
    assert {r.content for r in answers[:4]} == {b'{"genuine": false}'}
    assert answers[4].status_code == 400


def test_the_openapi_schema_is_served_and_valid(client):
    from openapi_spec_validator import validate

    schema = client.get(reverse("api:openapi")).json()
    validate(schema)
    assert "/api/v1/verify" in schema["paths"]


# --- keys ------------------------------------------------------------------------------


def test_the_published_keys_verify_a_fresh_certificate_offline(client, qr_text):
    from cryptography.hazmat.primitives.asymmetric import ec

    _public_id, token = split_qr_text(qr_text)
    jwks = client.get(reverse("verification:keys")).json()
    kid = token.split(".")[1]
    jwk = next(k for k in jwks["keys"] if k["kid"].startswith(kid))
    from certificates.qrpayload import b64url_decode

    public = ec.EllipticCurvePublicNumbers(
        int.from_bytes(b64url_decode(jwk["x"]), "big"), int.from_bytes(b64url_decode(jwk["y"]), "big"), ec.SECP256R1()
    ).public_key()
    assert verify_payload(token, {jwk["kid"]: public})["n"]


def test_after_a_key_rotation_new_certificates_use_the_new_key_and_old_ones_still_verify(
    client, certificate, qr_text, tmp_path, settings, signing_dir
):
    import shutil

    keys_dir = tmp_path / "qr-keys"
    shutil.copytree(signing_dir / "qr-keys", keys_dir)
    settings.DAMANE_QR_KEYS_DIR = keys_dir
    from certificates.qrpayload import reset_key_cache

    reset_key_cache()
    old_kid = certificate.qr_key_id
    call_command("rotate_signing_key", "--retire-previous")
    fresh = certificate_issue(insured=certificate.insured, kind="affiliation")
    assert fresh.qr_key_id != old_kid
    kids = {k["kid"] for k in client.get(reverse("verification:keys")).json()["keys"]}
    assert {old_kid, fresh.qr_key_id} <= kids
    assert not (keys_dir / f"{old_kid}.pem").exists()
    api = client.get(reverse("api:verify"), {"token": qr_text}).json()
    assert api["genuine"] is True
    reset_key_cache()
    assert public_jwks()  # the directory override still reads


# --- PDF upload ----------------------------------------------------------------------


def upload(client, name, data):
    return client.post(reverse("verification:pdf"), {"pdf": SimpleUploadedFile(name, data, "application/pdf")})


def test_the_genuine_pdf_passes_every_check(client, certificate):
    body = upload(client, "c.pdf", bytes(certificate.file.data)).content.decode()
    assert "Genuine and valid certificate" in body
    assert "The fund&#x27;s electronic signature is valid and covers the whole file." in body or (
        "electronic signature is valid and covers the whole file" in body
    )
    assert "The file is exactly the one the portal issued." in body


def test_one_changed_byte_breaks_the_signature_and_the_hash(client, certificate):
    data = bytearray(bytes(certificate.file.data))
    data[len(data) // 3] ^= 0x01
    body = upload(client, "c.pdf", bytes(data)).content.decode()
    assert "not a certificate issued by the fund" in body
    assert "The portal issued no file identical to this one." in body


def test_a_valid_pdf_not_issued_by_the_fund_is_recognised_as_such(client, certificate):
    from certificates.documents import CertificateSnapshot
    from certificates.rendering import render_certificate_pdf

    unsigned = render_certificate_pdf(CertificateSnapshot.from_dict(certificate.snapshot), qr_payload_url="x")
    body = upload(client, "c.pdf", unsigned).content.decode()
    assert "It carries no electronic signature." in body
    assert "The portal issued no file identical to this one." in body


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"GIF89a not a pdf", "This file is not a PDF."),
        (b"%PDF-1.7\n" + b"\x00" * (5 * 1024 * 1024 + 1), "The file is too large"),
    ],
)
def test_bad_uploads_get_a_clear_answer(client, data, message):
    response = upload(client, "x.pdf", data)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_a_truncated_pdf_is_reported_unreadable_not_a_500(client, certificate):
    response = upload(client, "c.pdf", bytes(certificate.file.data)[:4000])
    assert response.status_code == 200
    assert "not a certificate issued by the fund" in response.content.decode()


def test_the_command_line_exits_0_only_for_a_genuine_current_certificate(certificate, tmp_path, django_user_model):
    good = tmp_path / "good.pdf"
    good.write_bytes(bytes(certificate.file.data))
    call_command("verify_certificate", str(good))  # no SystemExit: exit 0
    bad = tmp_path / "bad.pdf"
    data = bytearray(good.read_bytes())
    data[5000] ^= 1
    bad.write_bytes(bytes(data))
    with pytest.raises(SystemExit) as exit_bad:
        call_command("verify_certificate", str(bad))
    assert exit_bad.value.code == 1
    agent = django_user_model.objects.create_user(username="agent", password="x" * 16, is_staff=True)
    certificate_revoke(certificate=certificate, actor=agent, reason="fraud")
    with pytest.raises(SystemExit) as exit_revoked:
        call_command("verify_certificate", str(good))
    assert exit_revoked.value.code == 1
    with pytest.raises(SystemExit) as exit_missing:
        call_command("verify_certificate", str(tmp_path / "missing.pdf"))
    assert exit_missing.value.code == 2


# --- revocation in the admin ------------------------------------------------------------


def test_staff_revoke_in_the_admin_with_a_reason(staff_admin, client, certificate):
    url = reverse("admin:certificates_certificate_changelist")
    confirm = client.post(url, {"action": "revoke", "_selected_action": [certificate.pk]})
    assert "Revoke certificates" in confirm.content.decode()
    client.post(url, {"action": "revoke", "_selected_action": [certificate.pk], "apply": "1", "reason": ""})
    certificate.refresh_from_db()
    assert certificate.revoked_at is None  # no reason, no revocation
    client.post(url, {"action": "revoke", "_selected_action": [certificate.pk], "apply": "1", "reason": "Fraud"})
    certificate.refresh_from_db()
    assert certificate.revoked_at is not None and certificate.revocation_reason == "Fraud"
    assert Certificate.objects.get(pk=certificate.pk).revoked_by == staff_admin
