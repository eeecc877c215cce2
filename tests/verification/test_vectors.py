"""The DMN test vectors of docs/verification.md are what the code does (issue 26 item 8).

docs/vectors/dmn-test-vectors.json is rebuilt and compared (a change to the format or
to the kinds must regenerate it: ``python manage.py dmn_test_vectors``), then every
vector is run through the portal's own readers, with only what the file gives: its
keys as JWKs, its revocation list and its "today"."""

import datetime as dt
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from certificates.qrpayload import PayloadError, b64url_decode, verify_payload
from verification import services, vectors

FILE = json.loads(vectors.PATH.read_text())


def _keys(jwks: dict) -> dict:
    keys = {}
    for jwk in jwks["keys"]:
        x, y = (int.from_bytes(b64url_decode(jwk[c]), "big") for c in ("x", "y"))
        keys[jwk["kid"]] = ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()
    return keys


def test_the_vectors_file_is_what_the_command_writes_now():
    assert vectors.PATH.read_text() == vectors.text(), "stale: run python manage.py dmn_test_vectors"


def test_there_is_a_vector_of_every_kind_and_every_outcome():
    names = {vector["name"] for vector in FILE["vectors"]}
    assert {f"dmn2-genuine-{kind}" for kind in FILE["kinds"].values()} <= names
    states = {vector["expect"].get("state") for vector in FILE["vectors"]}
    errors = {vector["expect"].get("error") for vector in FILE["vectors"]}
    assert {"valid", "expired", "revoked", "replaced"} <= states
    assert {"bad_signature", "unknown_key", "malformed", "unsupported_version", "id_mismatch"} <= errors


def _state(claims: dict) -> str:
    entry = services.revocation_entry(claims["id"])
    if entry in FILE["revocations"]["revoked"]:
        return "revoked"
    if entry in FILE["revocations"]["replaced"]:
        return "replaced"
    if dt.date.fromisoformat(FILE["today"]) > dt.date.fromisoformat(claims["u"]):
        return "expired"
    return "valid"


@pytest.mark.parametrize("vector", FILE["vectors"], ids=lambda vector: vector["name"])
def test_each_vector_verifies_as_it_says_with_the_portal_s_own_code(vector):
    keys = _keys(FILE[vector["keys"]])
    expect = vector["expect"]
    try:
        claims = verify_payload(vector["token"], keys)
    except PayloadError as error:
        assert not expect["genuine"] and error.code == expect["error"]
        return
    # The address and the payload must name the same certificate (services.read_qr_text).
    read = services.read_qr_text(vector["qr_text"], public_keys=keys)
    if expect["genuine"]:
        assert claims == expect["claims"] == read
        assert _state(claims) == expect["state"]
    else:
        assert expect["error"] == "id_mismatch" and read is None and claims["id"] not in vector["qr_text"]


def test_the_documented_example_is_a_vector_and_a_version_12_qr_code(settings):
    from pathlib import Path

    from certificates.rendering import qr_version

    doc = (Path(settings.BASE_DIR) / "docs" / "verification.md").read_text()
    example = next(v for v in FILE["vectors"] if v["name"] == "dmn2-genuine-employment")["qr_text"]
    assert example in doc and f"{len(example)} characters" in doc
    assert qr_version(example) == 12 and "version 12" in doc
