"""The seventh type, the treaty cumulative-periods certificate, through the same checks as the six others.

Issued for real by the treaties service (Hassan AMRANI's declarations and French
periods approved by a second officer), then: pyHanko and pdfsig on the signature,
the printed QR code read by ZXing and checked offline, the verify page and the
PDF upload, and the bilingual text read back with pdftotext.
"""

import copy
import dataclasses
import re
from datetime import date
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.general import load_cert_from_pemder
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from accounts.models import User
from casework.models import CaseKind
from casework.services import case_create
from certificates.documents import CertificateSnapshot
from certificates.qrpayload import QR_FIELDS, public_jwks, qr_claims, split_qr_text, verify_payload
from certificates.rendering import render_certificate_pdf
from certificates.samples import sample_snapshot
from tests.backoffice.conftest import PDF, make_staff
from tests.certificates.test_qr import _public_key_from_jwk, decode_qr_codes
from tests.factories import seed_personas
from treaties import services
from treaties.conventions import ensure_conventions
from treaties.models import Convention
from treaties.services import PeriodInput

pytestmark = pytest.mark.django_db


@pytest.fixture
def treaty_certificate(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"
    today = date.today()
    hassan = seed_personas("hassan", today=today)["hassan"]
    case = case_create(insured=hassan, kind=CaseKind.TREATY, details={"country": "FR", "periods": "1986-2003"})
    ensure_conventions()
    nadia, omar = make_staff("traites.nadia", "treaty"), make_staff("traites.omar", "treaty")
    version = services.periods_record(
        case=case,
        actor=nadia,
        convention=Convention.objects.get(country="FR"),
        periods=[PeriodInput("", date(1986, 3, 1), date(2003, 9, 30), "quarters", 69, "CNAV 0412-77")],
        document=SimpleUploadedFile("releve.pdf", PDF, content_type="application/pdf"),
    )
    services.periods_approve(version=version, actor=omar)
    return services.treaty_certificate_issue(case=case, actor=omar)


def validate(pdf: bytes, root_cert_path):
    context = ValidationContext(trust_roots=[load_cert_from_pemder(str(root_cert_path))])
    reader = PdfFileReader(BytesIO(pdf))
    assert len(reader.embedded_signatures) == 1
    return validate_pdf_signature(reader.embedded_signatures[0], context)


def test_pyhanko_finds_the_treaty_certificate_signed_by_the_fund_over_the_whole_file(
    treaty_certificate, root_cert_path
):
    status = validate(bytes(treaty_certificate.file.data), root_cert_path)
    assert status.intact and status.valid and status.trusted
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert status.signing_cert.subject.native["organization_name"] == "Caisse Nationale de Sécurité Sociale"


def test_pdfsig_reports_the_treaty_certificate_valid(treaty_certificate, poppler):
    report = poppler("pdfsig", bytes(treaty_certificate.file.data))
    assert "Signature is Valid" in report
    assert "ETSI.CAdES.detached" in report


def test_the_printed_qr_code_opens_its_verify_page_and_verifies_offline(treaty_certificate, tmp_path):
    (scanned,) = decode_qr_codes(bytes(treaty_certificate.file.data), tmp_path)
    public_id, token = split_qr_text(scanned)
    assert public_id == treaty_certificate.public_id
    keys = {jwk["kid"]: _public_key_from_jwk(jwk) for jwk in public_jwks()["keys"]}
    claims = verify_payload(token, keys)
    snapshot = CertificateSnapshot.from_dict(treaty_certificate.snapshot)
    assert claims == {name: qr_claims(snapshot)[name] for name in QR_FIELDS}
    assert claims["n"] == treaty_certificate.number
    assert qr_claims(snapshot)["f"]["c"] == "FR"


def test_the_verify_page_shows_the_type_and_totals_never_the_full_identifiers(client, treaty_certificate):
    response = client.get(reverse("verification:certificate", args=[treaty_certificate.public_id]))
    body = response.content.decode()
    totals = treaty_certificate.snapshot["facts"]["totals"]
    assert "Genuine and valid certificate" in body
    assert "Insurance periods certificate (treaty)" in body
    assert str(totals["total_days"]) in body
    assert "EE778899" not in body and "100901238" not in body


def test_the_uploaded_pdf_is_recognised_as_the_one_issued(client, treaty_certificate):
    data = bytes(treaty_certificate.file.data)
    response = client.post(reverse("verification:pdf"), {"pdf": SimpleUploadedFile("c.pdf", data, "application/pdf")})
    body = response.content.decode()
    assert "Genuine and valid certificate" in body
    assert "The file is exactly the one the portal issued." in body


def test_the_insured_downloads_it_from_my_certificates(client, treaty_certificate):
    account = User.objects.create_user(
        username=treaty_certificate.insured.cnss_number, password="x" * 14, insured=treaty_certificate.insured
    )
    client.force_login(account)
    page = client.get(reverse("certificates:index")).content.decode()
    assert treaty_certificate.number in page
    response = client.get(reverse("certificates:download", args=[treaty_certificate.public_id]))
    assert response.status_code == 200
    assert bytes(response.content) == bytes(treaty_certificate.file.data)


def test_the_document_states_both_countries_periods_and_the_totals_in_french_and_arabic(treaty_certificate, pdf_text):
    text = pdf_text(bytes(treaty_certificate.file.data))
    facts = treaty_certificate.snapshot["facts"]
    assert "Attestation de périodes" in text
    assert "شهادة فترات التأمين" in text
    assert "Caisse nationale d'assurance vieillesse (CNAV)" in text
    assert "CNAV 0412-77" in text
    assert "01/03/1986" in text and "30/09/2003" in text
    assert "Total retenu" in text and "المجموع المعتمد" in text
    total = f"{facts['totals']['total_days']:,}".replace(",", "\u202f")
    assert total in text or str(facts["totals"]["total_days"]) in text
    assert str(date.today().year) in text  # Moroccan quarters up to the last declared year


def test_the_sample_renders_as_pdf_a_3a_with_every_font_embedded(poppler):
    snapshot = sample_snapshot("treaty_periods")
    pdf = render_certificate_pdf(snapshot, qr_payload_url="https://damane.cnss.ma/verify/x")
    fonts = poppler("pdffonts", pdf)
    rows = fonts.splitlines()[2:]
    assert rows and all(" yes " in row for row in rows)
    xmp = PdfFileReader(BytesIO(pdf)).root["/Metadata"].get_object().data
    assert re.search(rb'pdfaid:part(="3"|>3<)', xmp)
    assert re.search(rb'pdfaid:conformance(="A"|>A<)', xmp)


def test_eighteen_moroccan_years_and_two_foreign_periods_fit_on_one_page_a_longer_career_continues(poppler):
    snapshot = sample_snapshot("treaty_periods")
    assert len(snapshot.facts["moroccan"]["years"]) == 18
    pdf = render_certificate_pdf(snapshot, qr_payload_url="https://damane.cnss.ma/verify/x")
    assert "Pages:           1" in poppler("pdfinfo", pdf)
    facts = copy.deepcopy(snapshot.facts)
    facts["moroccan"]["years"] = [
        {"year": year, "quarters": [78, 78, 78, 78], "total": 312} for year in range(1996, 2026)
    ]
    longer = dataclasses.replace(snapshot, facts=facts)
    pdf = render_certificate_pdf(longer, qr_payload_url="https://damane.cnss.ma/verify/x")
    assert "Pages:           2" in poppler("pdfinfo", pdf)
