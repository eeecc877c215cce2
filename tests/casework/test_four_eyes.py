"""Four eyes, the shared service (casework.four_eyes) and its database constraints, on each flow that uses it.

Each flow (identity changes, treaty periods, possible matches of people absent from the
registry) proposes through its own service, which calls ``four_eyes_propose``; the tests
then decide through the shared ``four_eyes_decide`` with the flow's ``FourEyes`` and check
what a second person, the proposer, someone without the role and a stale page each get,
and that the database refuses what bypasses the service."""

import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.forms.models import model_to_dict
from django.utils import timezone

from audit.actions import AuditAction, actions
from audit.models import AuditEntry
from backoffice import services as backoffice_services
from backoffice.models import IdentityChange
from casework.four_eyes import NOTE_MAX_LENGTH, FourEyes, can_decide, four_eyes_decide, four_eyes_propose
from casework.models import CaseKind
from casework.services import case_create
from tests.backoffice.conftest import make_staff, pdf_upload
from tests.factories import seed_personas
from tests.treaties.conftest import document, french_periods
from treaties import services as treaty_services
from treaties.models import Convention, ForeignPeriodVersion
from unregistered import services as unregistered_services
from unregistered.models import UnregisteredPerson

pytestmark = pytest.mark.django_db

TEST_ACTION = "tests.record.decided"


@pytest.fixture(autouse=True)
def _test_action(monkeypatch):
    """The decision these tests write, declared for them only (audit_record refuses undeclared actions)."""
    monkeypatch.setitem(actions._actions, TEST_ACTION, AuditAction(TEST_ACTION, "decided in a test"))


@pytest.fixture(autouse=True)
def _english(settings, tmp_path):
    settings.LANGUAGE_CODE = "en"
    settings.MEDIA_ROOT = tmp_path / "private"
    caches = {alias: dict(config) for alias, config in settings.CACHES.items()}
    caches["default"]["KEY_PREFIX"] = f"test-four-eyes-{uuid.uuid4().hex}"
    settings.CACHES = caches


@dataclass
class Pending:
    flow: FourEyes
    record: object
    proposer: object
    decider: object
    second_decider: object
    outsider: object  # staff without the role that decides
    decided: str  # a status the flow may decide to, with no effect of its own


def _salma():
    return seed_personas("salma", today=timezone.localdate())["salma"]


def identity_change():
    salma = _salma()
    proposer = make_staff("chef.rabat", "agent", "supervisor")
    values = {name: getattr(salma, name) or "" for name in backoffice_services.IDENTITY_FIELDS}
    change = backoffice_services.identity_change_propose(
        insured=salma,
        actor=proposer,
        values={**values, "birth_date": salma.birth_date, "cin": "BK999001"},
        reason="Nouvelle CIN",
        document=pdf_upload(),
    )
    return Pending(
        flow=backoffice_services.IDENTITY_CHANGE_FOUR_EYES,
        record=change,
        proposer=proposer,
        decider=make_staff("chef.casa", "agent", "supervisor"),
        second_decider=make_staff("chef.fes", "agent", "supervisor"),
        outsider=make_staff("agent.casa", "agent"),
        decided=IdentityChange.Status.REJECTED,
    )


def treaty_version():
    hassan = seed_personas("hassan", today=timezone.localdate())["hassan"]
    case = case_create(insured=hassan, kind=CaseKind.TREATY, details={"country": "FR"})
    proposer = make_staff("traites.omar", "treaty")
    version = treaty_services.periods_record(
        case=case,
        actor=proposer,
        convention=Convention.objects.get(country="FR"),
        periods=french_periods(),
        document=document(),
    )
    return Pending(
        flow=treaty_services.PERIODS_FOUR_EYES,
        record=version,
        proposer=proposer,
        decider=make_staff("traites.nadia", "treaty"),
        second_decider=make_staff("traites.karim", "treaty"),
        outsider=make_staff("chef.casa", "agent", "supervisor"),
        decided=ForeignPeriodVersion.Status.REJECTED,
    )


def possible_match():
    salma = _salma()
    proposer = make_staff("chef.rabat", "agent", "supervisor")
    person = unregistered_services.unregistered_record(
        actor=proposer,
        values={
            "cin": "JK123456",
            "last_name": salma.last_name,
            "first_name": "NADIA",
            "last_name_ar": "الإدريسي",
            "first_name_ar": "نادية",
            "birth_date": salma.birth_date,
        },
    )
    return Pending(
        flow=unregistered_services.MATCH_FOUR_EYES,
        record=person,
        proposer=proposer,
        decider=make_staff("chef.casa", "agent", "supervisor"),
        second_decider=make_staff("chef.fes", "agent", "supervisor"),
        outsider=make_staff("agent.casa", "agent"),
        decided=UnregisteredPerson.Status.CLEAR,
    )


FLOWS = {"identity change": identity_change, "treaty periods": treaty_version, "possible match": possible_match}


@pytest.fixture(params=list(FLOWS))
def pending(request):
    return FLOWS[request.param]()


def decide(pending, actor, note="Vérifié sur l'original"):
    return four_eyes_decide(
        flow=pending.flow,
        record=pending.record,
        actor=actor,
        status=pending.decided,
        note=note,
        action="tests.record.decided",
        after={"checked": True},
    )


def state(pending):
    return model_to_dict(type(pending.record).objects.get(pk=pending.record.pk)), AuditEntry.objects.count()


def test_every_flow_declares_its_four_eyes_on_its_own_model():
    flows = [backoffice_services.IDENTITY_CHANGE_FOUR_EYES, treaty_services.PERIODS_FOUR_EYES]
    flows.append(unregistered_services.MATCH_FOUR_EYES)
    assert [flow.model for flow in flows] == [IdentityChange, ForeignPeriodVersion, UnregisteredPerson]


def test_the_proposal_waits_and_is_audited_with_its_proposer(pending):
    record = pending.record
    record.refresh_from_db()
    assert record.status == pending.flow.pending
    assert getattr(record, pending.flow.proposer) == pending.proposer
    assert record.decided_by is None and record.decided_at is None
    entry = AuditEntry.objects.filter(object_id=str(record.pk), object_type=record._meta.label_lower).get()
    assert entry.actor == pending.proposer


def test_a_second_person_with_the_role_decides_once_and_it_is_audited(pending):
    assert can_decide(pending.flow, pending.record, pending.decider)
    decided = decide(pending, pending.decider, note="  Vérifié sur l'original  ")
    decided.refresh_from_db()
    assert decided.status == pending.decided
    assert decided.decided_by == pending.decider and decided.decided_at is not None
    assert decided.decision_note == "Vérifié sur l'original"
    entry = AuditEntry.objects.get(action="tests.record.decided")
    assert entry.actor == pending.decider and entry.object_id == str(decided.pk)
    assert entry.before == {"status": pending.flow.pending}
    assert entry.after == {"status": pending.decided, "checked": True}
    assert entry.reason == "Vérifié sur l'original"
    assert not can_decide(pending.flow, decided, pending.second_decider)


def test_a_stale_decision_is_refused_and_changes_nothing(pending):
    stale = type(pending.record).objects.get(pk=pending.record.pk)  # the page the second decider opened
    decide(pending, pending.second_decider, note="Décidé le premier")
    before = state(pending)
    with pytest.raises(pending.flow.error) as refused:
        four_eyes_decide(
            flow=pending.flow, record=stale, actor=pending.decider, status=pending.decided, note="", action="x.y"
        )
    assert str(refused.value) == str(pending.flow.not_pending)
    assert state(pending) == before
    assert type(pending.record).objects.get(pk=pending.record.pk).decided_by == pending.second_decider


def test_the_proposer_cannot_decide_their_own_proposal(pending):
    before = state(pending)
    assert not can_decide(pending.flow, pending.record, pending.proposer)
    with pytest.raises(pending.flow.error) as refused:
        decide(pending, pending.proposer)
    assert str(refused.value) == str(pending.flow.own_proposal)
    assert "four eyes" in str(refused.value) or "four-eyes" in str(refused.value)
    assert state(pending) == before


def test_staff_without_the_deciding_role_cannot_decide(pending):
    before = state(pending)
    assert not can_decide(pending.flow, pending.record, pending.outsider)
    with pytest.raises(pending.flow.error) as refused:
        decide(pending, pending.outsider)
    assert str(refused.value) == str(pending.flow.not_decider)
    assert state(pending) == before


@pytest.mark.parametrize(
    ("note", "error"),
    [
        ("Vérifié\x00 au guichet", "Null characters are not allowed."),
        ("x" * (NOTE_MAX_LENGTH + 1), "A note has at most 2000 characters."),
    ],
    ids=["nul", "over-long"],
)
def test_an_invalid_note_is_refused_and_changes_nothing(pending, note, error):
    before = state(pending)
    with pytest.raises(pending.flow.error, match=error):
        decide(pending, pending.decider, note=note)
    assert state(pending) == before


def test_a_note_of_2000_characters_is_kept_whole(pending):
    decided = decide(pending, pending.decider, note="x" * NOTE_MAX_LENGTH)
    decided.refresh_from_db()
    assert decided.decision_note == "x" * NOTE_MAX_LENGTH


def test_a_required_note_must_be_given(pending):
    before = state(pending)
    with pytest.raises(pending.flow.error, match="Explain the decision"):
        four_eyes_decide(
            flow=pending.flow,
            record=pending.record,
            actor=pending.decider,
            status=pending.decided,
            note="   ",
            note_required="Explain the decision.",
            action="x.y",
        )
    assert state(pending) == before


def test_a_refusal_of_the_flows_own_effect_undoes_the_decision(pending):
    before = state(pending)

    def apply(record):
        record.decision_note = "partly written"

    def then(record):
        raise pending.flow.error("The record moved.")

    with pytest.raises(pending.flow.error, match="The record moved"):
        four_eyes_decide(
            flow=pending.flow,
            record=pending.record,
            actor=pending.decider,
            status=pending.decided,
            note="ok",
            action="x.y",
            apply=apply,
            then=then,
        )
    assert state(pending) == before


def test_the_database_refuses_a_raw_self_approval(pending):
    """Four eyes also for anything that bypasses the service: an UPDATE naming the proposer as decider."""
    rows = type(pending.record).objects.filter(pk=pending.record.pk)
    with pytest.raises(IntegrityError, match="four_eyes"), transaction.atomic():
        rows.update(status=pending.decided, decided_by=pending.proposer, decided_at=timezone.now())
    # The same UPDATE by another person passes: the constraint is about who, not about deciding.
    assert rows.update(status=pending.decided, decided_by=pending.decider, decided_at=timezone.now()) == 1


def test_the_database_refuses_a_half_written_decision(pending):
    rows = type(pending.record).objects.filter(pk=pending.record.pk)
    with pytest.raises(IntegrityError, match="decision_complete"), transaction.atomic():
        rows.update(decided_by=pending.decider, decided_at=timezone.now())  # still waiting, yet decided
    with pytest.raises(IntegrityError, match="decision_complete"), transaction.atomic():
        rows.update(status=pending.decided, decided_by=pending.decider)  # no decision time
    assert rows.get().decided_by is None


def test_a_person_clear_without_any_match_needs_no_decision():
    """``either`` statuses: a clear record was decided, or never needed a decision; nothing in between."""
    agent = make_staff("agent.casa", "agent")
    person = unregistered_services.unregistered_record(
        actor=agent,
        values={
            "cin": "JK765432",
            "last_name": "ZNIBER",
            "first_name": "OMAR",
            "last_name_ar": "زنيبر",
            "first_name_ar": "عمر",
            "birth_date": timezone.localdate() - timedelta(days=40 * 365),
        },
    )
    assert person.status == UnregisteredPerson.Status.CLEAR and person.decided_by is None
    rows = UnregisteredPerson.objects.filter(pk=person.pk)
    with pytest.raises(IntegrityError, match="decision_complete"), transaction.atomic():
        rows.update(decided_at=timezone.now())


def test_one_proposal_waits_at_a_time_where_the_flow_says_so():
    """The identity and periods flows allow one pending record per person / request: refused by the service."""
    pending = identity_change()
    again = IdentityChange(
        insured=pending.record.insured,
        proposed={"phone": "+212611223344"},
        previous={"phone": ""},
        reason="Deuxième",
        document_name="x.pdf",
        document_type="application/pdf",
        document_size=1,
        document_sha256="0" * 64,
    )
    before = IdentityChange.objects.count(), AuditEntry.objects.count()
    with pytest.raises(backoffice_services.BackofficeError, match="already waiting for approval"):
        four_eyes_propose(flow=pending.flow, record=again, actor=pending.decider, action="x.y")
    assert (IdentityChange.objects.count(), AuditEntry.objects.count()) == before


def test_staff_without_the_proposing_role_cannot_propose():
    outsider = make_staff("traites.nadia", "treaty")
    person = UnregisteredPerson(
        cin="JK111111",
        last_name="ZNIBER",
        first_name="OMAR",
        last_name_ar="زنيبر",
        first_name_ar="عمر",
        birth_date=timezone.localdate() - timedelta(days=40 * 365),
        status=UnregisteredPerson.Status.CLEAR,
    )
    with pytest.raises(unregistered_services.UnregisteredError, match="Only agency agents and supervisors"):
        four_eyes_propose(flow=unregistered_services.MATCH_FOUR_EYES, record=person, actor=outsider, action="x.y")
    assert not UnregisteredPerson.objects.exists() and not AuditEntry.objects.exists()
