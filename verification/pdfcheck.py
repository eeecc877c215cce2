"""Is this PDF a certificate the fund issued, unchanged? (bytes in, verdict out)

Two independent checks, reported separately: the PAdES signature (intact,
trusted against the fund's root, covering the whole file) and the file's
SHA-256 against the certificates the portal issued.
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

    @property
    def signature_ok(self) -> bool:
        return self.signed and self.signature_intact and self.signature_trusted and self.covers_whole_file

    @property
    def genuine(self) -> bool:
        return self.signature_ok and self.issued_here


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
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        signatures = reader.embedded_signatures
        verdict.readable = True
    except Exception:
        logger.info("uploaded PDF could not be parsed", exc_info=True)
        return verdict
    if not signatures:
        return verdict
    verdict.signed = True
    roots = _trust_roots(tuple(str(p) for p in settings.DAMANE_SIGNING_CHAIN_PATHS))
    try:
        status = validate_pdf_signature(signatures[-1], ValidationContext(trust_roots=roots))
    except Exception:
        logger.info("signature validation failed", exc_info=True)
        return verdict
    verdict.signature_intact = bool(status.intact and status.valid)
    verdict.signature_trusted = bool(status.trusted)
    verdict.covers_whole_file = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    try:
        verdict.signer = status.signing_cert.subject.human_friendly
    except Exception:
        verdict.signer = ""
    return verdict
