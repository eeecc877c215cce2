import os
import re
import subprocess
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.conftest import SITE_URL  # noqa: F401  (tests here compare against it)


@pytest.fixture(scope="session")
def root_cert_path(signing_dir) -> Path:
    return signing_dir / "root-ca.pem"


@pytest.fixture(scope="session")
def issued():
    """Each sample certificate rendered and signed once: {kind: (snapshot, url, token, unsigned, signed)}."""
    from certificates.qrpayload import qr_claims, qr_url, sign_qr_payload
    from certificates.rendering import render_certificate_pdf
    from certificates.samples import all_samples
    from certificates.signing import sign_pdf

    result = {}
    for snapshot in all_samples():
        token = sign_qr_payload(qr_claims(snapshot))
        url = qr_url(snapshot.public_id, token)
        unsigned = render_certificate_pdf(snapshot, qr_payload_url=url)
        result[snapshot.kind] = (snapshot, url, token, unsigned, sign_pdf(unsigned))
    return result


@pytest.fixture
def poppler(tmp_path):
    """Run a poppler tool (pdfinfo, pdffonts, pdftotext, pdfsig) on PDF bytes; its output."""

    def run(tool: str, pdf: bytes, *args: str) -> str:
        source = tmp_path / f"{tool}-input.pdf"
        source.write_bytes(pdf)
        command = [tool, *args, str(source)] + (["-"] if tool == "pdftotext" else [])
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        return done.stdout + done.stderr

    return run


@pytest.fixture
def pdf_text(poppler):
    """The text of a PDF as pdftotext reads it, without the bidi marks it adds around Arabic runs."""
    marks = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")

    def read(pdf: bytes) -> str:
        return marks.sub("", poppler("pdftotext", pdf, "-enc", "UTF-8"))

    return read


class _TsaHandler(BaseHTTPRequestHandler):
    stamper = None

    def do_POST(self):
        from asn1crypto import tsp

        body = self.rfile.read(int(self.headers["Content-Length"]))
        response = type(self).stamper.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
        self.send_response(200)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(response)))
        self.end_headers()
        self.wfile.write(response)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def tsa_url(signing_dir):
    """An RFC 3161 timestamp authority over HTTP on localhost (pyHanko's DummyTimeStamper).

    Its certificate is issued by the session's development root, so the
    timestamp validates against the same trust anchor.
    """
    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from pyhanko.sign.timestamps import DummyTimeStamper

    root_key = serialization.load_pem_private_key((signing_dir / "root-ca-key.pem").read_bytes(), password=None)
    root_cert = x509.load_pem_x509_certificate((signing_dir / "root-ca.pem").read_bytes())
    tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.now(UTC)
    tsa_cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test TSA")]))
        .issuer_name(root_cert.subject)
        .public_key(tsa_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    _TsaHandler.stamper = DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(tsa_cert.public_bytes(serialization.Encoding.DER)),
        tsa_key=asn1_keys.PrivateKeyInfo.load(
            tsa_key.private_bytes(
                serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        ),
    )
    server = ThreadingHTTPServer(("127.0.0.1", 0), _TsaHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/tsa"
    server.shutdown()
    server.server_close()


# --- The fund's keys in a PKCS#11 token (SoftHSM2) -----------------------------------------


# SoftHSM2 lists its tokens when the library is loaded (once per process): every token
# the tests use is made first. Each one's PIN file is <softhsm>/<label>.pin.
TOKENS = ("damane-session", "damane-csr", "damane-wrong-pin")


@pytest.fixture(scope="session")
def softhsm(tmp_path_factory):
    from tests.hsm import init_token, softhsm_available, softhsm_directory

    if not softhsm_available():
        pytest.fail("softhsm2 is not installed (Debian package softhsm2: .ci/run and bin/_env.sh install it)")
    directory = softhsm_directory(tmp_path_factory.mktemp("softhsm"))
    for label in TOKENS:
        init_token(label, directory / f"{label}.pin")
    return directory


def pkcs11_values(softhsm: Path, token_label: str) -> dict:
    from tests.hsm import SOFTHSM_MODULE

    return {
        "DAMANE_SIGNING_PKCS11_MODULE": SOFTHSM_MODULE,
        "DAMANE_SIGNING_PKCS11_TOKEN_LABEL": token_label,
        "DAMANE_SIGNING_PKCS11_KEY_LABEL": "damane-signing",
        "DAMANE_SIGNING_PKCS11_PIN_FILE": str(softhsm / f"{token_label}.pin"),
    }


@pytest.fixture(scope="session")
def token_signing_dir(softhsm, tmp_path_factory, signing_dir):
    """A token holding a signing key certified by the session's development root, and a QR seal key.

    The session root (``signing_dir``) certifies it, as a CA certifies the key an
    HSM generated: PDFs signed with the file key and with the token validate
    against the same root.
    """
    import shutil

    from django.core.management import call_command

    from tests.conftest import _signing_settings

    directory = tmp_path_factory.mktemp("token-signing")
    for name in ("root-ca-key.pem", "root-ca.pem", "root-ca.crl"):
        shutil.copy(signing_dir / name, directory / name)
    with _signing_settings(directory, **pkcs11_values(softhsm, "damane-session")):
        call_command("init_signing", "--pkcs11", stdout=open(os.devnull, "w"))  # noqa: SIM115
    return directory


@pytest.fixture
def token_settings(token_signing_dir, signing_settings, softhsm):
    """Settings signing with the session's token (a context manager)."""
    from certificates import qrpayload, signing

    signing.reset_material_cache()
    qrpayload.reset_key_cache()
    with signing_settings(token_signing_dir, **pkcs11_values(softhsm, "damane-session")):
        yield token_signing_dir
    signing.reset_material_cache()
    qrpayload.reset_key_cache()
