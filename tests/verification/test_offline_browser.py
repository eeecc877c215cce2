"""The offline verifier in Debian's Chromium: loaded once, then checks QR payloads with the network cut."""

import pytest
from playwright.sync_api import sync_playwright

from certificates.services import certificate_revoke

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-gpu",
]


@pytest.fixture
def browser_page(live_server, monkeypatch):
    """Request it after the fixtures that sign certificates: pyHanko runs its own
    event loop, which cannot start inside Playwright's."""
    # Playwright's sync API runs an event loop in this thread; the ORM stays synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 390, "height": 844})
        yield context, context.new_page()
        browser.close()


def load(page, live_server):
    page.goto(f"{live_server.url}/verify/offline/")
    # A selector, not wait_for_function: the page's CSP forbids the eval that polling a string needs.
    page.wait_for_selector("#sync-status:not(:empty)")


def verify(page, text):
    page.fill("#payload", text)
    page.click("#offline-form button[type=submit]")
    page.wait_for_selector("#offline-result:not(.hidden)")
    return page.inner_text("#offline-result")


def test_a_genuine_payload_verifies_with_the_network_cut(certificate, qr_text, browser_page, live_server):
    context, page = browser_page
    load(page, live_server)
    context.set_offline(True)
    result = verify(page, qr_text)
    page.screenshot(path="/tmp/verify-offline.png", full_page=True)  # noqa: S108 - for a person to look at
    assert "Genuine and valid certificate." in result
    assert certificate.number in result and "BENNANI AMINA" in result
    assert page.evaluate("navigator.onLine") is False


def test_a_tampered_payload_is_refused_offline(qr_text, browser_page, live_server):
    context, page = browser_page
    load(page, live_server)
    context.set_offline(True)
    head, signature = qr_text.rsplit(".", 1)
    tampered = head.replace("BENNANI", "BENNANY") if "BENNANI" in head else head[:-3] + "AAA"
    assert "Not a genuine certificate" in verify(page, f"{tampered}.{signature}")
    assert "Not a genuine certificate" in verify(page, "hello")


def test_a_revocation_synced_before_going_offline_is_shown_offline(
    certificate, qr_text, django_user_model, browser_page, live_server
):
    agent = django_user_model.objects.create_user(username="agent", password="x" * 16, is_staff=True)
    certificate_revoke(certificate=certificate, actor=agent, reason="Fraud")
    context, page = browser_page
    load(page, live_server)
    context.set_offline(True)
    assert "Genuine, but revoked by the fund." in verify(page, qr_text)


@pytest.fixture
def other(certificate):
    """Certificate B, issued before the browser starts (see browser_page)."""
    from certificates.services import certificate_issue

    return certificate_issue(insured=certificate.insured, kind="affiliation")


def _grafted(qr_text, public_id):
    address, payload = qr_text.split("#", 1)
    return f"{address.rsplit('/', 1)[0]}/{public_id}#{payload}"


def test_a_payload_grafted_onto_another_address_is_refused_offline(
    certificate, other, qr_text, browser_page, live_server
):
    context, page = browser_page
    load(page, live_server)
    context.set_offline(True)
    result = verify(page, _grafted(qr_text, other.public_id))
    assert "names another certificate than its signed content" in result
    assert certificate.number not in result
    assert "Genuine and valid certificate." in verify(page, qr_text)


def test_the_verify_page_opened_by_a_grafted_qr_code_says_not_genuine(
    certificate, other, qr_text, browser_page, live_server
):
    _context, page = browser_page
    payload = qr_text.split("#", 1)[1]
    # What a phone opens: B's address, with A's payload in the fragment.
    page.goto(f"{live_server.url}/verify/{other.public_id}#{payload}")
    page.wait_for_selector("#qr-check:not([hidden])")
    page.screenshot(path="/tmp/verify-grafted.png", full_page=True)  # noqa: S108 - for a person to look at
    assert "Not genuine: altered QR code" in page.inner_text("main")
    assert not page.is_visible("#certificate-verdict")
    # The genuine code opens the genuine verdict, untouched.
    page.goto(f"{live_server.url}/verify/{certificate.public_id}#{payload}")
    page.wait_for_selector("#certificate-verdict")
    page.wait_for_load_state("networkidle")
    assert page.is_visible("#certificate-verdict") and not page.is_visible("#qr-check")
    assert "Genuine and valid certificate" in page.inner_text("main")


# --- Receipts of the integrator API (issue 26 item 3), checked offline --------------------


@pytest.fixture
def ask_for_receipt(db, live_server):
    """A function that sends a look-up to the live server with a bank's key and ``Accept: application/jose``."""
    import requests

    from integrations import services
    from tests.backoffice.conftest import make_staff

    supervisor = make_staff("chef.receipts", "agent", "supervisor")
    bank = services.organisation_register(
        name="BANQUE EXEMPLE", kind="bank", contact_email="api@banque.example", actor=supervisor
    )
    _key, plaintext = services.api_key_issue(
        organisation=bank, label="loans", valid_days=30, quota_per_minute=100, quota_per_day=1000, actor=supervisor
    )
    headers = {"Authorization": f"Bearer {plaintext}", "Accept": "application/jose"}

    def ask(path, *, params=None, body=None):
        if body is None:
            answer = requests.get(f"{live_server.url}{path}", params=params, headers=headers, timeout=30)
        else:
            answer = requests.post(f"{live_server.url}{path}", json=body, headers=headers, timeout=30)
        assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/jose"
        return answer.text

    return ask


@pytest.fixture
def receipt(certificate, ask_for_receipt):
    """What the live server answers a bank's key for the certificate's code."""
    return ask_for_receipt("/api/v1/verify", params={"code": certificate.verification_code})


def verify_afresh(page, text):
    """The verdict on ``text`` alone: the previous one is hidden first, so it cannot be read twice."""
    if page.is_visible("#offline-result"):
        page.click("#verify-another")
        page.wait_for_selector("#offline-result.hidden", state="attached")
    return verify(page, text)


def _claims(receipt):
    import json

    from certificates.qrpayload import b64url_decode

    return json.loads(b64url_decode(receipt.split(".")[1]))


def _signed_by_the_fund_s_key(header: dict, claims: dict) -> str:
    """A receipt signed with the fund's real QR key, under any header: only the key it names may verify it."""
    import json

    from certificates.qrpayload import b64url, current_qr_key

    _kid, key = current_qr_key()
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64url(key.sign_raw(signing_input.encode('ascii')))}"


def _signed_by_another_key(header: dict, claims: dict) -> str:
    import json

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    from certificates.qrpayload import b64url

    key = ec.generate_private_key(ec.SECP256R1())
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
    r, s = decode_dss_signature(key.sign(signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256())))
    return f"{signing_input}.{b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def test_a_receipt_from_the_live_server_verifies_offline(certificate, receipt, browser_page, live_server):
    import textwrap

    first, _page = browser_page
    # A device far from Morocco: the time shown must be the fund's, not the device's.
    context = first.browser.new_context(viewport={"width": 390, "height": 844}, timezone_id="Asia/Tokyo")
    page = context.new_page()
    load(page, live_server)
    context.set_offline(True)
    # Pasted as a mail program wraps it: white space is not part of a receipt.
    result = verify(page, "\n".join(textwrap.wrap(receipt, 76)))
    page.screenshot(path="/tmp/verify-receipt-offline.png", full_page=True)  # noqa: S108 - for a person to look at
    assert "Receipt signed by the fund." in result
    assert "Genuine certificate" in result and "State\nValid" in result and certificate.number in result
    assert "BANQUE EXEMPLE" in result and "BENNANI AMINA" in result
    assert f'GET /api/v1/verify {{"code":"{certificate.verification_code}"}}' in result
    # When, as the fund's clock reads it (Africa/Casablanca), whatever the device's zone. Expected from
    # the browser's own time-zone data: Python's may be older (see docs/integrators.md, "Signed receipts").
    iat = _claims(receipt)["iat"]
    in_zone = (
        "(zone) => { const p = Object.fromEntries(new Intl.DateTimeFormat('en-GB', {timeZone: zone, year: 'numeric',"
        " month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23'})"
        f".formatToParts(new Date({iat} * 1000)).map((x) => [x.type, x.value]));"
        " return `${p.day}/${p.month}/${p.year} ${p.hour}:${p.minute}:${p.second}`; }"
    )
    assert f"Answered at (Morocco time)\n{page.evaluate(in_zone, 'Africa/Casablanca')}" in result
    assert page.evaluate(in_zone, "Asia/Tokyo") not in result
    assert page.evaluate("navigator.onLine") is False
    # The request, long and left to right, wraps on a phone instead of widening the page.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # The same check in Arabic, the page's strings translated.
    context.set_offline(False)
    context.set_extra_http_headers({"Accept-Language": "ar"})
    load(page, live_server)
    context.set_offline(True)
    result = verify(page, receipt)
    assert "إيصال موقَّع من الصندوق." in result and "رد الصندوق" in result and certificate.number in result


def test_an_altered_receipt_or_an_unknown_key_is_not_a_receipt_of_the_fund(
    certificate, receipt, browser_page, live_server
):
    import json

    from certificates.qrpayload import b64url, b64url_decode, current_qr_key

    refused = "Not a receipt of the fund"
    context, page = browser_page
    load(page, live_server)
    context.set_offline(True)
    assert "Receipt signed by the fund." in verify_afresh(page, receipt)
    head, payload, signature = receipt.split(".")
    # One byte of the signed claims changed: the last digit of the certificate's number.
    claims_bytes = bytearray(b64url_decode(payload))
    at = claims_bytes.index(certificate.number.encode()) + len(certificate.number) - 1
    claims_bytes[at] = ord("9") if claims_bytes[at] != ord("9") else ord("8")
    result = verify_afresh(page, f"{head}.{b64url(bytes(claims_bytes))}.{signature}")
    assert refused in result and certificate.number not in result
    # A well-formed receipt signed by a key the fund never published.
    header = json.loads(b64url_decode(head))
    forged = _signed_by_another_key({**header, "kid": "0123456789abcdef"}, _claims(receipt))
    assert refused in verify_afresh(page, forged)
    forged = _signed_by_another_key(header, _claims(receipt))  # under the real kid
    assert refused in verify_afresh(page, forged)
    # Signed by the fund's key, but naming it by its first 8 hex digits only: the kid must be the full id.
    kid, _key = current_qr_key()
    short = _signed_by_the_fund_s_key({**header, "kid": kid[:8]}, _claims(receipt))
    assert refused in verify_afresh(page, short)
    # Only ES256, whatever the header says.
    assert refused in verify_afresh(page, _signed_by_the_fund_s_key({**header, "alg": "HS256"}, _claims(receipt)))
    # The control: the same helper with the true header verifies.
    assert "Receipt signed by the fund." in verify_afresh(page, _signed_by_the_fund_s_key(header, _claims(receipt)))


def test_receipts_of_an_unknown_code_a_share_code_and_a_batch_show_what_the_fund_answered(
    certificate, ask_for_receipt, browser_page, live_server
):
    from integrations import services

    employer = certificate.insured.employments.filter(end_date__isnull=True).first().employer
    _share, share_code = services.share_code_create(
        insured=certificate.insured,
        employer=employer,
        recipient="Banque Populaire",
        valid_days=3,
        show_employment=True,
        show_employer_status=False,
        show_last_period=False,
        actor=None,
    )
    unknown = ask_for_receipt("/api/v1/verify", params={"code": "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF"})
    shared = ask_for_receipt("/api/v1/share", body={"code": share_code})
    gone = ask_for_receipt("/api/v1/share", body={"code": "KKKKK-KKKKK-KKKKK"})
    batch = ask_for_receipt(
        "/api/v1/verify/batch", body={"items": [{"code": certificate.verification_code}, {"code": "AAAA-BBBB"}]}
    )
    context, page = browser_page
    load(page, live_server)
    context.set_offline(True)
    result = verify_afresh(page, unknown)
    assert "Receipt signed by the fund." in result and "No genuine certificate matches" in result
    assert "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF" in result
    result = verify_afresh(page, shared)
    assert "Valid share code" in result and "Banque Populaire" in result and "BENNANI AMINA" in result
    assert "POST /api/v1/share" in result
    assert "No usable share code (unknown, expired or revoked)" in verify_afresh(page, gone)
    result = verify_afresh(page, batch)
    assert f"Item 1\n{certificate.number} · Valid" in result and "Item 2\nNo genuine certificate matches" in result
