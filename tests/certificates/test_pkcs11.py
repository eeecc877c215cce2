"""The fund's keys in an HSM, through PKCS#11 (issue 25, item 1), against SoftHSM2.

Issuing, verifying and rotating go exactly as with the file key; the private
keys are made in the token and never leave it; the PIN comes from a file and is
never shown.
"""

import logging
from io import BytesIO, StringIO

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.management import CommandError, call_command
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from certificates import keystore, qrpayload, signing
from certificates.rendering import render_certificate_pdf
from certificates.samples import sample_snapshot
from tests.certificates.conftest import pkcs11_values
from tests.hsm import USER_PIN


def token_objects():
    """(label, class, sensitive, extractable) of every key in the configured token."""
    from pkcs11 import Attribute, ObjectClass

    token = keystore.configured_token()
    with token.lock:
        return [
            (
                obj[Attribute.LABEL],
                obj[Attribute.CLASS],
                obj[Attribute.SENSITIVE] if obj[Attribute.CLASS] == ObjectClass.PRIVATE_KEY else None,
                obj[Attribute.EXTRACTABLE] if obj[Attribute.CLASS] == ObjectClass.PRIVATE_KEY else None,
            )
            for obj in token.session().get_objects({})
        ]


def test_init_signing_pkcs11_makes_the_keys_in_the_token_not_extractable_and_certified_by_the_ca(token_settings):
    from pkcs11 import ObjectClass

    directory = token_settings
    # No private key file: the signing key and the QR seal key are in the token only.
    assert not (directory / "signing-key.pem").exists()
    assert not [p for p in (directory / "qr-keys").glob("*.pem") if not p.name.endswith(".pub.pem")]
    private = [o for o in token_objects() if o[1] == ObjectClass.PRIVATE_KEY]
    kid = (directory / "qr-keys" / "current").read_text().strip()
    assert {o[0] for o in private} >= {"damane-signing", f"qr-{kid}"}
    assert all(sensitive and not extractable for _label, _cls, sensitive, extractable in private)
    # The development root certified the token's public key.
    certificate = x509.load_pem_x509_certificate((directory / "signing-cert.pem").read_bytes())
    root = x509.load_pem_x509_certificate((directory / "root-ca.pem").read_bytes())
    certificate.verify_directly_issued_by(root)
    token_key = keystore.Pkcs11Key(keystore.configured_token(), "damane-signing")
    assert keystore.key_id(token_key.public_key()) == keystore.key_id(certificate.public_key())


def test_a_pdf_signed_in_the_token_validates_against_the_root_like_one_signed_with_the_file_key(
    token_settings, root_cert_path, poppler
):
    signed = signing.sign_pdf(render_certificate_pdf(sample_snapshot("employment"), qr_payload_url="x"))
    assert signing.get_signing_material().key.kind == "pkcs11"
    # The token's certificate comes from the same root as the session's file key.
    context = ValidationContext(trust_roots=[load_cert_from_pemder(str(root_cert_path))])
    status = validate_pdf_signature(PdfFileReader(BytesIO(signed)).embedded_signatures[0], context)
    assert status.intact and status.valid and status.trusted
    assert "Signature Validation: Signature is Valid." in poppler("pdfsig", signed)


def test_qr_payloads_signed_in_the_token_verify_with_the_published_keys_and_survive_rotation(token_settings):
    claims = {"id": "x" * 22, "k": "E", "n": "AT-2026-00000001", "h": "A B", "i": "2026-01-01", "u": "2026-04-01"}
    first = qrpayload.sign_qr_payload(claims)
    old_kid = qrpayload.qr_key_id()
    assert qrpayload.verify_payload(first)["n"] == "AT-2026-00000001"
    assert old_kid in {key["kid"] for key in qrpayload.public_jwks()["keys"]}

    call_command("rotate_signing_key", "--retire-previous", stdout=StringIO())
    new_kid = qrpayload.qr_key_id()
    assert new_kid != old_kid
    second = qrpayload.sign_qr_payload(claims)
    assert second.split(".")[1] == new_kid[:8]
    # Both verify: the retired key stays published (its public half), its private half is gone.
    assert qrpayload.verify_payload(first)["n"] == qrpayload.verify_payload(second)["n"]
    assert {old_kid, new_kid} <= {key["kid"] for key in qrpayload.public_jwks()["keys"]}
    labels = {label for label, *_rest in token_objects()}
    assert f"qr-{new_kid}" in labels and f"qr-{old_kid}" not in labels


def test_sign_bytes_signs_with_the_token_key_of_the_signing_certificate(token_settings):
    data = b'{"receipt":"example"}'
    raw = signing.sign_bytes(data)
    assert len(raw) == 64
    certificate = signing.signing_certificate_chain()[0]
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    certificate.public_key().verify(der, data, ec.ECDSA(hashes.SHA256()))


@pytest.mark.django_db
def test_issuing_with_the_token_stores_a_certificate_that_the_verify_page_and_the_pdf_check_accept(
    token_settings, client
):
    from django.utils import timezone

    from certificates.services import certificate_issue
    from tests.factories import seed_personas

    amina = seed_personas("amina", today=timezone.localdate())["amina"]
    certificate = certificate_issue(insured=amina, kind="employment")
    cert = x509.load_pem_x509_certificate((token_settings / "signing-cert.pem").read_bytes())
    assert certificate.signing_key_id == keystore.key_id(cert.public_key())
    page = client.get(f"/verify/{certificate.public_id}")
    assert page.status_code == 200
    upload = client.post("/verify/pdf/", {"pdf": _upload(bytes(certificate.file.data))})
    assert upload.status_code == 200
    assert certificate.number in upload.content.decode()


def _upload(data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("attestation.pdf", data, content_type="application/pdf")


@pytest.mark.django_db
def test_readiness_signs_a_round_trip_through_the_token_and_fails_without_its_pin(
    token_settings, client, settings, tmp_path, caplog
):
    response = client.get("/health/ready/")
    assert response.json()["checks"]["SigningKey"] == "ok", response.content
    # A wrong PIN (a token this process never logged in to): readiness says the key is
    # unusable, and the PIN appears nowhere.
    (tmp_path / "pin").write_text("0000-0000\n")
    settings.DAMANE_SIGNING_PKCS11_TOKEN_LABEL = "damane-wrong-pin"
    settings.DAMANE_SIGNING_PKCS11_PIN_FILE = str(tmp_path / "pin")
    signing.reset_material_cache()
    with caplog.at_level(logging.DEBUG):
        response = client.get("/health/ready/")
    assert response.status_code == 503
    assert "signing key unusable" in response.json()["checks"]["SigningKey"]
    for text in (response.content.decode(), caplog.text):
        assert "0000-0000" not in text and USER_PIN not in text
    # No PIN file: the same.
    settings.DAMANE_SIGNING_PKCS11_PIN_FILE = str(tmp_path / "absent")
    signing.reset_material_cache()
    assert client.get("/health/ready/").status_code == 503


def test_init_signing_pkcs11_writes_a_csr_signed_by_the_token_key_for_the_funds_ca(softhsm, tmp_path, signing_settings):
    csr_path = tmp_path / "request.csr"
    with signing_settings(tmp_path, **pkcs11_values(softhsm, "damane-csr")):
        out = StringIO()
        call_command("init_signing", "--pkcs11", "--csr", str(csr_path), stdout=out)
        assert USER_PIN not in out.getvalue()
        request = x509.load_pem_x509_csr(csr_path.read_bytes())
        assert request.is_signature_valid
        token_key = keystore.Pkcs11Key(keystore.configured_token(), "damane-signing")
        assert keystore.key_id(request.public_key()) == keystore.key_id(token_key.public_key())
        assert not (tmp_path / "signing-cert.pem").exists()
        # The key is never replaced by accident.
        with pytest.raises(CommandError, match="already holds"):
            call_command("init_signing", "--pkcs11", stdout=StringIO())


def test_init_signing_pkcs11_needs_a_module(tmp_path, signing_settings):
    with signing_settings(tmp_path), pytest.raises(CommandError, match="DAMANE_SIGNING_PKCS11_MODULE"):
        call_command("init_signing", "--pkcs11", stdout=StringIO())


def test_the_token_public_key_is_the_one_published_for_the_signing_certificate(token_settings):
    material = signing.get_signing_material()
    der = material.certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert material.key_id == keystore.key_id(serialization.load_der_public_key(der))


def test_with_a_token_configured_init_signing_if_missing_keeps_it_and_writes_no_key_file(token_settings):
    out = StringIO()
    call_command("init_signing", "--if-missing", stdout=out)
    assert "kept in the token" in out.getvalue()
    assert not (token_settings / "signing-key.pem").exists()
