"""Issue 19: every certificate kind, for a registered holder or not, through the offline verifier in Debian's
Chromium, and the QR link opened in the browser (the verify page's own check of the QR code's fragment).

One browser session for all kinds: the certificates are issued once, before the browser starts (pyHanko runs
its own event loop, which cannot start inside Playwright's). Online the verifier syncs the keys and the
revocation list; with the network cut it says genuine and valid for each; after the fund revokes them, one
sync later and offline again, it says revoked for each."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import sync_playwright

from tests.accounts.conftest import live_server  # noqa: F401 (the project's live server fixture)
from tests.verification.matrix import HOLDERS, cast, issue_all, revoke, today

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-gpu",
]
VALID = "Genuine and valid certificate."
REVOKED = "Genuine, but revoked by the fund."


def load(page, url):
    page.goto(f"{url}/verify/offline/")
    # A selector, not wait_for_function: the page's CSP forbids the eval that polling a string needs.
    page.wait_for_selector("#sync-status:not(:empty)")


def verify(page, text) -> str:
    page.fill("#payload", text)
    page.click("#offline-form button[type=submit]")
    page.wait_for_selector("#offline-result:not(.hidden)")
    result = page.inner_text("#offline-result")
    page.click("#verify-another")
    page.wait_for_selector("#offline-result.hidden", state="attached")
    return result


def test_every_kind_verifies_offline_genuine_then_revoked(transactional_db, monkeypatch, live_server):  # noqa: F811
    people = cast(today())
    issued = issue_all(people)
    assert [item.holder for item in issued] == HOLDERS
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US")
            page = context.new_page()
            # The QR link as a phone opens it, with the signed payload in the fragment.
            for item in issued:
                page.goto(live_server.url + urlsplit(item.qr_text).path + "#" + item.qr_text.split("#", 1)[1])
                page.wait_for_selector("#certificate-verdict")
                page.wait_for_load_state("networkidle")
                main = page.inner_text("main")
                assert "Genuine and valid certificate" in main and item.certificate.number in main, item.holder.id
                assert not page.is_visible("#qr-check"), item.holder.id

            load(page, live_server.url)
            context.set_offline(True)
            answers = {item.holder.id: verify(page, item.qr_text) for item in issued}
            for item in issued:
                assert VALID in answers[item.holder.id], (item.holder.id, answers[item.holder.id])
                assert item.certificate.number in answers[item.holder.id]

            context.set_offline(False)
            for item in issued:
                revoke(item, people["supervisor"])
            load(page, live_server.url)
            context.set_offline(True)
            answers = {item.holder.id: verify(page, item.qr_text) for item in issued}
            for item in issued:
                assert REVOKED in answers[item.holder.id], (item.holder.id, answers[item.holder.id])
            context.set_offline(False)
            for item in issued:
                page.goto(live_server.url + urlsplit(item.qr_text).path)
                assert "Revoked certificate" in page.inner_text("main"), item.holder.id
        finally:
            browser.close()
