"""A treaty request in Chromium: the insured asks, an officer records the French periods with the CNAV's
statement, a second officer approves them and issues the certificate, the insured downloads it."""

import re
import subprocess

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect, sync_playwright

from accounts.models import User
from tests.backoffice.conftest import PDF, STAFF_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-gpu"]
PASSWORD = "hassan retraite paris casa"


def token_maker(user):
    """A function giving the user's current TOTP code, with no database access (safe inside Playwright's loop)."""
    device = TOTPDevice.objects.get(user=user)
    key, step, t0, digits, drift = device.bin_key, device.step, device.t0, device.digits, device.drift
    return lambda: f"{totp(key, step=step, t0=t0, digits=digits, drift=drift):06d}"


def staff_login(page, base, username, token):
    page.goto(base + "/staff/login/")
    page.get_by_label("Staff username").fill(username)
    page.get_by_label("Password", exact=True).fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Code from your authenticator app").fill(token())
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/staff/$"))


def test_a_treaty_request_from_the_insured_to_the_officer_the_approver_and_the_download(
    transactional_db, live_server, hassan, officer, second_officer, media, monkeypatch, tmp_path
):
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from django.utils import timezone

    User.objects.create_user(
        username=hassan.cnss_number,
        password=PASSWORD,
        email="hassan.amrani@example.fr",
        insured=hassan,
        activated_at=timezone.now(),
    )
    nadia_token, omar_token = token_maker(officer), token_maker(second_officer)
    statement = tmp_path / "releve-cnav.pdf"
    statement.write_bytes(PDF)
    base = live_server.url
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            # 1. The insured asks for the certificate.
            insured = browser.new_context(locale="en-US", accept_downloads=True).new_page()
            insured.goto(base + "/login/")
            insured.get_by_label("CNSS number or e-mail address").fill(hassan.cnss_number)
            insured.get_by_label("Password", exact=True).fill(PASSWORD)
            insured.get_by_role("button", name="Log in").click()
            expect(insured).to_have_url(re.compile(r"/me/$"))
            insured.goto(base + "/requests/treaty/")
            insured.get_by_label("Country where you worked").select_option("FR")
            insured.get_by_label("Periods worked there").fill("03/1986 to 09/2003, Renault, Flins")
            insured.get_by_role("button", name="Send the request").click()
            expect(insured.locator("main")).to_contain_text("Request received by the International Treaties service")
            reference = re.search(r"DEM-\d{4}-\d{7}", insured.locator("main").inner_text()).group(0)

            # 2. An officer of the treaties service records the periods with the CNAV's statement.
            nadia = browser.new_context(locale="en-US").new_page()
            staff_login(nadia, base, officer.username, nadia_token)
            nadia.get_by_role("link", name="Treaty requests").first.click()
            nadia.get_by_role("link", name=reference).click()
            nadia.get_by_role("link", name="Record the foreign periods").click()
            nadia.get_by_label("Period 1: From").fill("1986-03-01")
            nadia.get_by_label("Period 1: To").fill("2003-09-30")
            nadia.get_by_label("Period 1: Reported in").select_option("quarters")
            nadia.get_by_label("Period 1: Number of quarters, months or days").fill("69")
            nadia.get_by_label("Period 1: Reference of the foreign institution").fill("CNAV 0412-77")
            nadia.get_by_label("Document of the foreign institution").set_input_files(str(statement))
            nadia.get_by_role("button", name="Record for approval").click()
            expect(nadia.locator("main")).to_contain_text("Another officer must approve them.")
            expect(nadia.get_by_role("button", name="Approve the periods")).to_have_count(0)

            # 3. A second officer approves and issues.
            omar = browser.new_context(locale="en-US").new_page()
            staff_login(omar, base, second_officer.username, omar_token)
            omar.goto(base + f"/staff/treaties/r/{reference}/")
            omar.get_by_label("Note").fill("Conforme au relevé de la CNAV")
            omar.get_by_role("button", name="Approve the periods").click()
            expect(omar.locator("main")).to_contain_text("The periods are approved.")
            omar.get_by_role("button", name="Issue the certificate").click()
            expect(omar.locator("main")).to_contain_text(re.compile(r"Certificate CT-\d{4}-\d{8} is issued\."))

            # 4. The insured sees it on the dashboard and downloads it.
            insured.goto(base + "/me/")
            expect(insured.locator("[data-treaty-progress]")).to_have_attribute("data-treaty-progress", "issued")
            insured.get_by_role("link", name=re.compile(r"Open certificate CT-")).click()
            with insured.expect_download() as download_info:
                insured.get_by_role("link", name="Download the PDF").click()
            path = tmp_path / "certificate.pdf"
            download_info.value.save_as(path)
        finally:
            browser.close()
    data = path.read_bytes()
    assert data.startswith(b"%PDF")
    report = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=False)
    assert "Signature is Valid" in report.stdout + report.stderr
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "CNAV 0412-77" in text
