"""The organisation's console on a phone (issue 26 item 6), in Chromium at 320 px, French and Arabic:
the contact logs in with password and TOTP, nothing scrolls sideways, each key is a card whose
status comes first, and the key is rotated from the phone. Screenshots go to /tmp/issue26a-*.png."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect, sync_playwright

from integrations import services
from integrations.console.services import account_create
from integrations.webhooks.models import WebhookDelivery
from integrations.webhooks.services import endpoint_register
from tests.accounts.conftest import live_server  # noqa: F401 (the project's live server fixture)
from tests.backoffice.conftest import current_token, make_staff
from tests.integrations.test_browser import CHROMIUM_ARGS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a long console password 2026"
NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"


@pytest.fixture
def contact(transactional_db, monkeypatch):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    supervisor = make_staff("chef.console", "agent", "supervisor")
    bank = services.organisation_register(
        name="BANQUE POPULAIRE DU MAROC", kind="bank", contact_email="api@bp.example", actor=supervisor
    )
    services.api_key_issue(
        organisation=bank,
        label="dossiers de crédit, production",
        valid_days=365,
        quota_per_minute=600,
        quota_per_day=50_000,
        actor=supervisor,
    )
    endpoint, _secret = endpoint_register(
        organisation=bank,
        url="https://hooks.banque-populaire-du-maroc.example/damane/evenements/certificats",
        events=["certificate.revoked", "api_key.expiring"],
        actor=supervisor,
    )
    WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_type="certificate.revoked",
        dedupe_key="x",
        payload={},
        status="failed",
        attempts=10,
        response_status=503,
        error="answered 503",
        created_at=timezone.now(),
    )
    user, _device = account_create(organisation=bank, username="bp.api", email="api@bp.example", password=PASSWORD)
    return user


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_the_console_on_a_320_px_phone_logs_in_shows_cards_and_rotates_a_key(contact, live_server, language):  # noqa: F811
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 320, "height": 700}, locale=language)
            host = live_server.url.split("//")[1].split(":")[0]
            context.add_cookies([{"name": "django_language", "value": language, "domain": host, "path": "/"}])
            page = context.new_page()
            page.goto(live_server.url + "/integrators/")
            expect(page).to_have_url(re.compile(r"/integrators/login/"))
            page.locator("#id_username").fill("bp.api")
            page.locator("#id_password").fill(PASSWORD)
            page.locator("form.stack button[type=submit]").click()
            expect(page).to_have_url(re.compile(r"/integrators/login/code/$"))
            page.locator("#id_token").fill(current_token(contact))
            page.locator("form.stack button[type=submit]").click()
            expect(page).to_have_url(re.compile(r"/integrators/$"))
            assert page.evaluate(NO_SIDEWAYS_SCROLL), "the console scrolls sideways"
            card = page.locator("section[aria-labelledby=keys-title] table.cards-phone tbody tr").first
            status = card.locator("td.state .badge")
            assert status.bounding_box()["y"] < card.locator("td").first.bounding_box()["y"], "the status comes first"
            page.screenshot(path=f"/tmp/issue26a-console-{language}.png", full_page=True)  # noqa: S108

            card.locator("form[action$='/rotate/'] button").click()
            expect(page.locator(".api-key code")).to_have_text(re.compile(r"^dmn_[a-z2-7]{8}_"))
            assert page.evaluate(NO_SIDEWAYS_SCROLL), "the new key scrolls sideways"
        finally:
            browser.close()
