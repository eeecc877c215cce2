"""The published QR seal keys, signed by the fund: ``/verify/keys.jws`` (docs/verification.md).

A compact JWS (RFC 7515)::

    base64url(header) "." base64url(payload) "." base64url(signature)

* header: ``{"alg": "ES256", "typ": "jwk-set+jwt", "kid": <signing key id>,
  "x5c": [<signing certificate>, <its issuers>...]}``; ``x5c`` entries are standard
  base64 (not base64url) of the DER certificates, the signing certificate first
  (RFC 7515 §4.1.6);
* payload: the JWK Set of ``/verify/keys.json`` (``keys``) with ``iss`` (the
  portal's address) and ``iat`` (when it was signed, seconds since the epoch);
* signature: ES256 (raw ``r || s``) over ``header "." payload`` with the fund's
  **document-signing key**, the key that seals the PDFs, through its key handle
  (``certificates.signing.sign_bytes``: the file key or the PKCS#11 token).

A third party checks it with nothing but the fund's root certificate: the ``x5c``
chain must lead to that root (RFC 5280 path validation, the certificate allowed
to sign), then the signature must hold with the first certificate's key. The root
inside ``x5c``, if any, is never trusted on its own.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import re
import threading
import time
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from django.conf import settings

from certificates.qrpayload import b64url, b64url_decode, canonical_json, public_jwks
from certificates.signing import sign_bytes, signing_certificate_chain, signing_key_id

MEDIA_TYPE = "application/jose"
JWS_TYPE = "jwk-set+jwt"
# A signed list is reused this long (the same as keys.json's Cache-Control) while the
# keys and the signing key stay the same: a burst of downloads costs the token one signature.
REUSE_SECONDS = 300
MAX_LENGTH = 256 * 1024
MAX_CHAIN = 8
_JWS_RE = re.compile(r"^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{86})$")

_lock = threading.Lock()
_signed: dict[tuple, tuple[float, str]] = {}


class KeyListError(ValueError):
    """A signed key list that must not be trusted. ``code``: malformed, untrusted_chain, bad_signature."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def sign_key_list(jwks: dict | None = None, *, now: float | None = None) -> str:
    """The JWK Set (``public_jwks()`` unless given) with ``iss`` and ``iat``, signed as above."""
    jwks = public_jwks() if jwks is None else jwks
    chain = signing_certificate_chain()
    header = {
        "alg": "ES256",
        "typ": JWS_TYPE,
        "kid": signing_key_id(),
        "x5c": [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode("ascii") for cert in chain],
    }
    payload = {**jwks, "iss": settings.SITE_URL, "iat": int(time.time() if now is None else now)}
    signing_input = f"{b64url(canonical_json(header))}.{b64url(canonical_json(payload))}"
    return f"{signing_input}.{b64url(sign_bytes(signing_input.encode('ascii')))}"


def current_key_list() -> str:
    """The signed list served at ``/verify/keys.jws``: signed again when the keys change, or every 5 minutes."""
    jwks = public_jwks()
    cache_key = (canonical_json(jwks), signing_key_id(), settings.SITE_URL)
    now = time.time()
    with _lock:
        entry = _signed.get(cache_key)
        if entry is not None and now - entry[0] < REUSE_SECONDS:
            return entry[1]
    token = sign_key_list(jwks, now=now)
    with _lock:
        _signed.clear()
        _signed[cache_key] = (now, token)
    return token


def reset_cache() -> None:
    with _lock:
        _signed.clear()


def verify_key_list(
    token: str, roots: list[x509.Certificate], *, crls: tuple[bytes, ...] = (), at: datetime | None = None
) -> tuple[dict, dict]:
    """(header, payload) of a signed key list whose chain leads to one of ``roots`` and whose signature holds.

    ``crls``: the CA's CRLs (DER or PEM); given, a revoked or unchecked certificate
    in the chain is refused. ``at``: the validation time (now by default).
    Raises ``KeyListError``; only ES256 is accepted whatever the header says.
    """
    text = token.strip() if isinstance(token, str) and len(token) <= MAX_LENGTH else ""
    match = _JWS_RE.match(text)
    if not match:
        raise KeyListError("malformed", "not a signed key list (JWS compact serialisation)")
    try:
        header = json.loads(b64url_decode(match.group(1)))
        payload = json.loads(b64url_decode(match.group(2)))
        raw = b64url_decode(match.group(3))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise KeyListError("malformed", "not a signed key list (JWS compact serialisation)") from exc
    if not isinstance(header, dict) or header.get("alg") != "ES256":
        raise KeyListError("malformed", "a signed key list is signed ES256")
    x5c = header.get("x5c")
    if not isinstance(x5c, list) or not 1 <= len(x5c) <= MAX_CHAIN or not all(isinstance(c, str) for c in x5c):
        raise KeyListError("malformed", "a signed key list carries its certificate chain (x5c)")
    try:
        chain = [x509.load_der_x509_certificate(base64.b64decode(c, validate=True)) for c in x5c]
    except (binascii.Error, ValueError) as exc:
        raise KeyListError("malformed", "the certificate chain (x5c) cannot be read") from exc
    _validate_chain(chain, roots, crls=crls, at=at)
    public = chain[0].public_key()
    if not isinstance(public, ec.EllipticCurvePublicKey) or not isinstance(public.curve, ec.SECP256R1):
        raise KeyListError("bad_signature", "the signing certificate does not hold an EC P-256 key")
    signature = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        public.verify(signature, f"{match.group(1)}.{match.group(2)}".encode("ascii"), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise KeyListError("bad_signature", "the signature does not match the signing certificate") from exc
    if (
        not isinstance(payload, dict)
        or not isinstance(payload.get("keys"), list)
        or not isinstance(payload.get("iat"), int)
    ):
        raise KeyListError("malformed", "the signed content is not a JWK Set with iat")
    return header, payload


def _validate_chain(chain: list[x509.Certificate], roots: list[x509.Certificate], *, crls, at) -> None:
    """RFC 5280 path validation (pyHanko's certvalidator) from ``chain[0]`` to one of ``roots``."""
    from asn1crypto import x509 as asn1_x509
    from pyhanko_certvalidator import CertificateValidator, ValidationContext
    from pyhanko_certvalidator.errors import PathError, ValidationError

    def asn1(cert: x509.Certificate):
        return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))

    context = ValidationContext(
        trust_roots=[asn1(root) for root in roots],
        crls=list(crls),
        allow_fetching=False,
        revocation_mode="hard-fail" if crls else "soft-fail",
        moment=at,
    )
    validator = CertificateValidator(
        asn1(chain[0]), intermediate_certs=[asn1(cert) for cert in chain[1:]], validation_context=context
    )
    try:
        asyncio.run(validator.async_validate_usage({"digital_signature"}))
    except (PathError, ValidationError, ValueError) as exc:
        reason = f"the signing certificate is not valid under the fund's root: {exc}"
        raise KeyListError("untrusted_chain", reason) from exc
