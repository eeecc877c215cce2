"""Every public, insured and staff page, in French and Arabic, on a 390 px phone and a desktop:
axe-core finds no violation, Arabic pages read right to left with identifiers kept left to right,
nothing overflows sideways, tap targets are 44 px and focus is visible. Screenshots of the main
pages on a phone go to docs/screenshots/ when DAMANE_SCREENSHOTS is set."""

import os
from datetime import date
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import sync_playwright

from accounts.models import User
from casework.models import CaseKind
from casework.services import case_create
from certificates.services import certificate_issue
from integrations.models import ShareCodeUse
from integrations.services import api_key_issue, organisation_register, share_code_create
from tests.factories import seed_personas
from treaties import services as treaty_services
from treaties.conventions import ensure_conventions
from treaties.models import Convention

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-gpu",
]
WIDTHS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1280, "height": 900}}
SCREENSHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"

# Checks run in the page (no eval: the pages' CSP forbids it, and evaluate() runs as a CDP call).
LAYOUT_CHECKS = """() => {
  const problems = [];
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth + 1) {
    const wide = [...document.querySelectorAll("body *")].filter((e) => {
      const box = e.getBoundingClientRect();
      return (box.right > root.clientWidth + 1 || box.left < -1) && !e.closest(".scroll");
    }).map((e) => `${e.tagName}.${e.className}`).slice(-3);
    const grown = [...document.querySelectorAll("main *")].filter(
      (e) => e.getBoundingClientRect().width > root.clientWidth + 1 && !e.parentElement.closest(".scroll"),
    ).map((e) => `${e.tagName}.${e.className}`);
    wide.push(...grown.slice(-3));
    const placed = [...document.querySelectorAll("body *")].filter((e) => {
      const box = e.getBoundingClientRect();
      return box.right > root.clientWidth + 1 && getComputedStyle(e).position !== "static";
    }).map((e) => `${e.tagName}.${e.className}@${Math.round(e.getBoundingClientRect().right)}`);
    wide.push(...placed.slice(-3));
    problems.push(`overflows sideways: ${root.scrollWidth}px (${wide.join(", ")})`);
  }
  const ltrNeeded = /[•]|[A-Z]{2,4}-\\d{4}-\\d{4,}|[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}-/;
  if (root.dir === "rtl") {
    const walker = document.createTreeWalker(document.querySelector("main"), NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const parent = node.parentElement;
      if (!ltrNeeded.test(node.textContent) || parent.closest("[dir=ltr], script, style")) continue;
      if (parent.closest(".visually-hidden, title")) continue;
      const where = `${parent.tagName}.${parent.className}`;
      problems.push(`not isolated left to right in Arabic: "${node.textContent.trim().slice(0, 60)}" in ${where}`);
    }
  }
  const targets = document.querySelectorAll(
    "main a.btn, main button, main input:not([type=hidden]):not([type=checkbox]), main select, main summary, "
    + ".topnav a, .topnav button, .langs button, .footer-links a, main .field-check label, main .ways a, "
    + "main .link-list a"
  );
  for (const element of targets) {
    const box = element.getBoundingClientRect();
    if (!box.width || !box.height || getComputedStyle(element).visibility === "hidden") continue;
    if (box.height < 43.5) {
      const name = (element.textContent || element.name || "").trim().slice(0, 40);
      problems.push(`tap target under 44px high (${Math.round(box.height)}px): ${element.tagName} "${name}"`);
    }
  }
  return problems;
}"""


def make_staff(username, *groups):
    user = User.objects.create_user(username=username, password="staff password 2026", is_staff=True)
    user.groups.add(*[Group.objects.get_or_create(name=name)[0] for name in groups])
    TOTPDevice.objects.create(user=user, name="default", confirmed=True)
    return user


def session_cookie(user, *, staff=False):
    client = Client()
    client.force_login(user, backend="accounts.backends.StaffBackend" if staff else "accounts.backends.InsuredBackend")
    if staff:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=user).persistent_id
        session.save()
    return client.cookies["sessionid"].value


@pytest.fixture
def cast(transactional_db, monkeypatch, settings, tmp_path):
    """The people and documents the pages show; signed before Playwright starts (pyHanko has its own loop)."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    settings.LANGUAGE_CODE = "fr"
    settings.MEDIA_ROOT = tmp_path / "private"
    today = timezone.localdate()
    people = seed_personas("amina", "fatima", "youssef", today=today)
    amina, fatima = people["amina"], people["fatima"]
    insured_user = User.objects.create_user(
        username=amina.cnss_number, password="ciel bleu sur la corniche", insured=amina, email="amina@example.ma"
    )
    fatima_user = User.objects.create_user(username=fatima.cnss_number, password="x" * 20, insured=fatima)
    certificate = certificate_issue(insured=amina, kind="affiliation")
    employer = fatima.employments.get().employer
    case = case_create(insured=fatima, kind=CaseKind.ARREARS_REPORT, employer=employer, actor=fatima_user)
    supervisor = make_staff("chef.casa", "agent", "supervisor")
    # A treaty request with periods recorded by one officer, seen by the other (who may approve them).
    ensure_conventions()
    treaty = case_create(insured=amina, kind=CaseKind.TREATY, details={"country": "FR", "periods": "1999-2004"})
    recorder, approver = make_staff("traites.nadia", "treaty"), make_staff("traites.omar", "treaty")
    version = treaty_services.periods_record(
        case=treaty,
        actor=recorder,
        convention=Convention.objects.get(country="FR"),
        periods=[treaty_services.PeriodInput("", date(1999, 1, 1), date(2004, 12, 31), "quarters", 24, "CNAV 77")],
        document=SimpleUploadedFile("releve.pdf", b"%PDF-1.7\n%%EOF\n", content_type="application/pdf"),
    )
    bank = organisation_register(name="BANQUE X", kind="bank", contact_email="api@banquex.example", actor=supervisor)
    api_key_issue(
        organisation=bank, label="loans", valid_days=30, quota_per_minute=60, quota_per_day=1000, actor=supervisor
    )
    share, _code = share_code_create(
        insured=amina,
        employer=amina.employments.filter(end_date__isnull=True).first().employer,
        recipient="Agence Atlas",
        valid_days=14,
        show_employment=True,
        show_employer_status=True,
        show_last_period=False,
        actor=insured_user,
    )
    ShareCodeUse.objects.create(share_code=share, channel="api", organisation=bank)
    return {
        "treaty": treaty,
        "treaty_version": version,
        "treaty_cookie": session_cookie(approver, staff=True),
        "bank": bank,
        "amina": amina,
        "fatima": fatima,
        "employer": employer,
        "certificate": certificate,
        "case": case,
        "insured_cookie": session_cookie(insured_user),
        "fatima_cookie": session_cookie(fatima_user),
        "staff_cookie": session_cookie(supervisor, staff=True),
    }


def pages(cast):
    certificate, case, amina = cast["certificate"], cast["case"], cast["amina"]
    public = [
        ("home", "/"),
        ("help", "/help/"),
        ("login", "/login/"),
        ("register", "/register/"),
        ("password-reset", "/password-reset/"),
        ("recovery-sms", "/password-reset/sms/"),
        ("verify", "/verify/"),
        ("verify-result", f"/verify/{certificate.public_id}"),
        ("verify-unknown", "/verify/AAAAAAAAAAAAAAAAAAAAAA"),
        ("verify-pdf", "/verify/pdf/"),
        ("verify-offline", "/verify/offline/"),
        ("staff-login", "/staff/login/"),
        ("share", "/share/"),
        ("offline", "/offline/"),
    ]
    insured = [
        ("dashboard", "/me/"),
        ("email-change", "/me/email/"),
        ("password-change", "/me/password/"),
        ("arrears-alerts", "/me/alerts/"),
        ("certificates", "/certificates/"),
        ("certificate-request", "/certificates/new/affiliation/"),
        ("certificate-ready", f"/certificates/c/{certificate.public_id}/"),
        ("requests", "/requests/"),
        ("name-correction", "/requests/name-correction/"),
        ("treaty", "/requests/treaty/"),
        ("id-update", "/requests/id-update/"),
        ("sharing", "/me/sharing/"),
    ]
    arrears = [
        ("dashboard-arrears", "/me/"),
        ("certificate-blocked", "/certificates/new/employment/"),
        ("formal-notice", f"/requests/employer/employer_notice/{cast['employer'].id}/"),
        ("request-detail", f"/requests/r/{case.reference}/"),
    ]
    staff = [
        ("staff-home", "/staff/"),
        ("staff-search", f"/staff/search/?q={amina.cnss_number}"),
        ("staff-insured", f"/staff/insured/{amina.pk}/"),
        ("staff-certificate", f"/staff/insured/{amina.pk}/certificates/new/"),
        ("staff-identity", f"/staff/insured/{amina.pk}/identity/"),
        ("staff-requests", "/staff/requests/"),
        ("staff-request", f"/staff/requests/{case.reference}/"),
        ("staff-identity-changes", "/staff/identity-changes/"),
        ("staff-integrators", "/staff/integrators/"),
        ("staff-integrator", f"/staff/integrators/{cast['bank'].pk}/"),
    ]
    treaty = cast["treaty"]
    treaties = [
        ("staff-home-treaties", "/staff/"),
        ("treaty-requests", "/staff/treaties/"),
        ("treaty-request", f"/staff/treaties/r/{treaty.reference}/"),
        ("treaty-periods", f"/staff/treaties/r/{treaty.reference}/periods/new/"),
    ]
    return [
        (None, public),
        (cast["insured_cookie"], [*insured, ("treaty-progress", f"/requests/r/{treaty.reference}/")]),
        (cast["fatima_cookie"], arrears),
        (cast["staff_cookie"], staff),
        (cast["treaty_cookie"], treaties),
    ]


SCREENSHOT_PAGES = {
    "home",
    "register",
    "dashboard",
    "certificates",
    "certificate-request",
    "certificate-blocked",
    "verify-result",
    "verify-offline",
    "dashboard-arrears",
    "requests",
    "sharing",
    "offline",
}


@pytest.mark.parametrize("width", ["phone", "desktop"])
@pytest.mark.parametrize("language", ["fr", "ar"])
def test_every_page_passes_axe_reads_in_its_direction_and_has_44_px_targets(cast, live_server, language, width):
    host = live_server.url.split("//")[1].split(":")[0]
    problems = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            axe = Axe()
            for cookie, group in pages(cast):
                context = browser.new_context(viewport=WIDTHS[width], locale=language)
                cookies = [{"name": "django_language", "value": language, "domain": host, "path": "/"}]
                if cookie:
                    cookies.append({"name": "sessionid", "value": cookie, "domain": host, "path": "/"})
                context.add_cookies(cookies)
                page = context.new_page()
                for name, path in group:
                    response = page.goto(live_server.url + path)
                    found = []
                    if response.status >= 500 or (response.status >= 400 and "unknown" not in name):
                        found.append(f"HTTP {response.status}")
                    direction = page.evaluate("() => [document.documentElement.lang, document.documentElement.dir]")
                    if direction != [language, "rtl" if language == "ar" else "ltr"]:
                        found.append(f"lang/dir {direction}")
                    results = axe.run(page)
                    if results.violations_count:
                        found.append(results.generate_report())
                    found += page.evaluate(LAYOUT_CHECKS)
                    if found:
                        problems[f"{name} {path}"] = found
                    if os.environ.get("DAMANE_SCREENSHOTS") and width == "phone" and name in SCREENSHOT_PAGES:
                        SCREENSHOTS.mkdir(exist_ok=True)
                        page.screenshot(path=str(SCREENSHOTS / f"{name}-{language}.png"), full_page=True)
                context.close()
        finally:
            browser.close()
    assert not problems, "\n\n".join(f"{page}:\n" + "\n".join(found) for page, found in problems.items())


def test_focus_is_visible_on_links_buttons_and_fields(cast, live_server):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=WIDTHS["phone"])
            page.goto(live_server.url + "/register/")
            seen = 0
            for _ in range(12):
                page.keyboard.press("Tab")
                style = page.evaluate(
                    "() => { const s = getComputedStyle(document.activeElement);"
                    " return [document.activeElement.tagName, s.outlineStyle, s.outlineWidth, s.boxShadow]; }"
                )
                _tag, outline, outline_width, shadow = style
                assert (outline != "none" and outline_width != "0px") or shadow != "none", style
                seen += 1
            assert seen == 12
        finally:
            browser.close()
