"""A demo persona registers, reads the SMS code from the file backend, activates, logs in and sees the dashboard,
in Debian's Chromium on a phone-sized screen (issue item 7)."""

import re

import pytest
from playwright.sync_api import expect, sync_playwright

from tests.accounts.accounts_testkit import CODE_RE, PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-gpu",
]


@pytest.fixture
def sms_dir(settings, tmp_path, monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the ORM calls of
    # the live server and fixtures are still synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = tmp_path / "sms"
    return tmp_path / "sms"


def read_code(sms_dir, phone):
    [message] = sorted(sms_dir.iterdir())
    text = message.read_text()
    assert text.startswith(f"To: {phone}\n")
    return CODE_RE.search(text).group(1)


def test_a_persona_registers_activates_logs_in_and_sees_the_dashboard(transactional_db, live_server, amina, sms_dir):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844}, locale="en-US")
            page.goto(live_server.url + "/")
            page.get_by_role("link", name="Register").first.click()
            expect(page).to_have_url(re.compile(r"/register/$"))
            page.get_by_label("CNSS number").fill("100234561")
            page.get_by_label("National ID number (CIN)").fill("be123456")
            page.get_by_label("Personal e-mail address").fill("amina.bennani@example.ma")
            page.get_by_label("Password", exact=True).fill(PASSWORD)
            page.get_by_role("button", name="Register and receive my code").click()

            expect(page).to_have_url(re.compile(r"/register/activate/$"))
            expect(page.locator("main")).to_contain_text("+212 6•• ••• •01")
            page.get_by_label("Code received by SMS").fill(read_code(sms_dir, "+212612345601"))
            page.get_by_role("button", name="Activate my account").click()

            expect(page).to_have_url(re.compile(r"/me/$"))
            expect(page.locator("h1")).to_have_text("Hello, BENNANI AMINA")
            page.get_by_role("button", name="Log out").click()
            expect(page).to_have_url(re.compile(r"/$"))

            page.get_by_role("link", name="Log in").first.click()
            page.get_by_label("CNSS number or e-mail address").fill("amina.bennani@example.ma")
            page.get_by_label("Password", exact=True).fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()

            expect(page).to_have_url(re.compile(r"/me/$"))
            main = page.locator("main")
            expect(main).to_contain_text("MAROC DIGITAL SERVICES SA")
            expect(main.locator(".badge-ok")).to_have_text("Up to date")
            expect(main.locator(".badge-warn")).to_have_text("One period behind")
            expect(main.locator("table.periods tr.month")).to_have_count(12)
            expect(page.get_by_role("link", name="Get a certificate")).to_have_attribute("href", "/certificates/")
            # Nothing overflows sideways on a phone.
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            page.screenshot(path="/tmp/dashboard.png", full_page=True)  # noqa: S108 (looked at by a person)
        finally:
            browser.close()
