"""DMN test vectors (docs/verification.md, "Test vectors"): tokens a third-party verifier must
accept or refuse, signed with a fixed test key, written to docs/vectors/dmn-test-vectors.json by
``python manage.py dmn_test_vectors`` and checked against the code by
tests/verification/test_vectors.py.

The signatures are deterministic (RFC 6979), so the file is the same each time it is built:
the test rebuilds it and compares. The test key is derived from a public phrase: it is a test
key, never the fund's; a verifier loads its JWK only to run the vectors.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from django.conf import settings

from certificates import registry
from certificates.qrpayload import PREFIX, QR_KID_LENGTH, QR_PREFIX, b64url, canonical_json, qr_compact
from certificates.signing import key_id
from verification.services import revocation_entry

PATH = Path(settings.BASE_DIR) / "docs" / "vectors" / "dmn-test-vectors.json"
SITE = "https://damane.cnss.ma"
TODAY = "2026-12-08"
_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def _key(phrase: str) -> ec.EllipticCurvePrivateKey:
    scalar = int.from_bytes(hashlib.sha256(phrase.encode()).digest(), "big") % _ORDER
    return ec.derive_private_key(scalar, ec.SECP256R1())


def _jwk(public: ec.EllipticCurvePublicKey, kid: str) -> dict:
    numbers = public.public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": b64url(numbers.x.to_bytes(32, "big")),
        "y": b64url(numbers.y.to_bytes(32, "big")),
        "kid": kid,
        "alg": "ES256",
        "use": "sig",
    }


def _sign(signing_input: str, key: ec.EllipticCurvePrivateKey) -> str:
    der = key.sign(signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
    r, s = decode_dss_signature(der)
    return f"{signing_input}.{b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def dmn2(claims: dict, key, kid: str) -> str:
    return _sign(f"{QR_PREFIX}.{kid[:QR_KID_LENGTH]}.{b64url(qr_compact(claims))}", key)


def dmn1(claims: dict, key, kid: str) -> str:
    return _sign(f"{PREFIX}.{kid}.{b64url(canonical_json(claims))}", key)


def _claims(public_id: str, kind, number: str, issued: str, until: str) -> dict:
    return {"id": public_id, "k": kind.code, "n": number, "h": "EL AMRANI Fatima Zahra", "i": issued, "u": until}


def build() -> dict:
    test_key = _key("damane DMN test vector key 1 (not the fund's)")
    other_key = _key("damane DMN test vector key 2 (never published)")
    kid = key_id(test_key.public_key())
    # A second published key whose id shares the first 8 hex digits: a verifier must try both.
    colliding_kid = kid[:QR_KID_LENGTH] + "00000000"  # listed, and tried, first
    kinds = sorted(registry.kinds(), key=lambda kind: kind.code)
    vectors = []

    def add(name, description, token, *, public_id, keys="keys", expect):
        vectors.append(
            {
                "name": name,
                "description": description,
                "qr_text": f"{SITE}/verify/{public_id}#{token}" if public_id else None,
                "token": token,
                "keys": keys,
                "expect": expect,
            }
        )

    for index, kind in enumerate(kinds):
        public_id = b64url(hashlib.sha256(f"vector {kind.value}".encode()).digest()[:16])
        claims = _claims(public_id, kind, f"{kind.number_prefix}-2026-{index + 1:08d}", "2026-11-20", "2027-02-20")
        add(
            f"dmn2-genuine-{kind.value}",
            f"A genuine {kind.value} certificate (letter {kind.code}), valid on {TODAY}.",
            dmn2(claims, test_key, kid),
            public_id=public_id,
            expect={"genuine": True, "claims": claims, "state": "valid"},
        )
    employment = next(kind for kind in kinds if kind.value == "employment")

    def certificate(label: str, issued="2026-11-20", until="2027-02-20") -> dict:
        public_id = b64url(hashlib.sha256(f"vector {label}".encode()).digest()[:16])
        return _claims(public_id, employment, "AT-2026-00009999", issued, until)

    expired = certificate("expired", "2026-08-01", "2026-12-07")
    add(
        "dmn2-expired",
        f"Genuine, but valid_until 2026-12-07 is before {TODAY} (Africa/Casablanca): expired.",
        dmn2(expired, test_key, kid),
        public_id=expired["id"],
        expect={"genuine": True, "claims": expired, "state": "expired"},
    )
    last_day = certificate("last-day", "2026-09-08", TODAY)
    add(
        "dmn2-last-day",
        f"Genuine, valid_until is {TODAY} itself: still valid that whole day in Africa/Casablanca.",
        dmn2(last_day, test_key, kid),
        public_id=last_day["id"],
        expect={"genuine": True, "claims": last_day, "state": "valid"},
    )
    revoked = certificate("revoked")
    add(
        "dmn2-revoked",
        "Genuine signature, but SHA-256 of its id is in the revocation list's revoked: revoked.",
        dmn2(revoked, test_key, kid),
        public_id=revoked["id"],
        expect={"genuine": True, "claims": revoked, "state": "revoked"},
    )
    replaced = certificate("replaced")
    add(
        "dmn2-replaced",
        "Genuine signature, but SHA-256 of its id is in the revocation list's replaced: replaced.",
        dmn2(replaced, test_key, kid),
        public_id=replaced["id"],
        expect={"genuine": True, "claims": replaced, "state": "replaced"},
    )
    forged = certificate("forged")
    genuine_token = dmn2(forged, test_key, kid)
    altered = dict(forged, h="BENNANI Amina")
    prefix_part = genuine_token.rsplit(".", 2)[0]
    add(
        "dmn2-forged-claims",
        "The holder's name changed after signing, the signature kept: bad signature.",
        f"{prefix_part}.{b64url(qr_compact(altered))}.{genuine_token.rsplit('.', 1)[1]}",
        public_id=forged["id"],
        expect={"genuine": False, "error": "bad_signature"},
    )
    add(
        "dmn2-forged-key",
        "Signed with a key the fund never published, naming the published key id: bad signature.",
        dmn2(forged, other_key, kid),
        public_id=forged["id"],
        expect={"genuine": False, "error": "bad_signature"},
    )
    add(
        "dmn2-unknown-key",
        "Names a key id that is not published: unknown key (sync the keys again; then not genuine).",
        dmn2(forged, other_key, key_id(other_key.public_key())),
        public_id=forged["id"],
        expect={"genuine": False, "error": "unknown_key"},
    )
    add(
        "dmn2-grafted",
        "A genuine payload behind another certificate's address: the path id and the claim id differ.",
        genuine_token,
        public_id=revoked["id"],
        expect={"genuine": False, "error": "id_mismatch"},
    )
    add(
        "dmn2-key-prefix-collision",
        f"Two published keys share the first 8 hex digits {kid[:QR_KID_LENGTH]}; the one listed first did "
        "not sign: try each key whose id starts with them.",
        dmn2(forged, test_key, kid),
        public_id=forged["id"],
        keys="colliding_keys",
        expect={"genuine": True, "claims": forged, "state": "valid"},
    )
    seven = _sign(
        f"{QR_PREFIX}.{kid[:QR_KID_LENGTH]}.{b64url(qr_compact(forged)[:-1] + b',1]')}",
        test_key,
    )
    add(
        "dmn2-longer-array",
        "A signed array of 7 values: DMN2 has exactly 6; a longer array is refused, never read in part.",
        seven,
        public_id=forged["id"],
        expect={"genuine": False, "error": "malformed"},
    )
    add(
        "dmn3-unknown-version",
        "A version this verifier does not know: refused (not genuine for it).",
        "DMN3" + dmn2(forged, test_key, kid)[4:],
        public_id=forged["id"],
        expect={"genuine": False, "error": "unsupported_version"},
    )
    legacy = dict(forged, f={"e": "ATLAS TEXTILES SARL", "s": "2025-08-01", "p": "202510", "d": 26})
    add(
        "dmn1-genuine",
        "The earlier format (certificates issued before issue 11, and the revocation list): claims as a JSON "
        "object with the key facts f, the full 16-digit key id.",
        dmn1(legacy, test_key, kid),
        public_id=forged["id"],
        expect={"genuine": True, "claims": legacy, "state": "valid"},
    )
    return {
        "format": "DMN test vectors (docs/verification.md, 'Test vectors')",
        "generated_by": "python manage.py dmn_test_vectors",
        "today": TODAY,
        "time_zone": "Africa/Casablanca",
        "kinds": {kind.code: kind.value for kind in kinds},
        "keys": {"keys": [_jwk(test_key.public_key(), kid)]},
        "colliding_keys": {"keys": [_jwk(other_key.public_key(), colliding_kid), _jwk(test_key.public_key(), kid)]},
        "revocations": {
            "revoked": [revocation_entry(revoked["id"])],
            "replaced": [revocation_entry(replaced["id"])],
        },
        "vectors": vectors,
    }


def text() -> str:
    return json.dumps(build(), ensure_ascii=False, indent=1) + "\n"
