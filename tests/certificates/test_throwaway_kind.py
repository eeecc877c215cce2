"""A certificate kind is one folder plus one registration (issue 22, docs/certificates.md "Adding a certificate kind").

``tests/certificates/throwaway_kind/`` is a kind no shipped code names. Registered by the fixture, it is
offered to the insured, issued with its own number prefix and PDF template, verified on the verify page, by
the API and offline from its QR code (signature checked with the published keys only), and it appears in the
certificate.json schema, the OpenAPI document and the offline verifier's page; unregistered, it is gone again.
"""

import io
import json
import subprocess

import jsonschema
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from certificates import registry
from certificates.machine_readable import extract_facts
from certificates.models import Certificate
from certificates.qrpayload import b64url_decode, public_jwks, split_qr_text, verify_payload
from certificates.services import certificate_issue
from tests.certificates.throwaway_kind import KIND
from tests.factories import seed_personas

pytestmark = pytest.mark.django_db


@pytest.fixture
def throwaway_kind():
    registry.register(KIND)
    yield KIND
    registry.unregister(KIND.value)


@pytest.fixture
def amina():
    return seed_personas("amina", today=timezone.localdate())["amina"]


@pytest.fixture
def issued(throwaway_kind, amina):
    return certificate_issue(insured=amina, kind=KIND.value)


def _qr_text(pdf: bytes, tmp_path) -> str:
    import zxingcpp
    from PIL import Image

    (tmp_path / "c.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", tmp_path / "c.pdf", tmp_path / "p"], check=True
    )
    return zxingcpp.read_barcodes(Image.open(next(tmp_path.glob("p*.png"))))[0].text


def _pdf_text(pdf: bytes, tmp_path) -> str:
    (tmp_path / "t.pdf").write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", tmp_path / "t.pdf", "-"], check=True, capture_output=True, text=True
    ).stdout
    return " ".join(text.replace("\u00a0", " ").split())


def _published_keys() -> dict:
    """The QR seal keys as an offline verifier has them: from the JWK Set, nothing else."""
    keys = {}
    for jwk in public_jwks()["keys"]:
        x, y = (int.from_bytes(b64url_decode(jwk[c]), "big") for c in ("x", "y"))
        keys[jwk["kid"]] = ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
    return keys


def test_the_kind_is_issued_with_its_prefix_template_and_facts(issued, amina, tmp_path):
    certificate = Certificate.objects.get(pk=issued.pk)
    assert certificate.kind == "test_seniority" and certificate.insured == amina
    assert certificate.number.startswith(f"ZT-{timezone.localdate().year}-")
    assert certificate.get_kind_display() == "Seniority certificate"
    facts = certificate.snapshot["facts"]
    assert facts["registered_on"] == amina.registered_on.isoformat() and facts["employers"] >= 1
    pdf = bytes(certificate.file.data)
    text = _pdf_text(pdf, tmp_path)
    assert "Attestation d'ancienneté" in text and f"{facts['years']} années d'ancienneté" in text
    # The embedded certificate.json validates against the published schema, with the kind's own fragment.
    embedded = extract_facts(pdf)
    assert embedded["kind"] == "test_seniority" and embedded["facts"] == facts
    jsonschema.validate(embedded, registry_schema := _schema())
    broken = {**embedded, "facts": {**facts, "years": "many"}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, registry_schema)


def _schema() -> dict:
    from certificates.machine_readable import schema

    return schema()


def test_the_insured_is_offered_the_kind_and_its_rules_decide(throwaway_kind, amina, client, django_user_model):
    user = django_user_model.objects.create_user(username=amina.cnss_number, password="x" * 20, insured=amina)
    client.force_login(user)
    page = client.get(reverse("certificates:index")).content.decode()
    assert "Seniority certificate" in page and "States since when you are registered with the fund." in page
    response = client.post(reverse("certificates:request", args=["test_seniority"]), {})
    certificate = Certificate.objects.get(insured=amina, kind="test_seniority")
    assert response.status_code == 302 and certificate.public_id in response["Location"]


def test_the_verify_page_and_the_api_show_the_kind_and_its_key_facts(issued, client):
    page = client.get(reverse("verification:certificate", args=[issued.public_id])).content.decode()
    assert "<h1>Genuine and valid certificate</h1>" in page
    assert "Seniority certificate" in page
    # The kind's facts partial (facts.html of its folder), fed by its presenter.
    years = issued.snapshot["facts"]["years"]
    assert f"<dt>Seniority (years)</dt><dd>{years}</dd>" in page

    body = client.get("/api/v1/verify", {"code": issued.verification_code}).json()
    assert body["genuine"] is True and body["state"] == "valid"
    assert body["type"] == "test_seniority" and body["number"] == issued.number
    assert body["facts"]["seniority_years"] == years


def test_the_qr_code_verifies_offline_with_the_published_keys(issued, tmp_path):
    text = _qr_text(bytes(issued.file.data), tmp_path)
    public_id, token = split_qr_text(text)
    assert public_id == issued.public_id
    claims = verify_payload(token, _published_keys())
    assert claims["k"] == "Z" and claims["n"] == issued.number and claims["id"] == issued.public_id
    assert registry.by_code(claims["k"]) is KIND
    # One byte changed in the signed claims: refused.
    head, claims_part, signature = token.rsplit(".", 2)
    forged = f"{head}.{claims_part[:-2]}{'A' if claims_part[-2] != 'A' else 'B'}{claims_part[-1]}.{signature}"
    with pytest.raises(ValueError):
        verify_payload(forged, _published_keys())


def test_the_command_line_verifier_accepts_the_pdf(issued, tmp_path):
    path = tmp_path / f"{issued.number}.pdf"
    path.write_bytes(bytes(issued.file.data))
    out = io.StringIO()
    call_command("verify_certificate", "--json", str(path), stdout=out, stderr=io.StringIO())  # exit 0
    report = json.loads(out.getvalue())
    assert report["genuine"] is True and report["state"] == "valid"
    assert report["certificate"]["kind"] == "test_seniority" and report["certificate"]["number"] == issued.number


def test_the_schema_the_openapi_and_the_offline_page_publish_the_kind(throwaway_kind, client):
    schema = client.get("/api/v1/schemas/certificate.json").json()
    assert "test_seniority" in schema["properties"]["kind"]["enum"]
    assert schema["$defs"]["test_seniority"]["required"] == ["registered_on", "years", "employers"]
    assert {
        "if": {"properties": {"kind": {"const": "test_seniority"}}},
        "then": {"properties": {"facts": {"$ref": "#/$defs/test_seniority"}}},
    } in schema["allOf"]

    openapi = client.get("/api/v1/openapi.json").json()
    genuine = openapi["paths"]["/api/v1/verify"]["get"]["responses"]["200"]["content"]["application/json"]
    assert "test_seniority" in genuine["schema"]["oneOf"][0]["properties"]["type"]["enum"]

    page = client.get(reverse("verification:offline")).content.decode()
    start = page.index('<script id="offline-kinds" type="application/json">')
    published = json.loads(page[page.index(">", start) + 1 : page.index("</script>", start)])
    assert published["Z"] == "Seniority certificate" and published["E"]


def test_unregistered_the_kind_is_gone_everywhere(throwaway_kind, client):
    registry.unregister(KIND.value)
    schema = client.get("/api/v1/schemas/certificate.json").json()
    assert "test_seniority" not in schema["properties"]["kind"]["enum"]
    assert "test_seniority" not in schema["$defs"]
    assert client.get(reverse("certificates:request", args=["test_seniority"])).status_code in (302, 404)


def test_the_registry_refuses_a_taken_letter_prefix_or_value(throwaway_kind):
    import dataclasses

    for change in (
        {"value": "other_kind", "code": "E"},
        {"value": "other_kind", "number_prefix": "AT"},
        {"label": "Another label"},
    ):
        with pytest.raises(ValueError):
            registry.register(dataclasses.replace(KIND, **change))
    with pytest.raises(ValueError):
        dataclasses.replace(KIND, value="other_kind", code="ZZ")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_offline_verifier_in_chromium_names_the_kind(throwaway_kind, amina, live_server, monkeypatch, tmp_path):
    """The JavaScript verifier, network cut, labels the kind from what the page published."""
    from playwright.sync_api import sync_playwright

    from tests.verification.test_offline_browser import CHROMIUM_ARGS, load, verify

    certificate = certificate_issue(insured=amina, kind=KIND.value)
    text = _qr_text(bytes(certificate.file.data), tmp_path)
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 390, "height": 844})
            page = context.new_page()
            load(page, live_server)
            context.set_offline(True)
            result = verify(page, text)
        finally:
            browser.close()
    assert "Genuine and valid certificate." in result
    assert "Seniority certificate" in result and certificate.number in result
