import json
import subprocess

import pytest
import zxingcpp
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from PIL import Image, ImageFilter

from certificates import qrpayload, signing
from certificates.qrpayload import (
    QR_FIELDS,
    PayloadError,
    b64url,
    b64url_decode,
    public_jwks,
    qr_claims,
    qr_public_keys,
    sign_payload,
    split_qr_text,
    verify_payload,
)
from certificates.rendering import qr_version
from certificates.samples import sample_snapshot

KINDS = ["employment", "affiliation", "non_affiliation", "annual_salary", "declared_days", "deregistration"]


def decode_qr_codes(pdf: bytes, tmp_path) -> list[str]:
    """Print the page at 150 dpi, as a scanner would see it, and read it with ZXing."""
    source = tmp_path / "doc.pdf"
    source.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "150", "-png", "-singlefile", str(source), str(tmp_path / "page")], check=True)
    results = zxingcpp.read_barcodes(Image.open(tmp_path / "page.png"))
    return [r.text for r in results if r.format == zxingcpp.BarcodeFormat.QRCode]


@pytest.mark.parametrize("kind", KINDS)
def test_the_printed_qr_code_opens_this_certificates_verify_page(kind, issued, tmp_path):
    snapshot, url, token, _unsigned, signed = issued[kind]
    assert decode_qr_codes(signed, tmp_path) == [url]
    assert url == f"https://damane.cnss.ma/verify/{snapshot.public_id}#{token}"
    assert split_qr_text(url) == (snapshot.public_id, token)


@pytest.mark.parametrize("kind", KINDS)
def test_the_scanned_payload_verifies_offline_with_the_published_key(kind, issued, tmp_path):
    snapshot, _url, _token, _unsigned, signed = issued[kind]
    (scanned,) = decode_qr_codes(signed, tmp_path)
    public_id, token = split_qr_text(scanned)
    keys = {jwk["kid"]: _public_key_from_jwk(jwk) for jwk in public_jwks()["keys"]}
    claims = verify_payload(token, keys)
    assert claims == {name: qr_claims(snapshot)[name] for name in QR_FIELDS}
    assert claims["id"] == public_id
    assert claims["n"] == snapshot.number
    assert claims["u"] == snapshot.valid_until.isoformat()


def test_the_payload_never_carries_the_cin_or_cnss_number(issued):
    for snapshot, _url, token, *_rest in issued.values():
        claims_text = b64url_decode(token.split(".")[2]).decode()
        assert snapshot.holder.cin not in claims_text
        assert snapshot.holder.cnss_number not in claims_text


def test_the_qr_code_is_a_low_version_at_error_correction_m(issued):
    for _snapshot, url, token, *_rest in issued.values():
        assert token.startswith("DMN2.")
        assert qr_version(url) <= 12


@pytest.mark.parametrize("kind", KINDS)
def test_the_printed_qr_code_decodes_from_a_100_dpi_scan_and_after_a_1_px_blur(kind, issued, tmp_path):
    """A photocopy or a cheap scanner: 100 dpi, then the same scan blurred by one pixel."""
    _snapshot, url, *_rest, signed = issued[kind]
    source = tmp_path / "doc.pdf"
    source.write_bytes(signed)
    subprocess.run(["pdftoppm", "-r", "100", "-png", "-singlefile", str(source), str(tmp_path / "page")], check=True)
    page = Image.open(tmp_path / "page.png").convert("L")
    for image in (page, page.filter(ImageFilter.GaussianBlur(1)), page.filter(ImageFilter.BoxBlur(1))):
        found = [r.text for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode]
        assert found and set(found) == {url}


def test_a_changed_claim_fails_verification(issued):
    _snapshot, _url, token, *_rest = issued["employment"]
    prefix, kid, claims, signature = token.split(".")
    changed = json.loads(b64url_decode(claims))
    changed[QR_FIELDS.index("u")] = 20300101
    forged = ".".join([prefix, kid, b64url(json.dumps(changed).encode()), signature])
    with pytest.raises(PayloadError) as error:
        verify_payload(forged)
    assert error.value.code == "bad_signature"


def test_one_changed_character_fails_verification(issued):
    _snapshot, _url, token, *_rest = issued["annual_salary"]
    position = token.index(".", 6) + 10
    swapped = "A" if token[position] != "A" else "B"
    with pytest.raises(PayloadError):
        verify_payload(token[:position] + swapped + token[position + 1 :])


def test_a_payload_signed_by_another_key_fails_verification(issued):
    _snapshot, _url, token, *_rest = issued["employment"]
    impostor = ec.generate_private_key(ec.SECP256R1()).public_key()
    with pytest.raises(PayloadError) as error:
        verify_payload(token, {token.split(".")[1]: impostor})
    assert error.value.code == "bad_signature"


@pytest.mark.parametrize(
    ("token", "code"),
    [
        ("", "malformed"),
        ("hello", "malformed"),
        ("DMN1.zz.abc.def", "malformed"),
        ("DMN9.0123456789abcdef.e30." + "A" * 86, "unsupported_version"),
        ("DMN1.0123456789abcdef.e30." + "A" * 86, "unknown_key"),
        ("DMN1.0123456789abcdef.e30." + "A" * 5000, "malformed"),
    ],
)
def test_malformed_and_unknown_payloads_are_refused_with_a_reason(token, code):
    with pytest.raises(PayloadError) as error:
        verify_payload(token)
    assert error.value.code == code


def test_payloads_signed_before_a_key_rotation_still_verify(tmp_path, signing_dir, signing_settings):
    directory = tmp_path / "rotating"
    signing.create_dev_pki(directory)
    signing.create_qr_key(directory / "qr-keys")
    claims = qr_claims(sample_snapshot("employment"))
    with signing_settings(directory):
        old = sign_payload(claims)
        signing.create_qr_key(directory / "qr-keys")
        # A process started after the rotation signs with the new key.
        qrpayload.reset_key_cache()
        new = sign_payload(claims)
        assert old.split(".")[1] != new.split(".")[1]
        assert verify_payload(old) == claims
        assert verify_payload(new) == claims
        assert {jwk["kid"] for jwk in public_jwks()["keys"]} == {old.split(".")[1], new.split(".")[1]}


def test_a_retired_key_kept_as_public_only_still_verifies(tmp_path, signing_settings):
    directory = tmp_path / "retired"
    signing.create_dev_pki(directory)
    kid, path = signing.create_qr_key(directory / "qr-keys")
    claims = qr_claims(sample_snapshot("affiliation"))
    with signing_settings(directory):
        token = sign_payload(claims)
        public_pem = qr_public_keys()[kid].public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        path.unlink()
        (directory / "qr-keys" / f"{kid}.pub.pem").write_bytes(public_pem)
        assert verify_payload(token) == claims


def _public_key_from_jwk(jwk: dict) -> ec.EllipticCurvePublicKey:
    assert jwk["kty"] == "EC" and jwk["crv"] == "P-256" and jwk["alg"] == "ES256"
    x = int.from_bytes(b64url_decode(jwk["x"]), "big")
    y = int.from_bytes(b64url_decode(jwk["y"]), "big")
    return ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
