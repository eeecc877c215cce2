"""Issue 19, item 5: every decision form × invalid input decides nothing and shows the error.

A decision endpoint is one entry of ``ENDPOINTS`` (a function that builds a pending
decision and says how to post it). Each entry is posted, by HTTP, with a NUL byte in its
text, an over-long text, each required field missing, on an object someone else decided
meanwhile (stale), and by the person who proposed it where four eyes applies. Each time:
the database is as before (the object, what it governs, no audit entry), the answer is
the page again (200 or 400) with the error in it, and no success message."""

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import pytest
from django.contrib import messages
from django.contrib.messages import get_messages
from django.forms.models import model_to_dict
from django.test import Client
from django.urls import resolve
from django.utils import timezone

from audit.models import AuditEntry
from backoffice import services as backoffice_services
from backoffice.models import IdentityChange
from casework.models import Case, CaseKind
from casework.services import case_create
from certificates.models import Certificate
from certificates.services import certificate_issue, certificate_revoke
from integrations import services as integrations_services
from integrations.models import ApiKey, Organisation
from registry.models import Insured
from tests.backoffice.conftest import make_staff, pdf_upload, verified_login
from tests.factories import seed_personas
from tests.treaties.conftest import document, french_periods
from treaties import services as treaty_services
from treaties.conventions import ensure_conventions
from treaties.models import Convention, ForeignPeriodVersion
from unregistered import services as unregistered_services
from unregistered.models import UnregisteredPerson

pytestmark = pytest.mark.django_db

NUL = "Null characters are not allowed."


@dataclass
class Decision:
    """One pending decision and how to post it."""

    url: str
    valid: dict  # a post that would decide
    text: str  # the free-text field
    max_length: int
    too_long: str  # the error for one character too many
    decider: object  # who may decide
    stale: Callable[[], None]  # someone else decides first
    stale_error: str
    state: Callable[[], object]  # what must not change
    required: dict[str, str] = field(default_factory=dict)  # field -> its error when missing
    proposer: object = None  # four eyes: who proposed it and may not decide it
    four_eyes_error: str = ""


class World:
    """The people of a test, made when first named: each entry needs only a few of them."""

    @cached_property
    def agent(self):
        return make_staff("agent.casa", "agent")

    @cached_property
    def supervisor(self):
        return make_staff("chef.casa", "agent", "supervisor")

    @cached_property
    def proposer(self):
        return make_staff("chef.rabat", "agent", "supervisor")

    @cached_property
    def other(self):
        """Another supervisor, who decides first in the stale case."""
        return make_staff("chef.fes", "agent", "supervisor")

    @cached_property
    def officer(self):
        return make_staff("traites.nadia", "treaty")

    @cached_property
    def proposer_officer(self):
        return make_staff("traites.omar", "treaty")

    @cached_property
    def other_officer(self):
        return make_staff("traites.karim", "treaty")

    def _persona(self, key):
        return seed_personas(key, today=timezone.localdate())[key]

    @cached_property
    def amina(self):
        return self._persona("amina")

    @cached_property
    def salma(self):
        return self._persona("salma")

    @cached_property
    def hassan(self):
        return self._persona("hassan")


def _row(model, pk):
    return model_to_dict(model.objects.get(pk=pk))


def _insured(insured):
    return model_to_dict(Insured.objects.get(pk=insured.pk))


def identity_change(world, *, reject):
    values = {name: getattr(world.salma, name) or "" for name in backoffice_services.IDENTITY_FIELDS}
    values["birth_date"] = world.salma.birth_date
    change = backoffice_services.identity_change_propose(
        insured=world.salma,
        actor=world.proposer,
        values={**values, "cin": "BK999001"},
        reason="Nouvelle CIN présentée au guichet",
        document=pdf_upload(),
    )
    action = "reject" if reject else "approve"
    return Decision(
        url=f"/staff/identity-changes/{change.pk}/{action}/",
        valid={"note": "CIN vérifiée sur l'original"},
        text="note",
        max_length=2000,
        too_long="Ensure this value has at most 2000 characters",
        required={"note": "Explain why the change is rejected."} if reject else {},
        decider=world.supervisor,
        proposer=world.proposer,
        four_eyes_error="another supervisor must decide it (four-eyes rule)",
        stale=lambda: backoffice_services.identity_change_reject(
            change=change, actor=world.other, note="Document illisible"
        ),
        stale_error="This change has already been decided.",
        state=lambda: (_row(IdentityChange, change.pk), _insured(world.salma)),
    )


def treaty_version(world, *, reject):
    case = case_create(
        insured=world.hassan,
        kind=CaseKind.TREATY,
        details={"country": "FR", "foreign_number": "1640975123456", "periods": "03/1986 to 09/2003"},
    )
    version = treaty_services.periods_record(
        case=case,
        actor=world.proposer_officer,
        convention=Convention.objects.get(country="FR"),
        periods=french_periods(),
        document=document(),
    )
    action = "reject" if reject else "approve"
    return Decision(
        url=f"/staff/treaties/versions/{version.pk}/{action}/",
        valid={"note": "Relevé CNAV conforme"},
        text="note",
        max_length=2000,
        too_long="Ensure this value has at most 2000 characters",
        required={"note": "Explain why these periods are rejected."} if reject else {},
        decider=world.officer,
        proposer=world.proposer_officer,
        four_eyes_error="another officer must approve them (four-eyes rule)",
        stale=lambda: treaty_services.periods_reject(version=version, actor=world.other_officer, note="Illisible"),
        stale_error="This version has already been decided.",
        state=lambda: (
            _row(ForeignPeriodVersion, version.pk),
            _row(Case, case.pk),
            Certificate.objects.count(),
        ),
    )


def unregistered_decision(world):
    person = unregistered_services.unregistered_record(
        actor=world.proposer,
        values={
            "cin": "JK123456",
            "last_name": world.salma.last_name,
            "first_name": "NADIA",
            "last_name_ar": "الإدريسي",
            "first_name_ar": "نادية",
            "birth_date": world.salma.birth_date,
        },
    )
    assert person.status == UnregisteredPerson.Status.REVIEW
    return Decision(
        url=f"/staff/unregistered/{person.pk}/decide/",
        valid={"decision": "none", "note": "Homonyme, autre CIN"},
        text="note",
        max_length=2000,
        too_long="Ensure this value has at most 2000 characters",
        required={"note": "Explain the decision in a note.", "decision": "Choose a decision."},
        decider=world.supervisor,
        proposer=world.proposer,
        four_eyes_error="another supervisor must decide (four eyes)",
        stale=lambda: unregistered_services.unregistered_decide(
            person=person, actor=world.other, same_person=world.salma, note="Même personne"
        ),
        stale_error="No possible match waits for a decision on this record.",
        state=lambda: (_row(UnregisteredPerson, person.pk), Certificate.objects.count()),
    )


def request_close(world):
    case = case_create(
        insured=world.amina,
        kind=CaseKind.ID_UPDATE,
        details={"new_cin": "BE999001", "agency": "01", "preferred_date": "2030-01-07"},
    )
    return Decision(
        url=f"/staff/requests/{case.reference}/close/",
        valid={"status": "done", "note": "Rendez-vous fixé"},
        text="note",
        max_length=2000,
        too_long="Ensure this value has at most 2000 characters",
        required={"note": "Explain the decision in a note.", "status": "This field is required."},
        decider=world.agent,
        stale=lambda: backoffice_services.case_handle(case=case, actor=world.other, status="rejected", note="Doublon"),
        stale_error="This request is already closed.",
        state=lambda: (_row(Case, case.pk), _insured(world.amina)),
    )


def certificate_revocation(world):
    certificate = certificate_issue(insured=world.amina, kind="affiliation")
    return Decision(
        url=f"/staff/certificates/{certificate.public_id}/revoke/",
        valid={"reason": "Délivrée par erreur"},
        text="reason",
        max_length=2000,
        too_long="Ensure this value has at most 2000 characters",
        required={"reason": "A reason is required to revoke a certificate."},
        decider=world.agent,
        stale=lambda: certificate_revoke(certificate=certificate, actor=world.other, reason="Erreur de saisie"),
        stale_error="This certificate is already revoked.",
        state=lambda: _row(Certificate, certificate.pk),
    )


def _organisation(world):
    return integrations_services.organisation_register(
        name="BANQUE EXEMPLE", kind="bank", contact_email="api@banque.example", actor=world.other
    )


def key_revocation(world):
    key, _plaintext = integrations_services.api_key_issue(
        organisation=_organisation(world),
        label="loans",
        valid_days=30,
        quota_per_minute=100,
        quota_per_day=1000,
        actor=world.other,
    )
    return Decision(
        url=f"/staff/integrators/keys/{key.pk}/revoke/",
        valid={"reason": "Fin de contrat"},
        text="reason",
        max_length=200,
        too_long="At most 200 characters.",
        required={"reason": "Say why the key is revoked."},
        decider=world.supervisor,
        stale=lambda: integrations_services.api_key_revoke(key=key, actor=world.other, reason="Fuite"),
        stale_error="This key is already revoked.",
        state=lambda: _row(ApiKey, key.pk),
    )


def organisation_suspension(world):
    organisation = _organisation(world)
    return Decision(
        url=f"/staff/integrators/{organisation.pk}/suspend/",
        valid={"active": "0", "reason": "Contrat suspendu"},
        text="reason",
        max_length=200,
        too_long="At most 200 characters.",
        required={"reason": "Give a reason.", "active": "Choose to suspend or to reinstate."},
        decider=world.supervisor,
        stale=lambda: integrations_services.organisation_set_active(
            organisation=organisation, active=False, actor=world.other, reason="Impayés"
        ),
        stale_error="This organisation is already suspended.",
        state=lambda: _row(Organisation, organisation.pk),
    )


# Every decision form of the portal, by URL name: a new one is one line here.
ENDPOINTS = {
    "backoffice:identity_change_approve": lambda world: identity_change(world, reject=False),
    "backoffice:identity_change_reject": lambda world: identity_change(world, reject=True),
    "treaties:approve": lambda world: treaty_version(world, reject=False),
    "treaties:reject": lambda world: treaty_version(world, reject=True),
    "unregistered:decide": unregistered_decision,
    "backoffice:request_close": request_close,
    "backoffice:certificate_revoke": certificate_revocation,
    "integrations:key_revoke": key_revocation,
    "integrations:organisation_suspend": organisation_suspension,
}
# Where four eyes applies (the proposer may not decide), and where no field is required (an approval's
# note is optional): the test checks both against what each entry builds.
FOUR_EYES = {
    "backoffice:identity_change_approve",
    "backoffice:identity_change_reject",
    "treaties:approve",
    "treaties:reject",
    "unregistered:decide",
}
NOTHING_REQUIRED = {"backoffice:identity_change_approve", "treaties:approve"}
# URL names that decide and are not forms of staff decisions: the insured revoking their own share code.
NOT_DECISIONS = {"integrations:sharing_revoke"}
DECIDING_WORDS = ("approve", "reject", "decide", "close", "revoke", "suspend")


def _cases():
    for name in ENDPOINTS:
        for kind in ("nul", "over-long", "missing", "stale", "own"):
            if (kind == "own" and name not in FOUR_EYES) or (kind == "missing" and name in NOTHING_REQUIRED):
                continue
            yield pytest.param(name, kind, id=f"{name} × {kind}")


@pytest.fixture
def world(db, media):
    ensure_conventions()
    return World()


def _posts(decision: Decision, kind: str):
    """(who posts, the data, the error the page must show) for one kind of invalid input."""
    if kind == "nul":
        return [(decision.decider, {**decision.valid, decision.text: "Vérifié\x00 au guichet"}, NUL)]
    if kind == "over-long":
        return [
            (decision.decider, {**decision.valid, decision.text: "x" * (decision.max_length + 1)}, decision.too_long)
        ]
    if kind == "missing":
        return [
            (decision.decider, {k: v for k, v in decision.valid.items() if k != name}, error)
            for name, error in decision.required.items()
        ]
    if kind == "stale":
        return [(decision.decider, decision.valid, decision.stale_error)]
    if kind == "own":
        return [(decision.proposer, decision.valid, decision.four_eyes_error)] if decision.proposer else []
    raise AssertionError(kind)


@pytest.mark.parametrize(("endpoint", "kind"), list(_cases()))
def test_invalid_input_decides_nothing_and_the_page_shows_why(world, endpoint, kind):
    decision = ENDPOINTS[endpoint](world)
    assert resolve(decision.url).view_name == endpoint
    assert (decision.proposer is not None) == (endpoint in FOUR_EYES)
    assert (not decision.required) == (endpoint in NOTHING_REQUIRED)
    posts = _posts(decision, kind)
    assert posts
    # The valid post would decide: the refusals below are about the input, not the set-up.
    if kind == "stale":
        decision.stale()
    before = (decision.state(), AuditEntry.objects.count())
    for user, data, error in posts:
        client = verified_login(Client(headers={"accept-language": "en"}), user)
        response = client.post(decision.url, data)
        html = response.content.decode()
        assert response.status_code in (200, 400), (response.status_code, data)
        assert error in html.replace("&#x27;", "'"), (error, data)
        assert 'id="error-summary"' in html
        assert not [m for m in get_messages(response.wsgi_request) if m.level == messages.SUCCESS]
        assert (decision.state(), AuditEntry.objects.count()) == before, data


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_the_valid_post_of_each_entry_decides(world, endpoint):
    """The matrix's set-up is sound: the same post, valid, by the decider, decides and is audited."""
    decision = ENDPOINTS[endpoint](world)
    before = (decision.state(), AuditEntry.objects.count())
    client = verified_login(Client(headers={"accept-language": "en"}), decision.decider)
    response = client.post(decision.url, decision.valid)
    assert response.status_code == 302, response.content.decode()[:2000]
    state, audit = decision.state(), AuditEntry.objects.count()
    assert state != before[0] and audit > before[1]


def test_every_deciding_url_of_the_staff_pages_is_in_the_matrix():
    """A new decision endpoint (a URL name with approve, reject, decide, close, revoke or suspend) must
    join ENDPOINTS."""
    from django.urls import get_resolver

    names = set()
    for namespace in ("backoffice", "treaties", "unregistered", "integrations"):
        urls = get_resolver().namespace_dict[namespace][1]
        names |= {f"{namespace}:{name}" for name in urls.reverse_dict if isinstance(name, str)}
    deciding = {name for name in names if any(word in name.split(":")[1] for word in DECIDING_WORDS)}
    assert deciding - NOT_DECISIONS == set(ENDPOINTS)
