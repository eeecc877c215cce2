"""An agent logs in with password and TOTP in Chromium, finds a person by an earlier CIN and reads the record."""

import os
import re

import pytest
from playwright.sync_api import expect, sync_playwright

from backoffice import services
from certificates.models import Channel
from certificates.services import certificate_issue
from tests.backoffice.conftest import STAFF_PASSWORD, current_token, pdf_upload
from tests.factories import seed_personas

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-gpu"]


def test_an_agent_finds_a_person_by_an_earlier_cin_and_reads_the_record(
    transactional_db, live_server, agent, supervisor, media, today, monkeypatch, tmp_path
):
    # Playwright's sync API runs an event loop in this thread; the ORM calls stay synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    salma = seed_personas("salma", today=today)["salma"]
    certificate_issue(insured=salma, kind="declared_days", actor=agent, channel=Channel.AGENCY, today=today)
    services.identity_change_propose(
        insured=salma,
        actor=supervisor,
        values={"first_name": "SALMA NOUR"},
        reason="Acte de naissance",
        document=pdf_upload(),
    )
    screenshot = os.environ.get("BACKOFFICE_SCREENSHOT") or str(tmp_path / "insured.png")
    # Read before Playwright's event loop starts: ORM calls inside it would open a
    # connection of their own that outlives the test.
    token = current_token(agent)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900}, locale="en-US")
            page.goto(live_server.url + "/staff/")
            expect(page).to_have_url(re.compile(r"/staff/login/"))
            page.get_by_label("Staff username").fill("agent.casa")
            page.get_by_label("Password", exact=True).fill(STAFF_PASSWORD)
            page.get_by_role("button", name="Continue").click()
            page.get_by_label("Code from your authenticator app").fill(token)
            page.get_by_role("button", name="Log in").click()
            expect(page).to_have_url(re.compile(r"/staff/$"))

            page.get_by_label("CNSS number, CIN (current or earlier) or last name").fill("b345678")
            page.get_by_role("button", name="Search").click()
            expect(page.locator("main")).to_contain_text("earlier CIN matched")
            page.get_by_role("link", name="CHRAIBI SALMA").click()

            expect(page).to_have_url(re.compile(rf"/staff/insured/{salma.pk}/$"))
            expect(page.locator("h1")).to_contain_text("CHRAIBI SALMA")
            expect(page.locator("#certificates")).to_contain_text("Statement of declared days")
            expect(page.get_by_role("link", name="Change waiting for approval")).to_be_visible()
            page.screenshot(path=screenshot, full_page=True)
        finally:
            browser.close()
    assert os.path.getsize(screenshot) > 10_000
