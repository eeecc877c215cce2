"""The signed payload in a certificate's QR code (format: docs/verification.md).

The QR code holds one URL::

    {SITE_URL}/verify/{public_id}#{token}

A phone camera opens the public verify page of this certificate (the fragment
never reaches the server); an offline verifier reads ``token``::

    DMN1.{kid}.{base64url(claims)}.{base64url(signature)}

* ``DMN1``: format and version. A new layout gets a new prefix; verifiers
  refuse prefixes they do not know.
* ``kid``: 16 lowercase hex digits, SHA-256 of the QR seal public key's
  SubjectPublicKeyInfo (DER), truncated. ``public_jwks()`` publishes the keys.
* ``claims``: UTF-8 JSON, keys sorted, no spaces (see ``qr_claims``).
* ``signature``: ECDSA P-256 with SHA-256 over the ASCII bytes
  ``DMN1.{kid}.{base64url(claims)}``, as raw ``r || s`` (64 bytes).

base64url is RFC 4648 section 5 without padding. The QR seal key is separate
from the PDF signing key, so that it can be published as a JWK and rotated on
its own schedule.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from django.conf import settings

from certificates import keystore, registry
from certificates.documents import CertificateSnapshot
from certificates.signing import QR_CURRENT_FILE, SigningError, ensure_dev_material, key_id

PREFIX = "DMN1"
# Certificate QR codes since issue 11: positional claims and a short key id, so
# that the symbol is a low QR version (docs/verification.md, "DMN2").
QR_PREFIX = "DMN2"
QR_KID_LENGTH = 8
# One letter per kind in the payload (claim "k"): short, and stable if a kind is
# renamed; each kind's folder declares it (certificates.registry).
# Longest token accepted: refuses oversized input before any decoding.
MAX_TOKEN_LENGTH = 2048
_TOKEN_RE = re.compile(
    r"^DMN(?P<version>[0-9]+)\.(?P<kid>[0-9a-f]{8}|[0-9a-f]{16})\.(?P<claims>[A-Za-z0-9_-]+)\.(?P<sig>[A-Za-z0-9_-]{86})$"
)
# Where each claim sits in a DMN2 array; dates are written YYYYMMDD as numbers.
QR_FIELDS = ("id", "k", "n", "h", "i", "u")


class PayloadError(ValueError):
    """A token that does not verify. ``code``: malformed, unsupported_version, unknown_key, bad_signature."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --- Claims ------------------------------------------------------------------------


def _key_facts(kind: str, facts: dict[str, Any]) -> dict[str, Any]:
    """The few facts an offline verifier shows, per kind (its folder's ``presenter.qr_facts``)."""
    try:
        return registry.get(kind).qr_facts(facts)
    except registry.UnknownKind as error:
        raise ValueError(str(error)) from None


def qr_claims(snapshot: CertificateSnapshot) -> dict[str, Any]:
    """What the QR code states about ``snapshot``. No CIN or CNSS number (docs/security.md §15)."""
    return {
        "id": snapshot.public_id,
        "k": registry.get(snapshot.kind).code,
        "n": snapshot.number,
        "h": snapshot.holder.full_name,
        "i": snapshot.issued_on.isoformat(),
        "u": snapshot.valid_until.isoformat(),
        "f": _key_facts(snapshot.kind, snapshot.facts),
    }


def canonical_json(claims: dict[str, Any]) -> bytes:
    return json.dumps(claims, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


# --- Keys ----------------------------------------------------------------------------

_lock = threading.Lock()
_signing_keys: dict[tuple, tuple[str, keystore.KeyHandle]] = {}


def _load_private(path: Path) -> ec.EllipticCurvePrivateKey:
    passphrase = settings.DAMANE_SIGNING_KEY_PASSPHRASE
    key = serialization.load_pem_private_key(path.read_bytes(), password=passphrase.encode() if passphrase else None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise SigningError(f"{path} is not an EC P-256 key")
    return key


def current_qr_key() -> tuple[str, keystore.KeyHandle]:
    """(kid, key handle) that signs new payloads, loaded once per process.

    With a PKCS#11 token the private key is ``qr-<kid>`` in the token and the
    directory keeps its public half ``<kid>.pub.pem`` (certificates.keystore).
    """
    directory = Path(settings.DAMANE_QR_KEYS_DIR)
    cache_key = (str(directory), settings.DAMANE_SIGNING_KEY_PASSPHRASE, settings.DAMANE_SIGNING_PKCS11_MODULE)
    cached = _signing_keys.get(cache_key)
    if cached is not None:
        return cached
    ensure_dev_material()
    with _lock:
        cached = _signing_keys.get(cache_key)
        if cached is None:
            pointer = directory / QR_CURRENT_FILE
            if not pointer.is_file():
                raise SigningError(f"no current QR seal key: {pointer} is missing (run manage.py init_signing)")
            kid = pointer.read_text().strip()
            if keystore.pkcs11_enabled():
                handle = keystore.Pkcs11Key(keystore.configured_token(), keystore.qr_key_label(kid))
            else:
                handle = keystore.FileKey(_load_private(directory / f"{kid}.pem"))
            if key_id(handle.public_key()) != kid:
                raise SigningError(f"QR seal key {kid} does not match its key id")
            cached = (kid, handle)
            _signing_keys[cache_key] = cached
    return cached


def reset_key_cache() -> None:
    """Forget the loaded QR seal key: the next payload reads ``current`` again (after a rotation)."""
    with _lock:
        _signing_keys.clear()


def qr_key_id() -> str:
    return current_qr_key()[0]


def qr_public_keys() -> dict[str, ec.EllipticCurvePublicKey]:
    """Every QR seal public key, current and retired: ``<kid>.pem`` and ``<kid>.pub.pem``."""
    directory = Path(settings.DAMANE_QR_KEYS_DIR)
    ensure_dev_material()
    keys: dict[str, ec.EllipticCurvePublicKey] = {}
    for path in sorted(directory.glob("*.pem")):
        if path.name.endswith(".pub.pem"):
            public = serialization.load_pem_public_key(path.read_bytes())
        else:
            public = _load_private(path).public_key()
        if isinstance(public, ec.EllipticCurvePublicKey) and isinstance(public.curve, ec.SECP256R1):
            keys[key_id(public)] = public
    return keys


def public_jwks() -> dict[str, list[dict[str, str]]]:
    """The QR seal keys as a JWK Set (RFC 7517), for offline verifiers."""
    entries = []
    for kid, public in sorted(qr_public_keys().items()):
        numbers = public.public_numbers()
        entries.append(
            {
                "kty": "EC",
                "crv": "P-256",
                "x": b64url(numbers.x.to_bytes(32, "big")),
                "y": b64url(numbers.y.to_bytes(32, "big")),
                "kid": kid,
                "alg": "ES256",
                "use": "sig",
            }
        )
    return {"keys": entries}


# --- Sign and verify --------------------------------------------------------------------


def sign_payload(claims: dict[str, Any]) -> str:
    """``DMN1.<kid>.<claims>.<signature>`` signed with the current QR seal key."""
    kid, key = current_qr_key()
    signing_input = f"{PREFIX}.{kid}.{b64url(canonical_json(claims))}"
    return f"{signing_input}.{b64url(key.sign_raw(signing_input.encode('ascii')))}"


def qr_compact(claims: dict[str, Any]) -> bytes:
    """The DMN2 claims: a JSON array in ``QR_FIELDS`` order, dates as YYYYMMDD numbers, no key facts."""
    values = [claims[name] for name in QR_FIELDS]
    values[4] = int(values[4].replace("-", ""))
    values[5] = int(values[5].replace("-", ""))
    return json.dumps(values, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _qr_expand(raw: bytes) -> dict[str, Any]:
    values = json.loads(raw.decode("utf-8"))
    if not isinstance(values, list) or len(values) != len(QR_FIELDS):
        raise ValueError("not a DMN2 claims array")
    for position in (4, 5):
        day = str(values[position])
        if len(day) != 8 or not day.isdigit():
            raise ValueError("not a DMN2 date")
        values[position] = f"{day[:4]}-{day[4:6]}-{day[6:]}"
    return dict(zip(QR_FIELDS, values, strict=True))


def sign_qr_payload(claims: dict[str, Any]) -> str:
    """The token printed in a certificate's QR code: ``DMN2.<kid8>.<claims array>.<signature>``.

    The same ES256 signature as DMN1 over fewer bytes: the symbol drops from QR
    version 14-17 to 10-12 at error correction M, so it still decodes from a
    100 dpi scan or a blurred photocopy. The key facts stay on the verify page.
    """
    kid, key = current_qr_key()
    signing_input = f"{QR_PREFIX}.{kid[:QR_KID_LENGTH]}.{b64url(qr_compact(claims))}"
    return f"{signing_input}.{b64url(key.sign_raw(signing_input.encode('ascii')))}"


def sign_jws(claims: dict[str, Any]) -> str:
    """A JWS (RFC 7515, compact) of ``claims`` signed with the current QR seal key: a receipt of the
    API (integrations/receipts.py). ES256, ``kid`` the key's full published id (``public_jwks``)."""
    kid, key = current_qr_key()
    header = {"alg": "ES256", "kid": kid, "typ": "JWT"}
    signing_input = f"{b64url(canonical_json(header))}.{b64url(canonical_json(claims))}"
    return f"{signing_input}.{b64url(key.sign_raw(signing_input.encode('ascii')))}"


_JWS_RE = re.compile(r"^([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{86})$")
MAX_JWS_LENGTH = 512 * 1024


def verify_jws(token: str, public_keys: dict[str, ec.EllipticCurvePublicKey] | None = None) -> tuple[dict, dict]:
    """(header, claims) of a receipt whose ES256 signature verifies with the key its ``kid`` names.

    Raises ``PayloadError`` (malformed, unknown_key, bad_signature); only ``alg`` ES256 is accepted,
    whatever the header says (no ``none``, no algorithm confusion).
    """
    match = _JWS_RE.match(token.strip() if isinstance(token, str) and len(token) <= MAX_JWS_LENGTH else "")
    if not match:
        raise PayloadError("malformed", "not a receipt (JWS compact serialisation)")
    try:
        header = json.loads(b64url_decode(match.group(1)))
        raw = b64url_decode(match.group(3))
        claims_bytes = b64url_decode(match.group(2))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise PayloadError("malformed", "not a receipt (JWS compact serialisation)") from exc
    if not isinstance(header, dict) or header.get("alg") != "ES256" or not isinstance(header.get("kid"), str):
        raise PayloadError("malformed", "a receipt is signed ES256 and names its key")
    keys = qr_public_keys() if public_keys is None else public_keys
    public = keys.get(header["kid"])
    if public is None:
        raise PayloadError("unknown_key", f"unknown key id {header['kid']}")
    signature = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        public.verify(signature, f"{match.group(1)}.{match.group(2)}".encode("ascii"), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise PayloadError("bad_signature", "the signature does not match") from exc
    try:
        claims = json.loads(claims_bytes.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise PayloadError("malformed", "signed claims are not JSON") from exc
    if not isinstance(claims, dict):
        raise PayloadError("malformed", "signed claims are not an object")
    return header, claims


def payload_key_id(token: str) -> str:
    """The full id of the key that signed ``token`` (DMN2 prints only its first 8 hex digits)."""
    match = _TOKEN_RE.match(token or "")
    if not match:
        return ""
    kid = match.group("kid")
    if len(kid) == 16:
        return kid
    return next((key_id for key_id in sorted(qr_public_keys()) if key_id.startswith(kid)), kid)


def _signature_holds(public: ec.EllipticCurvePublicKey, signature: bytes, signing_input: bytes) -> bool:
    try:
        public.verify(signature, signing_input, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def verify_payload(token: str, public_keys: dict[str, ec.EllipticCurvePublicKey] | None = None) -> dict[str, Any]:
    """The claims of ``token`` if its signature verifies with one of ``public_keys``.

    ``public_keys`` defaults to every key in ``DAMANE_QR_KEYS_DIR``. Raises
    ``PayloadError``; its ``code`` tells a malformed token from a forged one.
    """
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        raise PayloadError("malformed", "not a certificate QR payload")
    match = _TOKEN_RE.match(token)
    if not match:
        raise PayloadError("malformed", "not a certificate QR payload")
    version, kid = match.group("version"), match.group("kid")
    if version not in (PREFIX[3:], QR_PREFIX[3:]):
        raise PayloadError("unsupported_version", f"unsupported payload version DMN{version}")
    if len(kid) != (QR_KID_LENGTH if version == QR_PREFIX[3:] else 16):
        raise PayloadError("malformed", "not a certificate QR payload")
    keys = qr_public_keys() if public_keys is None else public_keys
    # DMN2 names a key by the first 8 hex digits of its id: two published keys may share them
    # (one chance in 2^32 a pair), so each key whose id starts with them is tried in turn.
    candidates = [key for key_id, key in sorted(keys.items()) if key_id.startswith(kid)]
    if not candidates:
        raise PayloadError("unknown_key", f"unknown key id {kid}")
    try:
        raw = b64url_decode(match.group("sig"))
        claims_bytes = b64url_decode(match.group("claims"))
    except (binascii.Error, ValueError) as exc:
        raise PayloadError("malformed", "not a certificate QR payload") from exc
    if len(raw) != 64:
        raise PayloadError("malformed", "not a certificate QR payload")
    signature = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    signing_input = token.rsplit(".", 1)[0].encode("ascii")
    if not any(_signature_holds(public, signature, signing_input) for public in candidates):
        raise PayloadError("bad_signature", "the signature does not match")
    try:
        expand = _qr_expand if version == QR_PREFIX[3:] else lambda raw: json.loads(raw.decode("utf-8"))
        claims = expand(claims_bytes)
    except (UnicodeDecodeError, ValueError) as exc:
        raise PayloadError("malformed", "signed claims are not JSON") from exc
    if not isinstance(claims, dict):
        raise PayloadError("malformed", "signed claims are not an object")
    return claims


# --- The QR code's text -----------------------------------------------------------------


def verification_page_url(public_id: str) -> str:
    """The public verify page of one certificate (verification app: ``verify/<public_id>``)."""
    return f"{settings.SITE_URL}/verify/{public_id}"


def qr_url(public_id: str, token: str) -> str:
    """The QR code's whole text: the verify page, the signed payload in the fragment."""
    return f"{verification_page_url(public_id)}#{token}"


def split_qr_text(text: str) -> tuple[str, str]:
    """(public_id, token) from a scanned QR text, whatever the host; ("", "") if not ours."""
    match = re.search(r"/verify/(?P<id>[A-Za-z0-9_-]{16,64})#(?P<token>DMN[^#\s]+)$", text or "")
    if not match:
        return "", ""
    return match.group("id"), match.group("token")
