"""Certificates signed by a key that was retired or revoked (issue 25, item 4; docs/signing.md).

Retired (routine rotation): earlier QR payloads still verify, online and offline.
Revoked (the key leaked): its payloads no longer verify offline, since a forgery
would look the same; the verify page, which answers from the database, keeps
answering for every certificate, and new certificates verify everywhere.
"""

import shutil
from io import StringIO

import pytest
from django.core.management import call_command

from certificates import qrpayload, signing
from certificates.services import certificate_issue


@pytest.fixture
def own_keys(tmp_path, signing_dir, signing_settings):
    """A copy of the session's keys, so that rotating here changes no other test."""
    directory = tmp_path / "keys"
    shutil.copytree(signing_dir, directory)
    qrpayload.reset_key_cache()
    signing.reset_material_cache()
    with signing_settings(directory):
        yield directory
    qrpayload.reset_key_cache()
    signing.reset_material_cache()


@pytest.fixture
def certificate(own_keys, amina):
    return certificate_issue(insured=amina, kind="employment")


def published_kids(client) -> set[str]:
    return {key["kid"] for key in client.get("/verify/keys.json").json()["keys"]}


def verify_page_state(client, certificate) -> str:
    page = client.get(f"/verify/{certificate.public_id}")
    assert page.status_code == 200
    return page.content.decode()


@pytest.mark.django_db
def test_after_a_routine_rotation_earlier_certificates_verify_online_and_offline(client, certificate, qr_text):
    old_kid = certificate.qr_key_id
    call_command("rotate_signing_key", "--retire-previous", stdout=StringIO())
    assert old_kid in published_kids(client)
    token = qr_text.split("#", 1)[1]
    assert qrpayload.verify_payload(token)["n"] == certificate.number
    assert certificate.number in verify_page_state(client, certificate)


@pytest.mark.django_db
def test_after_a_revocation_its_payloads_stop_verifying_but_the_verify_page_still_answers(
    client, certificate, qr_text, own_keys, amina
):
    old_kid = certificate.qr_key_id
    out = StringIO()
    call_command("rotate_signing_key", "--revoke-previous", stdout=out)
    assert f"revoked {old_kid}" in out.getvalue()
    # No longer published, private half gone, public half kept aside.
    assert old_kid not in published_kids(client)
    assert not (own_keys / "qr-keys" / f"{old_kid}.pem").exists()
    assert (own_keys / "qr-keys" / "revoked" / f"{old_kid}.pub.pem").exists()
    token = qr_text.split("#", 1)[1]
    with pytest.raises(qrpayload.PayloadError) as refused:
        qrpayload.verify_payload(token)
    assert refused.value.code == "unknown_key"
    # The verify page answers from the database: the certificate is still the fund's, still valid.
    page = verify_page_state(client, certificate)
    assert certificate.number in page
    assert "Genuine" in page or "genuine" in page
    # A certificate issued now carries a payload of the new key, which verifies.
    fresh = certificate_issue(insured=amina, kind="affiliation")
    assert fresh.qr_key_id != old_kid and fresh.qr_key_id in published_kids(client)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_offline_verifier_learns_a_revocation_at_its_next_sync(certificate, qr_text, live_server, monkeypatch):
    from playwright.sync_api import sync_playwright

    from tests.verification.test_offline_browser import CHROMIUM_ARGS, load, verify

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 390, "height": 844})
        page = context.new_page()
        load(page, live_server)
        context.set_offline(True)
        assert "Genuine and valid certificate." in verify(page, qr_text)
        context.set_offline(False)
        # The key that signed it leaked: revoked, a fresh sync no longer knows it.
        call_command("rotate_signing_key", "--revoke-previous", stdout=StringIO())
        page.close()
        second = context.new_page()
        load(second, live_server)
        context.set_offline(True)
        assert "Genuine and valid certificate." not in verify(second, qr_text)
        browser.close()
