"""The upload page shows a genuine file's certificate.json in Chromium: readable, accessible, phone-wide."""

import os

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import sync_playwright

from certificates.services import certificate_issue
from tests.factories import seed_personas
from tests.test_accessibility import CHROMIUM_ARGS, LAYOUT_CHECKS, WIDTHS


@pytest.fixture
def signed_pdf(transactional_db, monkeypatch, tmp_path):
    """Signed before Playwright starts (pyHanko has its own loop)."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    amina = seed_personas("amina", today=timezone.localdate())["amina"]
    certificate = certificate_issue(insured=amina, kind="employment")
    path = tmp_path / "attestation.pdf"
    path.write_bytes(bytes(certificate.file.data))
    return certificate, path


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_the_upload_page_shows_the_facts_the_file_carries(signed_pdf, live_server, language):
    certificate, path = signed_pdf
    host = live_server.url.split("//")[1].split(":")[0]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport=WIDTHS["phone"], locale=language)
            context.add_cookies([{"name": "django_language", "value": language, "domain": host, "path": "/"}])
            page = context.new_page()
            page.goto(live_server.url + "/verify/pdf/")
            page.set_input_files("input[type=file]", str(path))
            page.click("form[enctype='multipart/form-data'] button[type=submit]")
            facts = page.locator(".embedded-facts pre")
            facts.wait_for()
            text = facts.inner_text()
            assert certificate.number in text and "MAROC DIGITAL SERVICES SA" in text
            assert "BE123456" not in text and "100234561" not in text
            assert page.evaluate(LAYOUT_CHECKS) == []
            results = Axe().run(page)
            assert results.violations_count == 0, results.generate_report()
            if os.environ.get("DAMANE_SHOTS_DIR"):
                page.screenshot(path=f"{os.environ['DAMANE_SHOTS_DIR']}/verify-pdf-json-{language}.png", full_page=True)
        finally:
            browser.close()
