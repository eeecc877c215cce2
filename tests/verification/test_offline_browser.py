"""The offline verifier in Debian's Chromium: loaded once, then checks QR payloads with the network cut."""

import pytest
from playwright.sync_api import sync_playwright

from certificates.services import certificate_revoke

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-gpu",
]


@pytest.fixture
def browser_page(live_server, monkeypatch):
    """Request it after the fixtures that sign certificates: pyHanko runs its own
    event loop, which cannot start inside Playwright's."""
    # Playwright's sync API runs an event loop in this thread; the ORM stays synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 390, "height": 844})
        yield context, context.new_page()
        browser.close()


def load(page, live_server):
    page.goto(f"{live_server.url}/verify/offline/")
    # A selector, not wait_for_function: the page's CSP forbids the eval that polling a string needs.
    page.wait_for_selector("#sync-status:not(:empty)")


def verify(page, text):
    page.fill("#payload", text)
    page.click("#offline-form button[type=submit]")
    page.wait_for_selector("#offline-result:not(.hidden)")
    return page.inner_text("#offline-result")


def test_a_genuine_payload_verifies_with_the_network_cut(certificate, qr_text, browser_page, live_server):
    context, page = browser_page
    load(page, live_server)
    context.set_offline(True)
    result = verify(page, qr_text)
    page.screenshot(path="/tmp/verify-offline.png", full_page=True)  # noqa: S108 - for a person to look at
    assert "Genuine and valid certificate." in result
    assert certificate.number in result and "BENNANI AMINA" in result
    assert page.evaluate("navigator.onLine") is False


def test_a_tampered_payload_is_refused_offline(qr_text, browser_page, live_server):
    context, page = browser_page
    load(page, live_server)
    context.set_offline(True)
    head, signature = qr_text.rsplit(".", 1)
    tampered = head.replace("BENNANI", "BENNANY") if "BENNANI" in head else head[:-3] + "AAA"
    assert "Not a genuine certificate" in verify(page, f"{tampered}.{signature}")
    assert "Not a genuine certificate" in verify(page, "hello")


def test_a_revocation_synced_before_going_offline_is_shown_offline(
    certificate, qr_text, django_user_model, browser_page, live_server
):
    agent = django_user_model.objects.create_user(username="agent", password="x" * 16, is_staff=True)
    certificate_revoke(certificate=certificate, actor=agent, reason="Fraud")
    context, page = browser_page
    load(page, live_server)
    context.set_offline(True)
    assert "Genuine, but revoked by the fund." in verify(page, qr_text)


@pytest.fixture
def other(certificate):
    """Certificate B, issued before the browser starts (see browser_page)."""
    from certificates.services import certificate_issue

    return certificate_issue(insured=certificate.insured, kind="affiliation")


def _grafted(qr_text, public_id):
    address, payload = qr_text.split("#", 1)
    return f"{address.rsplit('/', 1)[0]}/{public_id}#{payload}"


def test_a_payload_grafted_onto_another_address_is_refused_offline(
    certificate, other, qr_text, browser_page, live_server
):
    context, page = browser_page
    load(page, live_server)
    context.set_offline(True)
    result = verify(page, _grafted(qr_text, other.public_id))
    assert "names another certificate than its signed content" in result
    assert certificate.number not in result
    assert "Genuine and valid certificate." in verify(page, qr_text)


def test_the_verify_page_opened_by_a_grafted_qr_code_says_not_genuine(
    certificate, other, qr_text, browser_page, live_server
):
    _context, page = browser_page
    payload = qr_text.split("#", 1)[1]
    # What a phone opens: B's address, with A's payload in the fragment.
    page.goto(f"{live_server.url}/verify/{other.public_id}#{payload}")
    page.wait_for_selector("#qr-check:not([hidden])")
    page.screenshot(path="/tmp/verify-grafted.png", full_page=True)  # noqa: S108 - for a person to look at
    assert "Not genuine: altered QR code" in page.inner_text("main")
    assert not page.is_visible("#certificate-verdict")
    # The genuine code opens the genuine verdict, untouched.
    page.goto(f"{live_server.url}/verify/{certificate.public_id}#{payload}")
    page.wait_for_selector("#certificate-verdict")
    page.wait_for_load_state("networkidle")
    assert page.is_visible("#certificate-verdict") and not page.is_visible("#qr-check")
    assert "Genuine and valid certificate" in page.inner_text("main")
