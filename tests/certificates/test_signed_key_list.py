"""The published keys signed by the fund (/verify/keys.jws, issue 25 item 1): a third party checks them
against the fund's root certificate alone, with the file key and with the key in the token (SoftHSM2).

Here rather than in tests/verification: the token fixtures (tests/certificates/conftest.py) are
made once per process.
"""

import base64
import json
from io import StringIO

import pytest
from cryptography import x509
from django.core.management import call_command

from certificates import signing
from certificates.qrpayload import b64url, b64url_decode, canonical_json, public_jwks
from verification import keylist


@pytest.fixture(autouse=True)
def _fresh_signed_list():
    keylist.reset_cache()
    yield
    keylist.reset_cache()


def _root(directory) -> list[x509.Certificate]:
    return [x509.load_pem_x509_certificate((directory / "root-ca.pem").read_bytes())]


def _download(client) -> str:
    response = client.get("/verify/keys.jws")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/jose"
    assert response["Access-Control-Allow-Origin"] == "*"
    return response.content.decode("ascii")


def _parts(token: str) -> tuple[dict, dict, str]:
    header, payload, signature = token.split(".")
    return json.loads(b64url_decode(header)), json.loads(b64url_decode(payload)), signature


def _check(tmp_path, token: str, *args: str) -> tuple[int, str, str]:
    path = tmp_path / "keys.jws"
    path.write_text(token)
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_certificate", "--keys", str(path), *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    return code, out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_the_signed_key_list_holds_the_published_keys_and_verifies_against_the_funds_root(
    client, signing_dir, tmp_path
):
    token = _download(client)
    header, payload, _signature = _parts(token)
    # The same keys as keys.json, signed by the document-signing certificate, its chain in x5c.
    assert payload["keys"] == client.get("/verify/keys.json").json()["keys"] == public_jwks()["keys"]
    assert header["alg"] == "ES256" and header["typ"] == "jwk-set+jwt"
    leaf = x509.load_der_x509_certificate(base64.b64decode(header["x5c"][0]))
    assert leaf == signing.signing_certificate_chain()[0]
    _header, checked = keylist.verify_key_list(token, _root(signing_dir))
    assert checked["keys"] == payload["keys"]

    code, out, err = _check(tmp_path, token, "--root", str(signing_dir / "root-ca.pem"))
    assert code == 0, err
    assert "ok   certificate chain leads to the fund's root" in out
    assert all(key["kid"] in out for key in payload["keys"])
    # Without --root, the command trusts the configured chain's root; with the CA's CRL, it checks revocation.
    code, out, err = _check(tmp_path, token, "--crl", str(signing_dir / "root-ca.crl"), "--json")
    assert code == 0, err
    assert json.loads(out)["signed_by_fund"] is True


@pytest.mark.django_db
def test_an_altered_key_list_or_one_checked_against_another_root_is_refused(client, signing_dir, tmp_path):
    token = _download(client)
    header_b64, _payload_b64, signature = token.split(".")
    _header, payload, _sig = _parts(token)
    forged_key = {**payload["keys"][0], "kid": "0123456789abcdef"}
    altered = f"{header_b64}.{b64url(canonical_json({**payload, 'keys': [*payload['keys'], forged_key]}))}.{signature}"
    with pytest.raises(keylist.KeyListError) as refused:
        keylist.verify_key_list(altered, _root(signing_dir))
    assert refused.value.code == "bad_signature"
    code, _out, err = _check(tmp_path, altered, "--root", str(signing_dir / "root-ca.pem"))
    assert code == 1 and "not a key list signed by the fund" in err

    # A root with the very same name, but another key: the genuine list does not lead to it.
    other = tmp_path / "other-ca"
    other.mkdir()
    signing.create_dev_pki(other)
    with pytest.raises(keylist.KeyListError) as refused:
        keylist.verify_key_list(token, _root(other))
    assert refused.value.code == "untrusted_chain"
    code, _out, err = _check(tmp_path, token, "--root", str(other / "root-ca.pem"))
    assert code == 1 and "not valid under the fund's root" in err


@pytest.mark.django_db
def test_a_key_list_signed_under_another_ca_is_refused_even_when_it_carries_that_root(
    signing_dir, signing_settings, tmp_path
):
    # Whoever runs a look-alike CA (same names) signs a list of their own keys, its chain in x5c.
    other = tmp_path / "other-ca"
    other.mkdir()
    signing.create_dev_pki(other)
    signing.reset_material_cache()
    try:
        with signing_settings(other):
            forged = keylist.sign_key_list({"keys": []})
    finally:
        signing.reset_material_cache()
    header, _payload, _sig = _parts(forged)
    assert len(header["x5c"]) == 2  # its signing certificate and its own root
    keylist.verify_key_list(forged, _root(other))  # genuine for that CA
    with pytest.raises(keylist.KeyListError) as refused:
        keylist.verify_key_list(forged, _root(signing_dir))
    assert refused.value.code == "untrusted_chain"
    code, _out, err = _check(tmp_path, forged)  # the configured (fund's) root
    assert code == 1 and "not valid under the fund's root" in err


@pytest.mark.django_db
def test_a_revoked_signing_certificate_is_refused_with_the_cas_crl(client, signing_dir, tmp_path):
    import shutil

    from django.utils import timezone

    token = _download(client)
    ca = tmp_path / "ca"
    ca.mkdir()
    for name in ("root-ca-key.pem", "root-ca.pem", "root-ca.crl"):
        shutil.copy(signing_dir / name, ca / name)
    serial = signing.signing_certificate_chain()[0].serial_number
    signing.write_dev_crl(ca, revoked=((serial, timezone.now()),))
    code, _out, err = _check(tmp_path, token, "--root", str(ca / "root-ca.pem"), "--crl", str(ca / "root-ca.crl"))
    assert code == 1 and "not valid under the fund's root" in err


@pytest.mark.django_db
def test_the_signed_key_list_is_signed_in_the_token_and_verifies_against_the_root(token_settings, client, tmp_path):
    from certificates import keystore

    token = _download(client)
    assert signing.get_signing_material().key.kind == "pkcs11"
    header, payload, _sig = _parts(token)
    assert payload["keys"] == public_jwks()["keys"]
    leaf = x509.load_der_x509_certificate(base64.b64decode(header["x5c"][0]))
    token_key = keystore.Pkcs11Key(keystore.configured_token(), "damane-signing")
    assert keystore.key_id(leaf.public_key()) == keystore.key_id(token_key.public_key())
    _header, checked = keylist.verify_key_list(token, _root(token_settings))
    assert {key["kid"] for key in checked["keys"]} == {key["kid"] for key in public_jwks()["keys"]}
    code, out, err = _check(tmp_path, token, "--root", str(token_settings / "root-ca.pem"))
    assert code == 0, err
    assert f"signature by the fund's signing key {token_key.kid}" in out
    header_b64, _payload_b64, signature = token.split(".")
    older = f"{header_b64}.{b64url(canonical_json({**payload, 'iat': payload['iat'] + 86400}))}.{signature}"
    code, _out, err = _check(tmp_path, older, "--root", str(token_settings / "root-ca.pem"))
    assert code == 1 and "the signature does not match" in err


def test_the_list_is_signed_once_for_a_burst_and_again_when_the_keys_change(signing_dir, monkeypatch):
    first = keylist.current_key_list()
    assert keylist.current_key_list() == first  # a burst of downloads: one signature
    rotated = {"keys": [*public_jwks()["keys"], {**public_jwks()["keys"][0], "kid": "fedcba9876543210"}]}
    monkeypatch.setattr(keylist, "public_jwks", lambda: rotated)
    second = keylist.current_key_list()
    assert second != first
    assert _parts(second)[1]["keys"] == rotated["keys"]


@pytest.mark.django_db
def test_without_a_usable_signing_key_the_signed_list_answers_503_not_an_unsigned_list(
    client, signing_settings, tmp_path
):
    signing.reset_material_cache()
    try:
        with signing_settings(tmp_path):  # no key, no certificate there
            response = client.get("/verify/keys.jws")
    finally:
        signing.reset_material_cache()
    assert response.status_code == 503
    assert response["Retry-After"] == "60"
    assert response.content == b""


@pytest.mark.django_db
def test_the_documented_third_party_check_accepts_the_list_and_refuses_another_root(client, signing_dir, tmp_path):
    import re
    import subprocess
    import sys
    from pathlib import Path

    from django.conf import settings

    doc = (Path(settings.BASE_DIR) / "docs" / "verification.md").read_text()
    section = doc[doc.index("## The signed key list") :]
    script = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    (tmp_path / "check.py").write_text(script + '\nprint("KEYS", *[k["kid"] for k in keys["keys"]])\n')
    (tmp_path / "keys.jws").write_text(_download(client))
    (tmp_path / "root-ca.pem").write_bytes((signing_dir / "root-ca.pem").read_bytes())

    def run():
        return subprocess.run(
            [sys.executable, "check.py"], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
        )

    done = run()
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("KEYS")[1].split() == [key["kid"] for key in public_jwks()["keys"]]
    other = tmp_path / "other-ca"
    other.mkdir()
    signing.create_dev_pki(other)
    (tmp_path / "root-ca.pem").write_bytes((other / "root-ca.pem").read_bytes())
    done = run()
    assert done.returncode != 0 and "KEYS" not in done.stdout
