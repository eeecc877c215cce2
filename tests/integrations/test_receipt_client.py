"""docs/integrators.md's Python client for signed receipts (issue 26 item 3), run as printed
against a real receipt of the live portal: it accepts that one and refuses an altered one, one
signed by a key the fund never published and one that names another algorithm."""

import hashlib
import hmac
import json
import re
from pathlib import Path

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from certificates.qrpayload import b64url, b64url_decode, public_jwks
from tests.integrations.conftest import bearer

pytestmark = pytest.mark.django_db(transaction=True)  # committed, for the live server to find them

DOC = (Path(__file__).resolve().parents[2] / "docs" / "integrators.md").read_text()
DOCUMENTED_SITE = 'SITE = "https://damane.cnss.ma"'


def client_code(site: str) -> str:
    code = re.search(r"<!-- receipt-client -->\s*```python\n(.*?)```", DOC, re.S).group(1)
    assert DOCUMENTED_SITE in code
    return code.replace(DOCUMENTED_SITE, f"SITE = {site!r}")


def _sign(key, header: dict, claims: dict) -> str:
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    r, s = decode_dss_signature(key.sign(signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256())))
    return f"{signing_input}.{b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def test_the_python_client_in_the_docs_checks_a_real_receipt(
    live_server, key, certificate, tmp_path, monkeypatch, capsys
):
    answer = requests.get(
        f"{live_server.url}/api/v1/verify",
        params={"code": certificate.verification_code},
        headers={"Accept": "application/jose", "Authorization": bearer(key[1])["HTTP_AUTHORIZATION"]},
        timeout=30,
    )
    assert answer.headers["Content-Type"] == "application/jose"
    receipt = answer.text
    (tmp_path / "receipt.jws").write_text(receipt)
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(client_code(live_server.url), "docs/integrators.md", "exec"), namespace)  # noqa: S102  (the repository's own docs)
    head, payload, signature = receipt.split(".")
    header, claims = json.loads(b64url_decode(head)), json.loads(b64url_decode(payload))
    # What the example prints: when, what was asked, the state the fund answered.
    printed = capsys.readouterr().out
    assert printed.startswith(f"{claims['iat']} ") and certificate.verification_code in printed
    assert printed.rstrip().endswith(" valid")
    check = namespace["check_receipt"]
    checked = check(receipt)
    assert checked["res"]["number"] == certificate.number and checked["org"] == "BANQUE EXEMPLE"
    assert checked["key"] == key[0].prefix and header["kid"] in {k["kid"] for k in public_jwks()["keys"]}

    # One byte of the signed claims changed: the last digit of the certificate's number.
    altered = bytearray(b64url_decode(payload))
    at = altered.index(certificate.number.encode()) + len(certificate.number) - 1
    altered[at] = ord("9") if altered[at] != ord("9") else ord("8")
    with pytest.raises(jwt.InvalidTokenError):
        check(f"{head}.{b64url(bytes(altered))}.{signature}")
    # Signed by a key the fund never published, under an unknown kid and under the fund's.
    stranger = ec.generate_private_key(ec.SECP256R1())
    with pytest.raises(jwt.InvalidTokenError, match="not signed with a published key"):
        check(_sign(stranger, {**header, "kid": "0123456789abcdef"}, claims))
    with pytest.raises(jwt.InvalidTokenError):
        check(_sign(stranger, header, claims))
    # Algorithm confusion: HS256 keyed with the fund's public key, which anyone can read.
    public_pem = namespace["keys"][header["kid"]].public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    confused = f"{b64url(json.dumps({**header, 'alg': 'HS256'}).encode())}.{payload}"
    mac = hmac.new(public_pem, confused.encode("ascii"), hashlib.sha256).digest()
    with pytest.raises(jwt.InvalidTokenError):
        check(f"{confused}.{b64url(mac)}")
    with pytest.raises(jwt.InvalidTokenError):
        check("not a receipt")
