"""Trusted time on every signature (PAdES B-T) and signatures that validate in ten years (B-LT):
issue 25, items 2 and 3, against a local RFC 3161 timestamp authority the tests start."""

import socket
import subprocess
import sys
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO

import pytest
from asn1crypto import crl as asn1_crl
from cryptography import x509
from django.urls import reverse
from django.utils import timezone
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from certificates import signing
from certificates.models import Certificate
from certificates.rendering import render_certificate_pdf
from certificates.samples import sample_snapshot
from tests.certificates.conftest import _TsaHandler
from tests.factories import seed_personas
from tests.test_deployment import ROOT, production_env


def render():
    return render_certificate_pdf(sample_snapshot("employment"), qr_payload_url="x")


@pytest.fixture
def stamped(signing_dir, signing_settings, tsa_url):
    """A certificate PDF signed in a B-T deployment (the session's key, the local TSA)."""
    with signing_settings(signing_dir, DAMANE_TSA_URL=tsa_url):
        signing.reset_material_cache()
        yield signing.sign_pdf(render())
    signing.reset_material_cache()


# --- B-T: the timestamp, checked by tools that are not ours ----------------------------------


def test_the_timestamp_in_the_pdf_is_valid_for_pdfsig_and_for_pyhanko_with_the_tsa_root_trusted(
    stamped, root_cert_path, poppler
):
    report = poppler("pdfsig", stamped)
    assert "Signature Validation: Signature is Valid." in report
    assert "Signature Type: ETSI.CAdES.detached" in report
    context = ValidationContext(trust_roots=[load_cert_from_pemder(str(root_cert_path))])
    status = validate_pdf_signature(PdfFileReader(BytesIO(stamped)).embedded_signatures[0], context)
    assert status.bottom_line
    assert status.timestamp_validity.intact and status.timestamp_validity.valid and status.timestamp_validity.trusted
    assert status.timestamp_validity.signing_cert.subject.native["common_name"] == "Test TSA"
    assert abs(status.timestamp_validity.timestamp - timezone.now()) < timedelta(minutes=5)


# --- A timestamp authority down or slow -----------------------------------------------------------


class FlakyTsa(BaseHTTPRequestHandler):
    """Answers 503 to the first ``failures`` requests (or sleeps ``delay`` s), then as the real TSA."""

    stamper = None
    failures = 0
    delay = 0.0
    requests = 0
    lock = threading.Lock()

    def do_POST(self):
        with FlakyTsa.lock:
            FlakyTsa.requests += 1
            fail = FlakyTsa.requests <= FlakyTsa.failures
        if fail and FlakyTsa.delay:
            time.sleep(FlakyTsa.delay)
        if fail:
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        _TsaHandler.do_POST(self)

    def log_message(self, *args):
        pass


@pytest.fixture
def flaky_tsa(tsa_url):
    """A TSA the test makes fail; it signs with the session TSA's key once it answers."""
    FlakyTsa.failures, FlakyTsa.delay, FlakyTsa.requests = 0, 0.0, 0
    FlakyTsa.stamper = _TsaHandler.stamper
    server = ThreadingHTTPServer(("127.0.0.1", 0), FlakyTsa)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/tsa"
    server.shutdown()
    server.server_close()


def test_a_tsa_that_fails_once_is_asked_again_and_the_signature_is_stamped(
    signing_dir, signing_settings, flaky_tsa, root_cert_path
):
    FlakyTsa.failures = 1
    with signing_settings(signing_dir, DAMANE_TSA_URL=flaky_tsa):
        signed = signing.sign_pdf(render())
    context = ValidationContext(trust_roots=[load_cert_from_pemder(str(root_cert_path))])
    status = validate_pdf_signature(PdfFileReader(BytesIO(signed)).embedded_signatures[0], context)
    assert status.timestamp_validity is not None and status.timestamp_validity.valid


@pytest.mark.parametrize("delay", [0.0, 1.5], ids=["down", "slow"])
def test_a_tsa_down_or_slow_twice_signs_nothing_rather_than_an_unstamped_pdf(
    signing_dir, signing_settings, flaky_tsa, delay
):
    FlakyTsa.failures, FlakyTsa.delay = 100, delay
    with signing_settings(signing_dir, DAMANE_TSA_URL=flaky_tsa, DAMANE_TSA_TIMEOUT_SECONDS=1):
        started = time.monotonic()
        with pytest.raises(signing.TimestampUnavailable):
            signing.sign_pdf(render())
    assert FlakyTsa.requests == 2  # asked once more, then gave up
    assert time.monotonic() - started < 10


@pytest.mark.django_db
def test_issuing_while_the_tsa_is_down_answers_503_try_again_in_a_minute_and_stores_nothing(
    client, django_user_model, signing_dir, signing_settings, flaky_tsa
):
    FlakyTsa.failures = 100
    amina = seed_personas("amina", today=timezone.localdate())["amina"]
    user = django_user_model.objects.create_user(username=amina.cnss_number, password="x" * 20, insured=amina)
    client.force_login(user)
    with signing_settings(signing_dir, DAMANE_TSA_URL=flaky_tsa):
        response = client.post(reverse("certificates:request", args=["affiliation"]), {}, HTTP_ACCEPT_LANGUAGE="ar")
    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    assert "يرجى المحاولة مرة أخرى بعد دقيقة" in response.content.decode()
    assert Certificate.objects.count() == 0


@pytest.mark.django_db
def test_readiness_names_the_timestamp_authority_when_it_does_not_answer(client, settings, flaky_tsa):
    FlakyTsa.failures = 100
    settings.DAMANE_TSA_URL = flaky_tsa
    response = client.get("/health/ready/")
    assert response.status_code == 503
    assert "timestamp authority unreachable" in response.json()["checks"]["TimestampAuthority"]
    assert response.json()["checks"]["SigningKey"] == "ok"
    # It asks the TSA each time: once it answers, readiness says so at once.
    FlakyTsa.failures = 0
    assert client.get("/health/ready/").json()["checks"]["TimestampAuthority"] == "ok"
    FlakyTsa.failures, FlakyTsa.requests = 100, 0
    assert client.get("/health/ready/").status_code == 503


# --- check --deploy -----------------------------------------------------------------------------------


def check_deploy(**extra) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=production_env(**extra), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    return result.stdout + result.stderr


def test_check_deploy_warns_when_a_file_key_signs_without_a_timestamp_authority():
    assert "damane.W002" in check_deploy()
    assert "damane.W002" not in check_deploy(DAMANE_TSA_URL="https://tsa.example.ma/")
    assert "damane.W002" not in check_deploy(DAMANE_SIGNING_PKCS11_MODULE="/usr/lib/softhsm/libsofthsm2.so")


# --- B-LT: validation material in the PDF, valid after the certificate expired --------------------


def test_the_dss_carries_the_chain_and_the_crl_of_the_issuing_ca(stamped, signing_dir):
    reader = PdfFileReader(BytesIO(stamped))
    dss = reader.root["/DSS"]
    root = x509.load_pem_x509_certificate((signing_dir / "root-ca.pem").read_bytes())
    crls = [asn1_crl.CertificateList.load(stream.get_object().data) for stream in dss["/CRLs"]]
    assert any(crl.issuer.native["common_name"] == signing.DEV_ROOT_CA_NAME for crl in crls)
    certs = [x509.load_der_x509_certificate(stream.get_object().data) for stream in dss["/Certs"]]
    assert root in certs
    seal = x509.load_pem_x509_certificate((signing_dir / "signing-cert.pem").read_bytes())
    assert seal in certs


@pytest.fixture
def network_off(monkeypatch):
    """Every connection attempt fails, as on a verifier's offline machine."""

    def refuse(*args, **kwargs):
        raise OSError("network off for this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_a_certificate_still_validates_offline_after_the_seal_certificate_expired(
    stamped, issued, root_cert_path, signing_dir, network_off
):
    import asyncio

    from pyhanko.sign.ades.report import AdESPassed
    from pyhanko.sign.validation.ades import simulate_future_ades_lta_validation
    from pyhanko.sign.validation.policy_decl import (
        PdfSignatureValidationSpec,
        RevinfoOnlineFetchingRule,
        RevocationInfoGatheringSpec,
        SignatureValidationSpec,
    )
    from pyhanko_certvalidator.context import CertValidationPolicySpec
    from pyhanko_certvalidator.policy_decl import CertRevTrustPolicy, RevocationCheckingPolicy, RevocationCheckingRule
    from pyhanko_certvalidator.registry import SimpleTrustManager

    seal = x509.load_pem_x509_certificate((signing_dir / "signing-cert.pem").read_bytes())
    later = seal.not_valid_after_utc + timedelta(days=365)
    policy = CertValidationPolicySpec(
        trust_manager=SimpleTrustManager.build(trust_roots=[load_cert_from_pemder(str(root_cert_path))]),
        revinfo_policy=CertRevTrustPolicy(
            RevocationCheckingPolicy(
                ee_certificate_rule=RevocationCheckingRule.CRL_REQUIRED,
                intermediate_ca_cert_rule=RevocationCheckingRule.CRL_REQUIRED,
            )
        ),
    )
    spec = PdfSignatureValidationSpec(
        SignatureValidationSpec(
            cert_validation_policy=policy,
            revinfo_gathering_policy=RevocationInfoGatheringSpec(
                online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY
            ),
        )
    )

    def validate_later(pdf: bytes):
        signature = PdfFileReader(BytesIO(pdf)).embedded_signatures[0]
        return asyncio.run(simulate_future_ades_lta_validation(signature, spec, future_validation_time=later))

    result = validate_later(stamped)
    assert result.ades_subindic == AdESPassed.OK, result.failure_msg
    assert result.api_status.intact and result.api_status.valid
    # The same check on a B-B signature (no timestamp, no DSS) fails: the test can tell.
    *_rest, unstamped = issued["employment"]
    assert validate_later(unstamped).ades_subindic != AdESPassed.OK


# --- The development CA's CRL, where its certificates say it is -------------------------------


@pytest.mark.django_db
def test_the_portal_serves_the_crl_its_signing_certificate_names(client, signing_dir):
    seal = x509.load_pem_x509_certificate((signing_dir / "signing-cert.pem").read_bytes())
    points = seal.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    url = points[0].full_name[0].value
    assert url.endswith("/verify/pki/root-ca.crl")
    response = client.get("/verify/pki/root-ca.crl")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pkix-crl"
    crl = x509.load_der_x509_crl(response.content)
    root = x509.load_pem_x509_certificate((signing_dir / "root-ca.pem").read_bytes())
    assert crl.is_signature_valid(root.public_key())
    assert crl.get_revoked_certificate_by_serial_number(seal.serial_number) is None


@pytest.mark.django_db
def test_a_b_lt_certificate_is_genuine_for_the_pdf_check_and_a_later_change_is_not(
    signing_dir, signing_settings, tsa_url
):
    from certificates.services import certificate_issue
    from verification.pdfcheck import check_pdf

    amina = seed_personas("amina", today=timezone.localdate())["amina"]
    with signing_settings(signing_dir, DAMANE_TSA_URL=tsa_url):
        certificate = certificate_issue(insured=amina, kind="affiliation")
    pdf = bytes(certificate.file.data)
    assert b"/DSS" in pdf
    verdict = check_pdf(pdf)
    assert verdict.genuine, verdict
    # Anything else appended after the signature (here a new page-content object) is not an LTA update.
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(BytesIO(pdf))
    page = writer.root["/Pages"]["/Kids"][0]
    page["/Rotate"] = generic.NumberObject(90)
    writer.update_container(page)
    out = BytesIO()
    writer.write(out)
    assert not check_pdf(out.getvalue()).signature_ok
