"""Is this PDF a certificate the fund issued, unchanged? (bytes in, verdict out)

Three checks, reported separately: the PAdES signature (intact, trusted against
the fund's root, covering the whole file), the file's SHA-256 against the
certificates the portal issued, and the QR code printed on it, read as a phone
reads it: its address and its signed payload must both name that certificate
(docs/security.md §22, ``services.read_qr_text``). The QR code is only rendered for a
file that passed the first two checks, so no untrusted file is ever rasterised.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from functools import cache
from io import BytesIO

from cryptography import x509
from django.conf import settings

from certificates.models import Certificate

logger = logging.getLogger(__name__)


@dataclass
class PdfVerdict:
    is_pdf: bool = False
    readable: bool = False
    signed: bool = False
    signature_intact: bool = False
    signature_trusted: bool = False
    covers_whole_file: bool = False
    signer: str = ""
    issued_here: bool = False
    certificate: Certificate | None = None
    # Why the file could not be read or its signature not validated, in one line.
    error: str = ""
    # The QR code's text names this certificate in its address and in its payload.
    qr_matches: bool = False
    # The certificate.json the file carries (certificates.machine_readable), read
    # only from a file whose signature holds and that the portal issued.
    embedded_facts: dict | None = None

    @property
    def signature_ok(self) -> bool:
        return self.signed and self.signature_intact and self.signature_trusted and self.covers_whole_file

    @property
    def genuine(self) -> bool:
        return self.signature_ok and self.issued_here and self.qr_matches


def _one_line(exc: Exception) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]


@cache
def _trust_roots(paths: tuple[str, ...]):
    """Self-signed certificates among the configured chain: the roots a fund signature must lead to."""
    from pyhanko.keys import load_cert_from_pemder

    roots = []
    for path in paths:
        cert = x509.load_pem_x509_certificate(open(path, "rb").read())  # noqa: SIM115
        if cert.issuer == cert.subject:
            roots.append(load_cert_from_pemder(path))
    return roots


def check_pdf(data: bytes) -> PdfVerdict:
    verdict = PdfVerdict(is_pdf=data.startswith(b"%PDF-"))
    if not verdict.is_pdf:
        return verdict
    digest = hashlib.sha256(data).hexdigest()
    verdict.certificate = Certificate.objects.select_related("superseded_by").filter(pdf_sha256=digest).first()
    verdict.issued_here = verdict.certificate is not None

    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.diff_analysis import ModificationLevel
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        signatures = reader.embedded_signatures
        verdict.readable = True
    except Exception as exc:
        # A damaged upload is the sender's problem, not a server error: one line, no traceback.
        verdict.error = _one_line(exc)
        logger.info("uploaded PDF could not be parsed: %s", verdict.error)
        return verdict
    if not signatures:
        return verdict
    verdict.signed = True
    roots = _trust_roots(tuple(str(p) for p in settings.DAMANE_SIGNING_CHAIN_PATHS))
    try:
        status = validate_pdf_signature(signatures[-1], ValidationContext(trust_roots=roots))
    except Exception as exc:
        verdict.error = _one_line(exc)
        logger.info("signature validation failed: %s", verdict.error)
        return verdict
    verdict.signature_intact = bool(status.intact and status.valid)
    verdict.signature_trusted = bool(status.trusted)
    # A B-LT file (issued with a TSA) adds its validation data (DSS) after the
    # signature: the only later change pyHanko's difference analysis allows as LTA_UPDATES.
    verdict.covers_whole_file = status.coverage == SignatureCoverageLevel.ENTIRE_FILE or (
        status.coverage == SignatureCoverageLevel.ENTIRE_REVISION
        and status.modification_level == ModificationLevel.LTA_UPDATES
    )
    try:
        verdict.signer = status.signing_cert.subject.human_friendly
    except Exception:
        verdict.signer = ""
    if verdict.signature_ok and verdict.issued_here:
        try:
            texts = qr_texts(data)
        except Exception as error:
            logger.warning("QR code of issued certificate %s could not be read: %s", verdict.certificate.number, error)
            texts = []
        verdict.qr_matches = qr_names_certificate(texts, verdict.certificate)
        verdict.embedded_facts = _embedded_facts(data, verdict.certificate)
    return verdict


def _embedded_facts(data: bytes, certificate: Certificate) -> dict | None:
    """The embedded facts, when they name this certificate (files issued before they existed carry none)."""
    from certificates.machine_readable import extract_facts

    facts = extract_facts(data)
    if facts is None or facts.get("number") != certificate.number or facts.get("public_id") != certificate.public_id:
        return None
    return facts


# Resolution the first page is rendered at to read its QR code: about 3.7 pixels
# a module for the largest code printed (version 17, 36.7 mm wide).
QR_READ_DPI = 200


def qr_texts(data: bytes) -> list[str]:
    """The texts of the QR codes on the first page of ``data``, as a phone camera would read them."""
    import pypdfium2
    import zxingcpp

    document = pypdfium2.PdfDocument(data)
    try:
        image = document[0].render(scale=QR_READ_DPI / 72, grayscale=True).to_pil()
    finally:
        document.close()
    return [barcode.text for barcode in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)]


def qr_names_certificate(texts: list[str], certificate: Certificate) -> bool:
    """One QR code, genuine, whose address and payload both name ``certificate``."""
    from certificates.qrpayload import split_qr_text
    from verification.services import read_qr_text

    # The printed code must be the whole address a phone opens, not a payload alone.
    if len(texts) != 1 or split_qr_text(texts[0])[0] != certificate.public_id:
        return False
    claims = read_qr_text(texts[0])
    return claims is not None and claims.get("id") == certificate.public_id and claims.get("n") == certificate.number
