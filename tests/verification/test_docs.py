"""docs/verification.md is what integrators build verifiers from: its example must verify as documented."""

import json
import re
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings

from certificates import registry as kind_registry
from certificates.qrpayload import b64url_decode, split_qr_text, verify_payload

DOC = (Path(settings.BASE_DIR) / "docs" / "verification.md").read_text()


def test_the_documented_qr_text_verifies_with_the_documented_key_and_names_one_certificate():
    # The example is a test vector: it verifies with the vectors' test key (docs/vectors/).
    jwks = json.loads((Path(settings.BASE_DIR) / "docs" / "vectors" / "dmn-test-vectors.json").read_text())["keys"]
    (jwk,) = jwks["keys"]
    public = ec.EllipticCurvePublicNumbers(
        int.from_bytes(b64url_decode(jwk["x"]), "big"), int.from_bytes(b64url_decode(jwk["y"]), "big"), ec.SECP256R1()
    ).public_key()
    text = re.search(r"^https://damane\.cnss\.ma/verify/\S+$", DOC, re.M).group(0)
    public_id, token = split_qr_text(text)
    claims = verify_payload(token, {jwk["kid"]: public})
    assert claims["id"] == public_id
    assert claims["n"].startswith(kind_registry.get("employment").number_prefix + "-")
    decoded = b64url_decode(token.split(".")[2]).decode()
    assert decoded in DOC and f'"{claims["n"]}"' in decoded  # the claims shown decoded are the ones signed
    assert f"{len(text)} characters" in DOC


def test_the_doc_shows_real_certificate_numbers_and_no_stale_routing_note():
    numbers = re.findall(r"\b([A-Z]{2,4})-\d{4}-\d{8}\b", DOC)
    assert numbers and set(numbers) <= {kind.number_prefix for kind in kind_registry.kinds()}
    assert "not yet routed" not in DOC and "Open points" not in DOC
