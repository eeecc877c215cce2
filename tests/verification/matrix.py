"""Every certificate kind × every verification channel × holder registered or not (issue 19).

The two lists the matrix tests read: ``HOLDERS`` (how each kind is issued, for a registered holder and, where
the portal allows it, for a person absent from the registry) and ``CHANNELS`` (each way a verifier checks a
certificate). A new certificate kind is one entry in ``HOLDERS`` (``test_every_kind_has_a_way_to_be_issued``
fails until it has one, reading ``certificates.registry``); a new channel is one entry in ``CHANNELS``.

Each channel answers a ``Seen``: the HTTP status (or the command's exit code) and the state it reports,
``"valid"`` or ``"revoked"`` (``None`` when it found nothing).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone

from certificates.models import Certificate

REGISTERED = "registered"
UNREGISTERED = "absent from the registry"


@dataclass(frozen=True)
class Holder:
    """How one kind of certificate is issued, for one kind of holder."""

    kind: str
    holder: str
    issue: Callable[[dict], Certificate]

    @property
    def id(self) -> str:
        return f"{self.kind}-{'registered' if self.holder == REGISTERED else 'unregistered'}"


@dataclass
class Issued:
    """A certificate issued for the matrix, with what a verifier holds of it."""

    holder: Holder
    certificate: Certificate
    pdf: bytes
    qr_text: str

    @property
    def registered(self) -> bool:
        return self.holder.holder == REGISTERED


@dataclass(frozen=True)
class Seen:
    status: int
    state: str | None


# --- Issuing, once per kind and holder --------------------------------------------------------

NADIA = {
    "cin": "JK123456",
    "last_name": "EL IDRISSI",
    "first_name": "NADIA",
    "last_name_ar": "الإدريسي",
    "first_name_ar": "نادية",
    "birth_date": date(1992, 4, 17),
}


def cast(today: date) -> dict:
    """The people and staff the issuers need: Amina (the online kinds), Rachid (non-affiliation), Hassan
    (treaty), the treaty officers, an agent and a supervisor, an integrator's key."""
    from integrations import services as integrations
    from tests.backoffice.conftest import make_staff
    from tests.factories import seed_personas
    from treaties.conventions import ensure_conventions

    ensure_conventions()
    people = seed_personas("amina", "rachid", "hassan", today=today)
    supervisor = make_staff("chef.matrix", "agent", "supervisor")
    bank = integrations.organisation_register(
        name="BANQUE MATRICE", kind="bank", contact_email="api@matrice.example", actor=supervisor
    )
    _key, plaintext = integrations.api_key_issue(
        organisation=bank,
        label="matrix",
        valid_days=30,
        quota_per_minute=100_000,
        quota_per_day=1_000_000,
        actor=supervisor,
    )
    return {
        **people,
        "agent": make_staff("agent.matrix", "agent"),
        "supervisor": supervisor,
        "officer": make_staff("traites.matrix", "treaty"),
        "second_officer": make_staff("traites2.matrix", "treaty"),
        "api_key": plaintext,
        "organisation": bank.name,
    }


def _online(person: str, kind: str) -> Callable[[dict], Certificate]:
    def issue(people: dict) -> Certificate:
        from certificates.services import certificate_issue

        return certificate_issue(insured=people[person], kind=kind)

    return issue


def _treaty(people: dict) -> Certificate:
    from casework.models import CaseKind
    from casework.services import case_create
    from tests.treaties.conftest import document, french_periods
    from treaties import services
    from treaties.models import Convention

    case = case_create(
        insured=people["hassan"],
        kind=CaseKind.TREATY,
        details={"country": "FR", "foreign_number": "1640975123456", "periods": "03/1986 to 09/2003, Renault"},
    )
    version = services.periods_record(
        case=case,
        actor=people["officer"],
        convention=Convention.objects.get(country="FR"),
        periods=french_periods(),
        document=document(),
    )
    services.periods_approve(version=version, actor=people["second_officer"])
    return services.treaty_certificate_issue(case=case, actor=people["officer"])


def _unregistered(people: dict) -> Certificate:
    from unregistered import services

    person = services.unregistered_record(actor=people["agent"], values=NADIA)
    return services.unregistered_issue(person=person, actor=people["agent"])


HOLDERS = [
    Holder("employment", REGISTERED, _online("amina", "employment")),
    Holder("affiliation", REGISTERED, _online("amina", "affiliation")),
    Holder("non_affiliation", REGISTERED, _online("rachid", "non_affiliation")),
    # Agency only: a person the registry does not know (/staff/unregistered/).
    Holder("non_affiliation", UNREGISTERED, _unregistered),
    Holder("annual_salary", REGISTERED, _online("amina", "annual_salary")),
    Holder("declared_days", REGISTERED, _online("amina", "declared_days")),
    Holder("deregistration", REGISTERED, _online("amina", "deregistration")),
    # Agency only: the International Treaties service, four eyes.
    Holder("treaty_periods", REGISTERED, _treaty),
]


def issue_all(people: dict) -> list[Issued]:
    """Every entry of ``HOLDERS`` issued once, with its PDF and the text of its QR code as a phone reads it."""
    from verification.pdfcheck import qr_texts

    issued = []
    for holder in HOLDERS:
        certificate = holder.issue(people)
        assert certificate.kind == holder.kind
        assert (certificate.insured_id is not None) == (holder.holder == REGISTERED)
        pdf = bytes(certificate.file.data)
        [qr_text] = qr_texts(pdf)
        issued.append(Issued(holder, certificate, pdf, qr_text))
    return issued


def revoke(item: Issued, actor) -> None:
    from certificates.services import certificate_revoke

    certificate_revoke(certificate=item.certificate, actor=actor, reason="Fraude constatée (test de la matrice)")


# --- The channels ---------------------------------------------------------------------------------

# What each page says, in English (the tests' language), for each state.
VERIFY_PAGE = {"<h1>Genuine and valid certificate</h1>": "valid", "<h1>Revoked certificate</h1>": "revoked"}
PDF_PAGE = {
    "<h2>Genuine and valid certificate</h2>": "valid",
    "<h2>Genuine file, but the certificate is revoked</h2>": "revoked",
}


def _page_state(response, phrases: dict) -> Seen:
    html = response.content.decode()
    found = [state for phrase, state in phrases.items() if phrase in html]
    assert len(found) <= 1, found
    return Seen(response.status_code, found[0] if found else None)


def _api_state(response) -> Seen:
    body = response.json()
    assert response["Content-Type"].startswith("application/json")
    return Seen(response.status_code, body["state"] if body.get("genuine") else None)


def qr_link(client, item: Issued, ctx: dict) -> Seen:
    """What a phone opens: the address in the QR code (the payload after ``#`` stays in the phone)."""
    return _page_state(client.get(urlsplit(item.qr_text).path), VERIFY_PAGE)


def typed_code(client, item: Issued, ctx: dict) -> Seen:
    return _page_state(client.post("/verify/", {"code": item.certificate.verification_code}), VERIFY_PAGE)


def pasted_qr_text(client, item: Issued, ctx: dict) -> Seen:
    """The QR code's content pasted from a reader app into the same form."""
    return _page_state(client.post("/verify/", {"code": item.qr_text}), VERIFY_PAGE)


def pdf_upload(client, item: Issued, ctx: dict) -> Seen:
    upload = SimpleUploadedFile(f"{item.certificate.number}.pdf", item.pdf, content_type="application/pdf")
    return _page_state(client.post("/verify/pdf/", {"pdf": upload}), PDF_PAGE)


def api_code(client, item: Issued, ctx: dict) -> Seen:
    return _api_state(client.get("/api/v1/verify", {"code": item.certificate.verification_code}))


def api_token(client, item: Issued, ctx: dict) -> Seen:
    return _api_state(client.post("/api/v1/verify", {"token": item.qr_text}, content_type="application/json"))


def api_with_key(client, item: Issued, ctx: dict) -> Seen:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {ctx['api_key']}"}
    code = _api_state(client.get("/api/v1/verify", {"code": item.certificate.verification_code}, **headers))
    token = _api_state(
        client.post("/api/v1/verify", {"token": item.qr_text}, content_type="application/json", **headers)
    )
    assert code == token
    return code


def holder_sharing_page(client, item: Issued, ctx: dict) -> Seen:
    """The holder's "who checked my information" page (/me/sharing/) after an integrator's keyed look-up:
    the page where a registered holder sees who checked the certificate. No account, no page: registered only."""
    from tests.integrations.conftest import insured_client

    seen = api_with_key(client, item, ctx)
    page = insured_client(item.certificate.insured).get("/me/sharing/")
    html = page.content.decode()
    assert ctx["organisation"] in html and item.certificate.number in html
    return Seen(max(seen.status, page.status_code), seen.state)


def command(client, item: Issued, ctx: dict) -> Seen:
    """``manage.py verify_certificate --json FILE.pdf``: exit 0 for a genuine valid certificate, 1 otherwise."""
    path = ctx["tmp_path"] / f"{item.certificate.number}.pdf"
    path.write_bytes(item.pdf)
    out = io.StringIO()
    try:
        call_command("verify_certificate", "--json", str(path), stdout=out, stderr=io.StringIO())
        exit_code = 0
    except SystemExit as stop:
        exit_code = stop.code
    report = json.loads(out.getvalue())
    assert report["genuine"] is True
    # Exit 0 exactly for a genuine certificate valid today; 2 (unreadable) would be a failure of the command.
    assert exit_code == (0 if report["state"] == "valid" else 1)
    return Seen(200, report["state"])


@dataclass(frozen=True)
class Channel:
    name: str
    check: Callable
    applies: Callable[[Holder], bool] = lambda holder: True


CHANNELS = [
    Channel("verify page, QR link", qr_link),
    Channel("verify page, typed code", typed_code),
    Channel("verify page, QR text pasted", pasted_qr_text),
    Channel("PDF upload", pdf_upload),
    Channel("API, code, no key", api_code),
    Channel("API, QR token, no key", api_token),
    Channel("API with a key", api_with_key),
    Channel("holder's sharing page", holder_sharing_page, applies=lambda holder: holder.holder == REGISTERED),
    Channel("verify_certificate command", command),
    # The offline verifier runs in Chromium: tests/verification/test_matrix_browser.py.
]


def today() -> date:
    return timezone.localdate()
