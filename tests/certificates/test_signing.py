import hashlib
import stat
from io import BytesIO

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.core.management import CommandError, call_command
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from certificates import signing
from certificates.rendering import SIGNATURE_BOX, render_certificate_pdf
from certificates.samples import sample_snapshot


def validate(pdf: bytes, root_cert_path):
    context = ValidationContext(trust_roots=[load_cert_from_pemder(str(root_cert_path))])
    reader = PdfFileReader(BytesIO(pdf))
    assert len(reader.embedded_signatures) == 1
    return validate_pdf_signature(reader.embedded_signatures[0], context)


def flip_one_signed_byte(pdf: bytes) -> bytes:
    """Change one byte of page content, inside the first signed byte range."""
    offset = pdf.index(b"stream", 2000) + 40
    return pdf[:offset] + bytes([pdf[offset] ^ 0x01]) + pdf[offset + 1 :]


def test_pyhanko_finds_the_signature_intact_valid_and_trusted_over_the_whole_file(issued, root_cert_path):
    *_rest, signed = issued["employment"]
    status = validate(signed, root_cert_path)
    assert status.intact
    assert status.valid
    assert status.trusted
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert status.signing_cert.subject.native["organization_name"] == "Caisse Nationale de Sécurité Sociale"


def test_it_is_a_pades_baseline_signature_with_a_visible_stamp_in_the_reserved_box(issued):
    *_rest, signed = issued["affiliation"]
    reader = PdfFileReader(BytesIO(signed))
    signature = reader.embedded_signatures[0]
    assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    widget = signature.sig_field
    rect = [float(v) for v in widget["/Rect"]]
    assert rect == pytest.approx(list(SIGNATURE_BOX), abs=0.01)
    assert "/AP" in widget  # an appearance stream: the signature is visible


def test_the_signed_file_stays_a_pdf_1_7_for_pdf_a_2(issued):
    *_rest, signed = issued["affiliation"]
    reader = PdfFileReader(BytesIO(signed))
    assert reader.root.get("/Version") in (None, "/1.7")
    assert "/ESIC" in reader.root["/Extensions"]


def test_one_changed_byte_breaks_the_signature(issued, root_cert_path):
    *_rest, signed = issued["employment"]
    status = validate(flip_one_signed_byte(signed), root_cert_path)
    assert not status.intact
    assert not status.bottom_line


def test_an_untrusted_root_makes_the_signature_untrusted(issued, tmp_path):
    *_rest, signed = issued["employment"]
    other = tmp_path / "other"
    signing.create_dev_pki(other)
    status = validate(signed, other / "root-ca.pem")
    assert status.intact
    assert not status.trusted


def test_poppler_reports_the_signature_valid(issued, poppler):
    *_rest, signed = issued["declared_days"]
    report = poppler("pdfsig", signed)
    assert "Signature Validation: Signature is Valid." in report
    assert "Total document signed" in report
    assert "ETSI.CAdES.detached" in report


def test_poppler_reports_a_changed_file_invalid(issued, poppler):
    *_rest, signed = issued["declared_days"]
    report = poppler("pdfsig", flip_one_signed_byte(signed))
    assert "Signature Validation: Signature is Valid." not in report


def test_with_a_timestamp_authority_the_signature_is_b_t(signing_dir, signing_settings, tsa_url, root_cert_path):
    with signing_settings(signing_dir, DAMANE_TSA_URL=tsa_url):
        signed = signing.sign_pdf(render_certificate_pdf(sample_snapshot("employment"), qr_payload_url="x"))
    status = validate(signed, root_cert_path)
    assert status.bottom_line
    assert status.timestamp_validity is not None
    assert status.timestamp_validity.intact and status.timestamp_validity.valid
    assert status.timestamp_validity.trusted


def test_without_a_timestamp_authority_the_signature_is_b_b(issued, root_cert_path):
    *_rest, signed = issued["employment"]
    assert validate(signed, root_cert_path).timestamp_validity is None


def test_the_signing_key_id_is_the_sha256_of_the_public_key(signing_dir):
    cert = x509.load_pem_x509_certificate((signing_dir / "signing-cert.pem").read_bytes())
    der = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert signing.signing_key_id() == hashlib.sha256(der).hexdigest()[:16]


def test_the_signing_certificate_is_for_signatures_only_and_issued_by_the_root(signing_dir):
    cert = x509.load_pem_x509_certificate((signing_dir / "signing-cert.pem").read_bytes())
    root = x509.load_pem_x509_certificate((signing_dir / "root-ca.pem").read_bytes())
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment
    assert not usage.key_cert_sign
    assert cert.issuer == root.subject
    cert.verify_directly_issued_by(root)
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_init_signing_writes_private_files_and_never_overwrites_them(tmp_path, signing_settings):
    directory = tmp_path / "keys"
    with signing_settings(directory):
        call_command("init_signing", stdout=BytesIOText())
        files = sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file())
        assert {"root-ca-key.pem", "root-ca.pem", "signing-cert.pem", "signing-key.pem", "qr-keys/current"} <= set(
            files
        )
        kid = (directory / "qr-keys" / "current").read_text().strip()
        assert f"qr-keys/{kid}.pem" in files
        for path in directory.rglob("*"):
            if path.is_file():
                assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        before = (directory / "signing-key.pem").read_bytes()
        with pytest.raises(CommandError):
            call_command("init_signing", stdout=BytesIOText())
        assert (directory / "signing-key.pem").read_bytes() == before
        call_command("init_signing", "--force", stdout=BytesIOText())
        assert (directory / "signing-key.pem").read_bytes() != before


def test_the_first_signature_creates_development_keys_when_allowed(tmp_path, signing_settings, root_cert_path):
    directory = tmp_path / "auto"
    with signing_settings(directory, DAMANE_SIGNING_AUTO_CREATE=True):
        signed = signing.sign_pdf(render_certificate_pdf(sample_snapshot("employment"), qr_payload_url="x"))
        assert (directory / "signing-key.pem").exists()
        assert (directory / "qr-keys" / "current").exists()
    assert validate(signed, directory / "root-ca.pem").trusted
    assert not validate(signed, root_cert_path).trusted


def test_missing_production_keys_are_an_error_not_a_new_key(tmp_path, signing_settings):
    directory = tmp_path / "absent"
    with signing_settings(directory, DAMANE_SIGNING_AUTO_CREATE=False), pytest.raises(signing.SigningError):
        signing.sign_pdf(b"%PDF-1.7")
    assert not directory.exists()


def test_an_encrypted_key_is_read_with_the_configured_passphrase(tmp_path, signing_settings, poppler):
    directory = tmp_path / "locked"
    signing.create_dev_pki(directory, passphrase="correct horse battery staple")
    assert b"ENCRYPTED" in (directory / "signing-key.pem").read_bytes()
    with signing_settings(directory, DAMANE_SIGNING_KEY_PASSPHRASE="correct horse battery staple"):
        signed = signing.sign_pdf(render_certificate_pdf(sample_snapshot("affiliation"), qr_payload_url="x"))
    assert "Signature is Valid." in poppler("pdfsig", signed)


def test_the_room_for_the_signature_is_learnt_once_then_reused(signing_dir, signing_settings, root_cert_path):
    unsigned = render_certificate_pdf(sample_snapshot("employment"), qr_payload_url="x")
    with signing_settings(signing_dir):
        signing._reserved.clear()
        first = signing.sign_pdf(unsigned)
        (learnt,) = signing._reserved.values()
        second = signing.sign_pdf(unsigned)
    # pyHanko's estimate: a dummy signature plus half again, so every later signature fits.
    assert learnt == signing._reserved_size(first) == signing._reserved_size(second)
    cms = PdfFileReader(BytesIO(second)).embedded_signatures[0].signed_data.dump()
    assert len(cms) * 2 * 1.4 < learnt
    assert validate(first, root_cert_path).bottom_line
    assert validate(second, root_cert_path).bottom_line


def test_a_signature_larger_than_the_room_learnt_is_signed_again_with_a_new_estimate(
    signing_dir, signing_settings, root_cert_path
):
    unsigned = render_certificate_pdf(sample_snapshot("employment"), qr_payload_url="x")
    with signing_settings(signing_dir):
        signing._reserved.clear()
        signing.sign_pdf(unsigned)
        (key,) = signing._reserved
        signing._reserved[key] = 200
        signed = signing.sign_pdf(unsigned)
        assert signing._reserved[key] > 200
    assert validate(signed, root_cert_path).bottom_line


def test_the_stamp_is_rendered_and_parsed_once_a_day_and_imported_into_each_file(issued):
    signing._stamp_reader.cache_clear()
    unsigned = render_certificate_pdf(sample_snapshot("employment"), qr_payload_url="x")
    files = [signing.sign_pdf(unsigned) for _ in range(3)]
    assert signing._stamp_reader.cache_info().misses == 1
    assert signing._stamp_reader.cache_info().hits == 2
    for signed in files:
        widget = PdfFileReader(BytesIO(signed)).embedded_signatures[0].sig_field
        stamp = widget["/AP"]["/N"]["/Resources"]["/XObject"]["/Stamp"].get_object()
        fonts = stamp["/Resources"]["/Font"]
        names = {str(font.get_object()["/BaseFont"]).split("+")[1] for font in fonts.values()}
        assert names >= {"Noto-Sans", "Noto-Naskh-Arabic"}


class BytesIOText:
    """A stdout for call_command that keeps nothing."""

    def write(self, text):
        return len(text)

    def flush(self):
        pass


def test_sign_bytes_is_es256_with_the_document_signing_key_for_other_formats(signing_dir):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    data = b"eyJhbGciOiJFUzI1NiJ9.eyJyZWNlaXB0IjoxfQ"
    raw = signing.sign_bytes(data)
    assert len(raw) == 64
    chain = signing.signing_certificate_chain()
    assert chain[0] == x509.load_pem_x509_certificate((signing_dir / "signing-cert.pem").read_bytes())
    assert chain[-1] == x509.load_pem_x509_certificate((signing_dir / "root-ca.pem").read_bytes())
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    chain[0].public_key().verify(der, data, ec.ECDSA(hashes.SHA256()))
    from cryptography.exceptions import InvalidSignature

    with pytest.raises(InvalidSignature):
        chain[0].public_key().verify(der, data + b".", ec.ECDSA(hashes.SHA256()))
