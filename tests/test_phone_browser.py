"""Issue 21, "On a phone, in Arabic", in Debian's Chromium at 320 and 390 px, in French and Arabic:
a share code is copied by its button, named with its full address and QR code; lists people read are
cards with their status first and nothing scrolls sideways; Latin values inside Arabic are isolated
and numbers never wrap; the portal installs (manifest, icons, offline page) and its service worker
keeps no personal page; public pages have a meta description."""

import io
import json
import os
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from PIL import Image
from playwright.sync_api import expect, sync_playwright

from tests.test_accessibility import CHROMIUM_ARGS, SCREENSHOTS, cast  # noqa: F401 (the people and documents the pages show)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {320: {"width": 320, "height": 700}, 390: {"width": 390, "height": 844}}
STATIC = Path(__file__).resolve().parent.parent / "static"
ARABIC = re.compile(r"[\u0600-\u06ff]")

# Every list page of the insured, and the pages around them.
INSURED_PAGES = ["/me/", "/certificates/", "/requests/", "/me/sharing/", "/me/alerts/"]

NO_SIDEWAYS_SCROLL = "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"

# In Arabic: every text run with Latin letters sits in an element that sets its direction
# (<bdi>, dir=...), and every value isolated left to right fits on one line.
BIDI_PROBLEMS = """() => {
  const problems = [];
  const acronyms = /^(CNSS|CIN|PDF|QR|SMS|API|AMO|DAMANCOM|Damane|e-BDS|JSON)$/;
  const walker = document.createTreeWalker(document.querySelector("main"), NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (parent.closest("bdi, main [dir], code, script, style, .visually-hidden, option")) continue;
    const latin = (node.textContent.match(/[A-Za-z][A-Za-z0-9.@_-]+/g) || []).filter((w) => !acronyms.test(w));
    const where = `${parent.tagName}.${parent.className}`;
    if (latin.length) problems.push(`Latin not isolated: "${latin.join(" ")}" in ${where}`);
  }
  for (const element of document.querySelectorAll("main bdi[dir=ltr]")) {
    if (element.closest("details:not([open]), .url")) continue;
    if (element.getClientRects().length > 1) problems.push(`wraps over lines: "${element.textContent}"`);
  }
  return problems;
}"""


def _context(browser, live_server, cookie, language, width, **options):
    host = live_server.url.split("//")[1].split(":")[0]
    context = browser.new_context(viewport=SIZES[width], locale=language, **options)
    cookies = [{"name": "django_language", "value": language, "domain": host, "path": "/"}]
    if cookie:
        cookies.append({"name": "sessionid", "value": cookie, "domain": host, "path": "/"})
    context.add_cookies(cookies)
    return context


@pytest.fixture
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.mark.parametrize("width", [320, 390])
@pytest.mark.parametrize("language", ["fr", "ar"])
def test_lists_are_cards_with_the_status_first_and_latin_values_stay_whole(
    cast,  # noqa: F811
    live_server,
    browser,
    language,
    width,
):
    page = _context(browser, live_server, cast["insured_cookie"], language, width).new_page()
    problems = {}
    for path in INSURED_PAGES:
        page.goto(live_server.url + path)
        found = [] if page.evaluate(NO_SIDEWAYS_SCROLL) else ["scrolls sideways"]
        if language == "ar":
            found += page.evaluate(BIDI_PROBLEMS)
        if found:
            problems[path] = found
    assert not problems, problems

    # My requests: each request is a card whose first line is its status, inside the screen.
    page.goto(live_server.url + "/requests/")
    card = page.locator("table.cards-phone tbody tr").first
    status, reference = card.locator("td.state .badge"), card.locator("td").first
    status.scroll_into_view_if_needed()
    expect(status).to_be_in_viewport(ratio=1)
    status_box, reference_box = status.bounding_box(), reference.bounding_box()
    assert status_box["x"] >= 0 and status_box["x"] + status_box["width"] <= width
    assert status_box["y"] + status_box["height"] <= reference_box["y"] + 1, "the status comes first"
    # The column headers are still read by screen readers, and each value keeps its label.
    assert page.locator("table.cards-phone thead th").count() == 4
    label = page.evaluate(
        "() => getComputedStyle(document.querySelector('table.cards-phone td[data-label]'), '::before').content"
    )
    assert label.strip('"') == page.locator("table.cards-phone thead th").first.inner_text()

    # My share codes: the same, the status badge of the code made for "Agence Atlas" first.
    page.goto(live_server.url + "/me/sharing/")
    row = page.locator("table.cards-phone tbody tr").first
    row.locator("td.state .badge").scroll_into_view_if_needed()
    expect(row.locator("td.state .badge")).to_be_in_viewport(ratio=1)
    assert row.locator("td.state").bounding_box()["y"] < row.locator("td").first.bounding_box()["y"]
    assert page.evaluate(NO_SIDEWAYS_SCROLL)

    # My certificates: each card starts with its status.
    page.goto(live_server.url + "/certificates/")
    head = page.locator(".issued-item .employer-head").first
    badge_box, kind_box = head.locator(".badge").bounding_box(), head.locator("strong").bounding_box()
    assert badge_box["y"] + badge_box["height"] <= kind_box["y"] + 1, "the status comes first"

    if language == "ar":
        # The certificate number (AT-2026-00000001 and the like) on one line, its parts in order.
        page.goto(live_server.url + "/certificates/")
        number = page.locator(".issued-item p.muted bdi[dir=ltr]").first
        assert re.fullmatch(r"[A-Z]{2,4}-\d{4}-\d{4,}", number.inner_text())
        assert number.evaluate("(e) => e.getClientRects().length") == 1
        # The verification code is drawn in a monospace font, not in the Arabic text font.
        page.goto(live_server.url + f"/certificates/c/{cast['certificate'].public_id}/")
        code = page.locator("dl.facts code")
        assert re.fullmatch(r"[A-Z0-9-]{20,}", code.inner_text())
        assert "Mono" in code.evaluate("(e) => getComputedStyle(e).fontFamily")
        assert page.evaluate(NO_SIDEWAYS_SCROLL)


@pytest.mark.parametrize("width", [320, 390])
@pytest.mark.parametrize("language", ["fr", "ar"])
def test_a_new_share_code_is_copied_by_its_button_with_the_full_address_and_its_qr_code(
    cast,  # noqa: F811
    live_server,
    browser,
    settings,
    language,
    width,
):
    settings.SITE_URL = live_server.url
    context = _context(
        browser, live_server, cast["insured_cookie"], language, width, permissions=["clipboard-read", "clipboard-write"]
    )
    if width == 390:
        # A phone's share sheet (Chromium on Linux has none): record what the page hands it.
        context.add_init_script("navigator.share = async (data) => { window.sharedData = data; };")
    page = context.new_page()
    page.goto(live_server.url + "/me/sharing/")
    page.locator("input[name=recipient]").fill("Société Générale Maroc S.A.")
    page.locator("input[name=show_employment]").check()
    page.locator("form.stack button[type=submit]").click()

    code = page.locator("#share-code")
    expect(code).to_have_text(re.compile(r"^[A-Z2-9]{5}-[A-Z2-9]{5}-[A-Z2-9]{5}$"))
    plaintext = code.inner_text()
    # Monospace in both languages, on one line, inside the screen.
    assert "Mono" in code.evaluate("(e) => getComputedStyle(e).fontFamily")
    assert code.evaluate("(e) => e.getClientRects().length") == 1
    expect(code).to_be_in_viewport(ratio=1)
    assert page.evaluate(NO_SIDEWAYS_SCROLL)

    # The recipient's name keeps its final period on its own side: isolated, read left to right.
    recipient = page.locator("#created-title bdi")
    expect(recipient).to_have_text("Société Générale Maroc S.A.")
    assert recipient.evaluate("(e) => e.matches(':dir(ltr)')")

    # The copy button copies, and says so (also to screen readers, in the status line).
    button = page.locator("button[data-copy]")
    expect(button).to_be_visible()
    button.click()
    copied = "Code copié" if language == "fr" else "تم نسخ الرمز"
    expect(button).to_have_text(copied)
    expect(page.locator("[data-copy-status]")).to_have_text(copied)
    assert page.evaluate("() => navigator.clipboard.readText()") == plaintext

    # The share sheet button exists only where the browser has a share sheet, and sends the code and the address.
    send = page.locator("button[data-share-url]")
    if width == 390:
        send.click()
        shared = page.wait_for_function("() => window.sharedData").json_value()
        assert plaintext in shared["text"] and "__CODE__" not in shared["text"]
        assert shared["url"] == live_server.url + "/share/"
    else:
        assert page.evaluate("() => typeof navigator.share") == "undefined"
        expect(send).to_be_hidden()

    # The expiry in words, and the full address of the page the recipient uses.
    created = page.locator(".share-created")
    expiry = created.locator(".share-expiry").inner_text()
    assert not re.search(r"\d{2}/\d{2}/\d{4}", expiry), expiry
    if language == "fr":
        months = "janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre"
        assert re.search(rf"\d{{1,2}} ({months}) 20\d\d à \d{{2}}:\d{{2}}", expiry), expiry
    else:
        assert ARABIC.search(expiry.split("20")[0])
    address = created.locator("a bdi.url")
    expect(address).to_have_text(live_server.url + "/share/")
    assert created.locator("a:has(bdi.url)").get_attribute("href") == live_server.url + "/share/"

    # The QR code, read back by the verifier's own decoder (jsQR), names the same address.
    qr = created.locator(".share-qr img")
    expect(qr).to_be_visible()
    page.add_script_tag(url=live_server.url + "/static/js/vendor/jsQR.js")
    decoded = qr.evaluate(
        """(img) => {
          const canvas = document.createElement("canvas");
          canvas.width = 400; canvas.height = 400;
          const context = canvas.getContext("2d");
          context.fillStyle = "#fff"; context.fillRect(0, 0, 400, 400);
          context.drawImage(img, 0, 0, 400, 400);
          const found = jsQR(context.getImageData(0, 0, 400, 400).data, 400, 400);
          return found && found.data;
        }"""
    )
    assert decoded == live_server.url + "/share/"
    if os.environ.get("DAMANE_SCREENSHOTS") and width == 390:
        page.locator("button[data-copy]").evaluate("(b) => b.blur()")
        page.mouse.move(0, 0)
        page.screenshot(path=str(SCREENSHOTS / f"share-code-{language}.png"), full_page=True)
    context.close()


def test_without_javascript_the_code_is_selectable_text_and_no_dead_button_shows(
    cast,  # noqa: F811
    live_server,
    browser,
):
    context = _context(browser, live_server, cast["insured_cookie"], "fr", 320, java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url + "/me/sharing/")
    page.locator("input[name=recipient]").fill("Agence Atlas")
    page.locator("input[name=show_employment]").check()
    page.locator("form.stack button[type=submit]").click()
    expect(page.locator("#share-code")).to_have_css("user-select", "all")
    expect(page.locator("button[data-copy]")).to_be_hidden()
    expect(page.locator("button[data-share-url]")).to_be_hidden()
    context.close()


@pytest.mark.parametrize("language", ["fr", "ar", "en"])
def test_the_portal_installs_in_the_page_language(live_server, browser, language):
    page = _context(browser, live_server, None, language, 390).new_page()
    page.goto(live_server.url + "/")
    href = page.locator("link[rel=manifest]").get_attribute("href")
    assert href == f"/manifest.webmanifest?lang={language}"
    response = page.request.get(live_server.url + href)
    assert response.ok and response.headers["content-type"] == "application/manifest+json"
    manifest = json.loads(response.text())
    assert manifest["lang"] == language and manifest["dir"] == ("rtl" if language == "ar" else "ltr")
    assert manifest["start_url"] == "/me/" and manifest["display"] == "standalone" and manifest["scope"] == "/"
    assert manifest["theme_color"] == "#0b5d3b"
    assert page.locator("meta[name=theme-color]").get_attribute("content") == manifest["theme_color"]
    names = {"fr": "Damane — la sécurité sociale en ligne", "en": "Damane — social security online"}
    assert manifest["name"] == names.get(language, manifest["name"]) and manifest["short_name"] == "Damane"
    if language == "ar":
        assert ARABIC.search(manifest["name"]) and ARABIC.search(manifest["description"])

    # Real PNG icons of the stated sizes; the maskable one is opaque to its corners.
    icons = {(icon["sizes"], icon["purpose"]): icon["src"] for icon in manifest["icons"]}
    assert set(icons) == {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")}
    apple = page.locator("link[rel=apple-touch-icon]").get_attribute("href")
    for (sizes, purpose), src in [*icons.items(), (("180x180", "apple"), apple)]:
        icon = page.request.get(live_server.url + src)
        assert icon.ok and icon.headers["content-type"] == "image/png", src
        image = Image.open(io.BytesIO(icon.body()))
        assert "x".join(map(str, image.size)) == sizes
        if purpose in ("maskable", "apple"):
            assert image.convert("RGBA").getpixel((0, 0)) == (11, 93, 59, 255)

    # A description for search engines and link previews, in the page's language.
    for path in ["/", "/verify/", "/share/", "/login/", "/register/", "/help/"]:
        page.goto(live_server.url + path)
        description = page.locator("meta[name=description]").get_attribute("content")
        assert len(description) > 60, path
        assert bool(ARABIC.search(description)) == (language == "ar"), path


def test_the_maskable_icon_keeps_the_mark_inside_the_safe_circle():
    """Launchers cut the maskable icon to a circle of 40 % of its side: the shield (white and red) stays inside."""
    image = Image.open(STATIC / "img" / "icons" / "icon-maskable-512.png").convert("RGB")
    green = (11, 93, 59)
    outside = [
        (x, y)
        for x in range(0, 512, 4)
        for y in range(0, 512, 4)
        if (x - 256) ** 2 + (y - 256) ** 2 > (0.4 * 512) ** 2 and image.getpixel((x, y)) != green
    ]
    assert not outside, outside[:5]
    assert image.getpixel((256, 256)) != green  # the mark is there


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_offline_the_app_shows_what_works_and_keeps_no_personal_page(
    cast,  # noqa: F811
    live_server,
    browser,
    language,
):
    context = _context(browser, live_server, cast["insured_cookie"], language, 320)
    page = context.new_page()
    page.goto(live_server.url + "/me/")
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=15000)
    for path in INSURED_PAGES:
        page.goto(live_server.url + path)
    cached = page.evaluate(
        """async () => {
          const urls = [];
          for (const name of await caches.keys()) {
            for (const request of await (await caches.open(name)).keys()) {
              const url = new URL(request.url);
              urls.push([name, url.pathname + url.search]);
            }
          }
          return urls;
        }"""
    )
    paths = sorted(path for _name, path in cached)
    static = "/" + django_settings.STATIC_URL.lstrip("/")
    assert paths == sorted(
        [
            f"/offline/?lang={language}",
            f"{static}css/damane.css",
            f"{static}img/icons/icon-192.png",
            f"{static}img/logo.svg",
            f"{static}js/ui.js",
        ]
    ), cached

    context.set_offline(True)
    page.goto(live_server.url + "/certificates/")
    heading = {"fr": "Pas de réseau", "ar": "لا توجد شبكة"}[language]
    expect(page.locator("h1")).to_have_text(heading)
    assert page.evaluate("document.documentElement.dir") == ("rtl" if language == "ar" else "ltr")
    expect(page.locator("main")).not_to_contain_text("BENNANI")
    expect(page.locator("main a[href='/verify/offline/']")).to_be_visible()
    # Styled from the worker's cache, and not wider than the phone.
    assert page.evaluate("getComputedStyle(document.querySelector('.topbar')).backgroundColor") == "rgb(11, 93, 59)"
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    context.set_offline(False)
    context.close()
