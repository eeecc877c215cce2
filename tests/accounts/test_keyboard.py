"""Registration, activation, login and issuing a certificate with the keyboard alone (Tab, Space, Enter),
on a phone-sized screen in Debian's Chromium: every step can be reached and pressed without a mouse."""

import re

import pytest
from playwright.sync_api import expect, sync_playwright

from certificates.models import Certificate
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
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = tmp_path / "sms"
    return tmp_path / "sms"


def tab_to(page, matches, limit=60):
    """Press Tab until the focused element satisfies ``matches`` (a JS predicate on document.activeElement)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"() => {{ const e = document.activeElement; return !!({matches}); }}"):
            return
    raise AssertionError(f"never reached by Tab: {matches}")


def type_into(page, name, text):
    tab_to(page, f"e.name === '{name}'")
    page.keyboard.type(text)


def test_a_worker_registers_activates_logs_in_and_gets_a_certificate_with_the_keyboard_only(
    transactional_db, live_server, amina, sms_dir
):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844}, locale="en-US")
            page.goto(live_server.url + "/")
            tab_to(page, "e.tagName === 'A' && e.textContent.trim() === 'Register'")
            page.keyboard.press("Enter")
            expect(page).to_have_url(re.compile(r"/register/$"))

            # A mistake first: the error summary takes focus and its link leads back to the field.
            type_into(page, "cnss_number", "100234561")
            type_into(page, "cin", "123")
            type_into(page, "email", "amina.bennani@example.ma")
            type_into(page, "password", PASSWORD)
            tab_to(page, "e.type === 'submit'")
            page.keyboard.press("Enter")
            expect(page).to_have_title(re.compile(r"^Error: "))
            assert page.evaluate("() => document.activeElement.id") == "error-summary"
            tab_to(page, "e.getAttribute('href') === '#id_cin'", limit=3)
            page.keyboard.press("Enter")
            assert page.evaluate("() => document.activeElement.id") == "id_cin"
            page.keyboard.press("Control+A")
            page.keyboard.type("BE123456")
            assert page.input_value("#id_email") == "amina.bennani@example.ma"
            type_into(page, "password", PASSWORD)
            # The show-password button is a real button, reachable and pressable.
            page.keyboard.press("Tab")
            assert page.evaluate("() => document.activeElement.className") == "password-toggle"
            page.keyboard.press("Space")
            assert page.get_attribute("#id_password", "type") == "text"
            tab_to(page, "e.type === 'submit'")
            page.keyboard.press("Enter")

            expect(page).to_have_url(re.compile(r"/register/activate/$"))
            [message] = sorted(sms_dir.iterdir())
            code = CODE_RE.search(message.read_text()).group(1)
            assert page.evaluate("() => document.activeElement.name") == "code"  # autofocus
            page.keyboard.type(code)
            page.keyboard.press("Enter")
            expect(page).to_have_url(re.compile(r"/me/$"))

            tab_to(page, "e.tagName === 'BUTTON' && e.textContent.trim() === 'Log out'")
            page.keyboard.press("Enter")
            expect(page).to_have_url(re.compile(r"/$"))
            tab_to(page, "e.tagName === 'A' && e.textContent.trim() === 'Log in'")
            page.keyboard.press("Enter")
            expect(page).to_have_url(re.compile(r"/login/$"))
            type_into(page, "identifier", "100234561")
            type_into(page, "password", PASSWORD)
            page.keyboard.press("Enter")
            expect(page).to_have_url(re.compile(r"/me/$"))

            tab_to(page, "e.tagName === 'A' && e.textContent.trim() === 'Get a certificate'")
            page.keyboard.press("Enter")
            expect(page).to_have_url(re.compile(r"/certificates/$"))
            tab_to(page, "e.tagName === 'A' && e.getAttribute('href') === '/certificates/new/affiliation/'")
            page.keyboard.press("Enter")
            expect(page).to_have_url(re.compile(r"/certificates/new/affiliation/$"))
            tab_to(page, "e.type === 'submit' && e.textContent.trim() === 'Create my certificate'")
            with page.expect_download() as download:
                page.keyboard.press("Enter")
            expect(page.locator("h1")).to_have_text("Your certificate is ready")
            assert download.value.suggested_filename == f"{Certificate.objects.get().number}.pdf"
        finally:
            browser.close()
