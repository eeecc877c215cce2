"""Machine-readable certificates: certificate.json inside the signed PDF, its published schema, its readers."""

import io
import json
import re
import subprocess

import jsonschema
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from pypdf import PdfReader

from certificates.machine_readable import certificate_json_bytes
from certificates.samples import all_samples
from verification.pdfcheck import check_pdf

pytestmark = pytest.mark.django_db

SCHEMA_URL = "/api/v1/schemas/certificate.json"


def published_schema(client) -> dict:
    response = client.get(SCHEMA_URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/schema+json"
    schema = json.loads(response.content)
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def pdf_of(certificate) -> bytes:
    return bytes(certificate.file.data)


def test_the_schema_has_a_stable_url_under_api_v1(client):
    assert reverse("api:certificate_schema") == SCHEMA_URL
    assert published_schema(client)["$id"] == SCHEMA_URL


def test_pypdf_extracts_certificate_json_and_it_follows_the_published_schema(client, certificate):
    reader = PdfReader(io.BytesIO(pdf_of(certificate)))
    [data] = reader.attachments["certificate.json"]
    facts = json.loads(data)
    jsonschema.validate(facts, published_schema(client), cls=jsonschema.Draft202012Validator)
    assert facts["number"] == certificate.number and facts["public_id"] == certificate.public_id
    assert facts["kind"] == "employment"
    assert facts["facts"] == certificate.snapshot["facts"]
    assert facts["holder"]["cnss_number"] == "100234561"  # printed on the page too
    assert facts["$schema"].endswith(SCHEMA_URL)


def test_the_json_is_a_pdf_a_3_associated_file_and_the_file_claims_pdf_a_3a(certificate):
    reader = PdfReader(io.BytesIO(pdf_of(certificate)))
    root = reader.trailer["/Root"]
    [spec] = [ref.get_object() for ref in root["/AF"]]
    assert spec["/AFRelationship"] == "/Data"
    assert spec["/UF"] == "certificate.json" and spec["/F"] == "certificate.json"
    stream = spec["/EF"]["/F"].get_object()
    assert stream["/Subtype"] == "/application/json"
    assert "/ModDate" in stream["/Params"]
    assert reader.pdf_header == "%PDF-1.7"
    xmp = root["/Metadata"].get_object().get_data()
    assert re.search(rb'pdfaid:part(="3"|>3<)', xmp) and re.search(rb'pdfaid:conformance(="A"|>A<)', xmp)


def test_the_signature_covers_the_embedded_file(certificate, tmp_path):
    pdf = pdf_of(certificate)
    path = tmp_path / "c.pdf"
    path.write_bytes(pdf)
    report = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True).stdout
    assert "Total document signed" in report and "Signature is Valid." in report
    # One byte changed inside the embedded file's stream breaks the signature.
    reader = PdfReader(io.BytesIO(pdf))
    number = reader.trailer["/Root"]["/AF"][0].get_object()["/EF"].raw_get("/F").idnum
    start = pdf.rindex(b"\n%d 0 obj" % number)
    body = pdf.index(b"stream", start) + len(b"stream\n") + 8
    tampered = pdf[:body] + bytes([pdf[body] ^ 0x01]) + pdf[body + 1 :]
    verdict = check_pdf(tampered)
    assert verdict.signed and not verdict.signature_intact and not verdict.genuine
    assert verdict.embedded_facts is None


def test_every_kind_follows_the_schema(client):
    schema = published_schema(client)
    for snapshot in all_samples():
        jsonschema.validate(json.loads(certificate_json_bytes(snapshot)), schema, cls=jsonschema.Draft202012Validator)


def test_the_schema_refuses_facts_of_the_wrong_shape(client, certificate):
    schema = published_schema(client)
    [data] = PdfReader(io.BytesIO(pdf_of(certificate))).attachments["certificate.json"]
    facts = json.loads(data)
    facts["facts"]["days"] = "twenty-six"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(facts, schema, cls=jsonschema.Draft202012Validator)


def test_verify_certificate_json_prints_the_verified_facts(certificate, tmp_path, capsys):
    good = tmp_path / "good.pdf"
    good.write_bytes(pdf_of(certificate))
    call_command("verify_certificate", "--json", str(good))
    report = json.loads(capsys.readouterr().out)
    assert report["genuine"] is True and report["state"] == "valid"
    assert report["certificate"]["number"] == certificate.number
    assert report["certificate"]["facts"]["employer"]["name"] == "MAROC DIGITAL SERVICES SA"
    assert all(report["checks"].values())


def test_verify_certificate_json_prints_no_facts_for_a_file_the_portal_did_not_issue(certificate, tmp_path, capsys):
    altered = tmp_path / "altered.pdf"
    altered.write_bytes(pdf_of(certificate) + b"\n%extra\n")
    with pytest.raises(SystemExit) as exit_code:
        call_command("verify_certificate", "--json", str(altered))
    assert exit_code.value.code == 1
    report = json.loads(capsys.readouterr().out)
    assert report == {**report, "genuine": False, "state": None, "certificate": None}


def test_the_upload_page_shows_the_embedded_facts_without_the_full_identifiers(client, certificate):
    upload = SimpleUploadedFile("c.pdf", pdf_of(certificate), content_type="application/pdf")
    response = client.post(reverse("verification:pdf"), {"pdf": upload})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Facts carried in the file" in body
    assert "&quot;reference_period&quot;" in body and certificate.number in body
    assert SCHEMA_URL in body
    assert "BE123456" not in body and "100234561" not in body


def test_the_upload_page_shows_no_embedded_facts_for_a_file_it_did_not_issue(client, certificate):
    upload = SimpleUploadedFile("c.pdf", pdf_of(certificate) + b"\n", content_type="application/pdf")
    body = client.post(reverse("verification:pdf"), {"pdf": upload}).content.decode()
    assert "Facts carried in the file" not in body
