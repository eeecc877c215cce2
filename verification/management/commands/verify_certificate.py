"""Check a certificate PDF from the command line, as the upload page does."""

import json as json_module
import logging
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from certificates.qrpayload import PayloadError, verify_jws
from verification.keylist import KeyListError, verify_key_list
from verification.pdfcheck import check_pdf

# Libraries that log their own tracebacks for a damaged file: the command says it in one line instead.
QUIET_LOGGERS = ("pyhanko", "pyhanko_certvalidator", "verification.pdfcheck", "asyncio")


class Command(BaseCommand):
    help = (
        "Check that FILE.pdf carries the fund's valid signature over the whole file, is byte for byte a "
        "certificate the portal issued and shows a QR code naming that certificate, then report its state. "
        "Exits 0 only for a genuine certificate that is valid today (not expired, revoked or replaced); "
        "1 otherwise; 2 when the file cannot be read. Why a file fails is one line on stderr. "
        "With --receipt, FILE is a signed receipt of the API (a JWS) instead; with --keys, the signed list of the "
        "fund's published keys (/verify/keys.jws)."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, metavar="FILE.pdf")
        parser.add_argument(
            "--receipt",
            action="store_true",
            help=(
                "FILE is a receipt the API gave (Accept: application/jose or ?receipt=1, docs/integrators.md): "
                "check its signature against the fund's published keys and print what was asked, when, and the "
                "answer. Exits 0 when the signature holds, 1 when it does not."
            ),
        )
        parser.add_argument(
            "--keys",
            action="store_true",
            help=(
                "FILE is the signed key list downloaded from /verify/keys.jws: check that its certificate chain leads "
                "to the fund's root certificate (--root) and that its signature holds, then print the keys. Exits 0 "
                "when both hold, 1 when not."
            ),
        )
        parser.add_argument(
            "--root",
            type=Path,
            action="append",
            metavar="ROOT.pem",
            help=(
                "With --keys: the fund's root certificate (PEM or DER) to trust, repeatable. Default: the self-signed "
                "certificates of DAMANE_SIGNING_CHAIN_PATHS."
            ),
        )
        parser.add_argument(
            "--crl",
            type=Path,
            action="append",
            metavar="CA.crl",
            help=(
                "With --keys: the CA's revocation list (PEM or DER, e.g. from /verify/pki/root-ca.crl), repeatable; "
                "given, a revoked signing certificate is refused."
            ),
        )
        parser.add_argument(
            "--json",
            action="store_true",
            help=(
                "Print one JSON object instead: the checks, the state and, for a genuine file, the facts it carries "
                "(its certificate.json, see /api/v1/schemas/certificate.json). Same exit codes."
            ),
        )

    def handle(self, *args, file, json=False, receipt=False, keys=False, root=None, crl=None, **options):
        try:
            data = file.read_bytes()
        except OSError as error:
            self.stderr.write(f"{file}: {error.strerror or error}")
            raise SystemExit(2) from None
        if receipt:
            return self._receipt(file, data, as_json=json)
        if keys:
            return self._keys(file, data, roots=root or [], crls=crl or [], as_json=json)
        verdict = _quietly(check_pdf, data)
        checks = [
            ("PDF", verdict.is_pdf and verdict.readable),
            ("signature present", verdict.signed),
            ("signature intact", verdict.signature_intact),
            ("signed by the fund", verdict.signature_trusted),
            ("signature covers the whole file", verdict.covers_whole_file),
            ("issued by the portal (SHA-256)", verdict.issued_here),
            ("QR code names this certificate", verdict.qr_matches),
        ]
        state = None
        if verdict.certificate is not None:
            certificate = verdict.certificate
            state = certificate.state_on(timezone.localdate())
            if state == "valid" and certificate.superseded_by_id:
                state = "replaced"
        if json:
            self.stdout.write(_json_report(verdict, checks, state))
        else:
            for label, ok in checks:
                self.stdout.write(f"{'ok  ' if ok else 'FAIL'} {label}")
            if verdict.certificate is not None:
                self.stdout.write(
                    f"certificate {certificate.number} ({certificate.kind}), "
                    f"valid until {certificate.valid_until}: {state}"
                )
        if not (verdict.genuine and state == "valid"):
            failed = next((label for label, ok in checks if not ok), None)
            if failed is None:
                reason = f"certificate {state}"
            else:
                reason = f"{failed}: FAIL" + (f" ({verdict.error})" if verdict.error else "")
            self.stderr.write(f"{file}: not a genuine, valid certificate: {reason}")
            raise SystemExit(1)

    def _receipt(self, file, data: bytes, *, as_json: bool):
        """A receipt's signature, then what it says: the fund's answer to what was asked, at that moment."""
        try:
            header, claims = verify_jws(data.decode("ascii", "replace").strip())
        except PayloadError as error:
            self.stderr.write(f"{file}: not a receipt signed by the fund: {error}")
            raise SystemExit(1) from None
        issued = datetime.fromtimestamp(claims.get("iat", 0), tz=UTC).isoformat()
        if as_json:
            report = {"signed_by_fund": True, "kid": header["kid"], "at": issued, **claims}
            self.stdout.write(json_module.dumps(report, ensure_ascii=False, indent=2))
            return
        request = claims.get("req", {})
        self.stdout.write(f"ok   receipt signed by the fund (key {header['kid']})")
        self.stdout.write(
            f"at   {issued}" + (f" for {claims['org']} (key {claims.get('key')})" if "org" in claims else "")
        )
        self.stdout.write(
            f"asked {request.get('method')} {request.get('path')} "
            + json_module.dumps(request.get("params", {}), ensure_ascii=False)
        )
        self.stdout.write("answer " + json_module.dumps(claims.get("res"), ensure_ascii=False))

    def _keys(self, file, data: bytes, *, roots: list[Path], crls: list[Path], as_json: bool):
        """A signed key list: its chain to the fund's root, then its signature, then the keys it vouches for."""
        try:
            trusted = _certificates(roots) if roots else _configured_roots()
            revocation_lists = tuple(_der_crl(path.read_bytes()) for path in crls)
        except (OSError, ValueError) as error:
            self.stderr.write(f"cannot read the root certificate or CRL: {error}")
            raise SystemExit(2) from None
        if not trusted:
            self.stderr.write("no root certificate to trust: give --root ROOT.pem")
            raise SystemExit(2)
        try:
            header, payload = _quietly(
                lambda: verify_key_list(data.decode("ascii", "replace").strip(), trusted, crls=revocation_lists)
            )
        except KeyListError as error:
            self.stderr.write(f"{file}: not a key list signed by the fund: {error}")
            raise SystemExit(1) from None
        signed_at = datetime.fromtimestamp(payload["iat"], tz=UTC).isoformat()
        kids = [key.get("kid") for key in payload["keys"] if isinstance(key, dict)]
        if as_json:
            report = {"signed_by_fund": True, "signing_kid": header.get("kid"), "signed_at": signed_at, **payload}
            self.stdout.write(json_module.dumps(report, ensure_ascii=False, indent=2))
            return
        self.stdout.write("ok   certificate chain leads to the fund's root" + (" (CRL checked)" if crls else ""))
        self.stdout.write(f"ok   signature by the fund's signing key {header.get('kid')}")
        self.stdout.write(f"at   {signed_at} by {payload.get('iss')}")
        self.stdout.write(f"keys {len(kids)}: {', '.join(str(kid) for kid in kids)}")


def _certificates(paths: list[Path]) -> list[x509.Certificate]:
    found = []
    for path in paths:
        data = path.read_bytes()
        pem = b"-----BEGIN" in data
        found += x509.load_pem_x509_certificates(data) if pem else [x509.load_der_x509_certificate(data)]
    return found


def _configured_roots() -> list[x509.Certificate]:
    """The self-signed certificates of the configured chain: the fund's root on its own servers."""
    chain = _certificates([Path(p) for p in settings.DAMANE_SIGNING_CHAIN_PATHS if Path(p).is_file()])
    return [cert for cert in chain if cert.issuer == cert.subject]


def _der_crl(data: bytes) -> bytes:
    if b"-----BEGIN" in data:
        return x509.load_pem_x509_crl(data).public_bytes(serialization.Encoding.DER)
    return x509.load_der_x509_crl(data).public_bytes(serialization.Encoding.DER)


def _json_report(verdict, checks, state) -> str:
    """The verdict as JSON; facts only from a genuine file, so nothing unverified is printed as a fact."""
    report = {
        "genuine": verdict.genuine,
        "state": state if verdict.genuine else None,
        "checks": {label: ok for label, ok in checks},
        "certificate": verdict.embedded_facts if verdict.genuine else None,
    }
    return json_module.dumps(report, ensure_ascii=False, indent=2)


def _quietly(function, *args):
    """Run ``function`` with the libraries' own error logging held back (the command reports instead)."""
    loggers = [logging.getLogger(name) for name in QUIET_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        return function(*args)
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
