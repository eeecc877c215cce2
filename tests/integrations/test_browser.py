"""In Chromium: the insured makes a share code, a landlord reads it on the public page, the
holder sees the use; a supervisor issues an API key. Screenshots go to /tmp/issue13a-*.png."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.test import Client
from django.utils import timezone
from playwright.sync_api import expect, sync_playwright

from accounts.models import User
from tests.accounts.conftest import live_server  # noqa: F401 (the project's live server fixture)
from tests.backoffice.conftest import make_staff, verified_login
from tests.factories import seed_personas

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-gpu"]
PHONE = {"width": 390, "height": 844}


def session_cookie(client: Client) -> str:
    return client.cookies["sessionid"].value


@pytest.fixture
def cast(transactional_db, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    amina = seed_personas("amina", today=timezone.localdate())["amina"]
    user = User.objects.create_user(username=amina.cnss_number, password="x" * 20, insured=amina)
    insured = Client()
    insured.force_login(user, backend="accounts.backends.InsuredBackend")
    staff = verified_login(Client(), make_staff("chef.browser", "agent", "supervisor"))
    return {"insured": session_cookie(insured), "staff": session_cookie(staff)}


def _context(browser, live_server, cookie=None, language="en"):  # noqa: F811
    host = live_server.url.split("//")[1].split(":")[0]
    context = browser.new_context(viewport=PHONE, locale=language)
    cookies = [{"name": "django_language", "value": language, "domain": host, "path": "/"}]
    if cookie:
        cookies.append({"name": "sessionid", "value": cookie, "domain": host, "path": "/"})
    context.add_cookies(cookies)
    return context


def test_a_share_code_from_creation_to_use_and_an_api_key_issued(cast, live_server):  # noqa: F811
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            holder = _context(browser, live_server, cast["insured"]).new_page()
            holder.goto(live_server.url + "/me/")
            holder.get_by_role("link", name="Share my employment status").click()
            expect(holder).to_have_url(re.compile(r"/me/sharing/$"))
            holder.get_by_label("Who is it for?").fill("Agence Atlas")
            holder.get_by_label("That I still work for this employer, and since when").check()
            holder.get_by_label("Whether this employer is up to date with its declarations").check()
            holder.get_by_role("button", name="Create the code").click()
            code = holder.locator(".share-code code").inner_text()
            assert re.fullmatch(r"[A-Z2-9]{5}-[A-Z2-9]{5}-[A-Z2-9]{5}", code)
            assert holder.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
            holder.screenshot(path="/tmp/issue13a-sharing.png", full_page=True)  # noqa: S108

            landlord = _context(browser, live_server).new_page()
            landlord.goto(live_server.url + "/share/")
            landlord.get_by_label("Share code").fill(code.lower())
            landlord.get_by_role("button", name="Check").click()
            expect(landlord.locator("h1")).to_have_text("What BENNANI AMINA shares with you")
            expect(landlord.locator(".share-facts")).to_contain_text("Still employed by")
            expect(landlord.locator(".share-facts")).not_to_contain_text("Last month declared")
            assert not Axe().run(landlord).violations_count
            landlord.screenshot(path="/tmp/issue13a-share-result.png", full_page=True)  # noqa: S108

            holder.goto(live_server.url + "/me/")
            expect(holder.locator("#checks-title + ul")).to_contain_text("Agence Atlas")
            holder.screenshot(path="/tmp/issue13a-dashboard.png", full_page=True)  # noqa: S108
            holder.goto(live_server.url + "/me/sharing/")
            holder.get_by_role("button", name=re.compile("Revoke")).click()
            expect(holder.locator(".badge-bad")).to_have_text("revoked")

            landlord.get_by_label("Share code").fill(code)
            landlord.get_by_role("button", name="Check").click()
            expect(landlord.locator("h1")).to_have_text("No share code matches")
            assert not Axe().run(landlord).violations_count

            arabic = _context(browser, live_server, cast["insured"], language="ar").new_page()
            arabic.goto(live_server.url + "/me/sharing/")
            assert arabic.evaluate("document.documentElement.dir") == "rtl"
            arabic.screenshot(path="/tmp/issue13a-sharing-ar.png", full_page=True)  # noqa: S108

            staff = _context(browser, live_server, cast["staff"]).new_page()
            staff.goto(live_server.url + "/staff/integrators/")
            staff.get_by_label("Name").fill("BANQUE X")
            staff.get_by_label("Kind").select_option("bank")
            staff.get_by_label("Contact e-mail").fill("api@banquex.example")
            staff.get_by_role("button", name="Register").click()
            staff.get_by_label("Label").fill("loan files")
            staff.get_by_role("button", name="Issue the key").click()
            expect(staff.locator(".api-key code")).to_contain_text("dmn_")
            assert staff.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
            staff.screenshot(path="/tmp/issue13a-staff-key.png", full_page=True)  # noqa: S108
        finally:
            browser.close()
