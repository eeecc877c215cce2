"""A QR text names its certificate twice, in the address and in the signed payload:
the two must agree wherever a QR text is read, or the answer is "not genuine"
(docs/security.md §22, issue 8)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from certificates.qrpayload import qr_url, split_qr_text, verify_payload
from certificates.services import certificate_issue
from verification.services import read_qr_text

pytestmark = pytest.mark.django_db

SITE = "https://damane.cnss.ma"


@pytest.fixture
def other(amina):
    """Certificate B: another genuine certificate of the same person."""
    return certificate_issue(insured=amina, kind="affiliation")


def grafted(qr_text, public_id):
    """Certificate A's payload behind certificate B's address (or a made-up one)."""
    _a_id, a_payload = split_qr_text(qr_text)
    return f"{SITE}/verify/{public_id}#{a_payload}"


def test_the_rule_accepts_a_genuine_text_and_a_payload_alone(certificate, qr_text):
    _public_id, payload = split_qr_text(qr_text)
    assert read_qr_text(qr_text)["id"] == certificate.public_id
    assert read_qr_text(payload)["n"] == certificate.number


def test_the_rule_refuses_a_payload_behind_another_address(certificate, other, qr_text):
    assert read_qr_text(grafted(qr_text, other.public_id)) is None
    assert read_qr_text(grafted(qr_text, "MadeUpCertificateId0001")) is None
    assert read_qr_text(f"{SITE}/elsewhere/{certificate.public_id}#{split_qr_text(qr_text)[1]}") is None


@pytest.mark.parametrize("target", ["other", "made-up"])
def test_the_api_says_not_genuine_for_a_grafted_qr_text(client, certificate, other, qr_text, target):
    public_id = other.public_id if target == "other" else "MadeUpCertificateId0001"
    text = grafted(qr_text, public_id)
    by_get = client.get(reverse("api:verify"), {"token": text})
    by_post = client.post(reverse("api:verify"), json.dumps({"token": text}), content_type="application/json")
    for response in (by_get, by_post):
        assert response.status_code == 200
        assert response.content == b'{"genuine": false}'
    # The genuine text still verifies.
    assert client.get(reverse("api:verify"), {"token": qr_text}).json()["number"] == certificate.number


def test_the_verify_page_takes_a_pasted_qr_text_and_refuses_a_grafted_one(client, certificate, other, qr_text):
    genuine = client.post(reverse("verification:index"), {"code": qr_text})
    assert genuine.status_code == 200 and certificate.number in genuine.content.decode()
    refused = client.post(reverse("verification:index"), {"code": grafted(qr_text, other.public_id)})
    assert refused.status_code == 404
    body = refused.content.decode()
    assert "No certificate matches" in body
    assert certificate.number not in body and other.number not in body


def test_the_verify_page_carries_what_its_address_check_needs(client, certificate):
    body = client.get(f"/verify/{certificate.public_id}").content.decode()
    assert f'data-public-id="{certificate.public_id}"' in body
    assert "js/verify-page.js" in body and "Not genuine: altered QR code" in body


def _issue_with_qr_text(certificate, text):
    """The fund signs a PDF whose QR code carries ``text`` and records it as this certificate's file
    (what an issuing bug would produce): everything but the QR code checks out."""
    import hashlib

    from certificates.documents import CertificateSnapshot
    from certificates.rendering import render_certificate_pdf
    from certificates.signing import sign_pdf

    pdf = sign_pdf(render_certificate_pdf(CertificateSnapshot.from_dict(certificate.snapshot), qr_payload_url=text))
    certificate.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
    certificate.save(update_fields=["pdf_sha256"])
    certificate.file.data = pdf
    certificate.file.save(update_fields=["data"])
    return pdf


def test_the_pdf_upload_reads_the_printed_qr_code_and_refuses_a_grafted_one(client, certificate, other, qr_text):
    upload = lambda data: client.post(  # noqa: E731
        reverse("verification:pdf"), {"pdf": SimpleUploadedFile("c.pdf", data, "application/pdf")}
    ).content.decode()
    body = upload(bytes(certificate.file.data))
    assert "Genuine and valid certificate" in body and "Its QR code names this same certificate." in body
    pdf = _issue_with_qr_text(certificate, grafted(qr_text, other.public_id))
    body = upload(pdf)
    assert "not a certificate issued by the fund" in body
    assert "Its QR code does not name this certificate." in body
    assert "The file is exactly the one the portal issued." in body


def test_the_command_line_refuses_a_grafted_qr_code(certificate, other, qr_text, tmp_path, capsys):
    path = tmp_path / "grafted.pdf"
    path.write_bytes(_issue_with_qr_text(certificate, grafted(qr_text, other.public_id)))
    with pytest.raises(SystemExit) as exit_info:
        call_command("verify_certificate", str(path))
    assert exit_info.value.code == 1
    out = capsys.readouterr()
    assert "FAIL QR code names this certificate" in out.out
    assert "QR code names this certificate: FAIL" in out.err


def test_a_pdf_whose_qr_code_is_a_payload_alone_is_refused(certificate, qr_text):
    from verification.pdfcheck import check_pdf

    _issue_with_qr_text(certificate, split_qr_text(qr_text)[1])
    verdict = check_pdf(bytes(certificate.file.data))
    assert verdict.signature_ok and verdict.issued_here and not verdict.qr_matches and not verdict.genuine


def test_every_issued_certificate_prints_a_qr_code_naming_itself(amina):
    """Issuing and reading agree: the QR code a phone reads is the certificate's own address and payload."""
    from verification.pdfcheck import qr_texts

    for kind in ("employment", "affiliation", "declared_days"):
        certificate = certificate_issue(insured=amina, kind=kind)
        (text,) = qr_texts(bytes(certificate.file.data))
        _public_id, payload = split_qr_text(text)
        assert text == qr_url(certificate.public_id, payload)
        assert verify_payload(payload)["id"] == certificate.public_id


# --- verify_certificate's stderr: one clear line, no traceback ---------------------------------


def _run_command(path: Path) -> subprocess.CompletedProcess:
    """The command in its own process, as an operator runs it: what reaches stderr is what they see."""
    db = settings.DATABASES["default"]
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DAMANE_SIGNING_CHAIN_PATHS": str(settings.DAMANE_SIGNING_CHAIN_PATHS[0]),
        "DJANGO_DEBUG": "true",
    }
    manage = Path(settings.BASE_DIR) / "manage.py"
    return subprocess.run(
        [sys.executable, str(manage), "verify_certificate", str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"], reason="the command reads the test database"
)
@pytest.mark.parametrize("damage", ["one-byte", "junk", "truncated"])
def test_the_command_line_says_why_in_one_line_without_a_traceback(certificate, tmp_path, damage):
    data = bytearray(bytes(certificate.file.data))
    if damage == "one-byte":
        data[len(data) // 2] ^= 0x01
    elif damage == "junk":
        data = bytearray(b"%PDF-1.7\n" + os.urandom(3000))
    else:
        data = data[:4000]
    path = tmp_path / "c.pdf"
    path.write_bytes(bytes(data))
    result = _run_command(path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"{path}: not a genuine, valid certificate:")
