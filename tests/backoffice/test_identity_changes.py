"""Identity corrections with four eyes: an agent proposes with a supporting document, a different supervisor
decides; approval applies it in one transaction (earlier CIN kept, audit with before/after and reason)."""

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEntry
from backoffice import services
from backoffice.models import IdentityChange
from casework.models import Case, CaseStatus
from casework.services import case_create
from certificates.services import evaluate_for
from registry.models import Insured, PreviousCin
from tests.backoffice.conftest import PDF, PNG, pdf_upload, verified_login
from tests.factories import seed_personas

pytestmark = pytest.mark.django_db


def current_values(insured):
    return {
        name: ("" if getattr(insured, name) is None else getattr(insured, name)) for name in services.IDENTITY_FIELDS
    }


def form_data(insured, **changes):
    data = current_values(insured)
    data["birth_date"] = insured.birth_date.isoformat() if insured.birth_date else ""
    data.update({"reason": "Nouvelle CIN présentée au guichet", "document": pdf_upload()})
    data.update(changes)
    return data


@pytest.fixture
def salma(today):
    return seed_personas("salma", today=today)["salma"]


def propose(client, insured, **changes):
    return client.post(f"/staff/insured/{insured.pk}/identity/", form_data(insured, **changes))


def test_an_agent_proposes_a_change_and_nothing_applies_before_approval(as_staff, agent, salma, media):
    response = propose(as_staff(agent), salma, cin="bk 999 001", last_name="chraibi el idrissi")
    change = IdentityChange.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/staff/identity-changes/{change.pk}/"
    assert change.proposed == {"last_name": "CHRAIBI EL IDRISSI", "cin": "BK999001"}
    assert change.previous == {"last_name": "CHRAIBI", "cin": "BK654321"}
    assert change.status == "pending" and change.proposed_by == agent
    assert (media / change.document.name).read_bytes() == PDF
    assert "cin-recto" not in change.document.name
    salma.refresh_from_db()
    assert (salma.cin, salma.last_name) == ("BK654321", "CHRAIBI")
    # A pending change of printed identity blocks the affiliation certificate, as an open correction does.
    assert salma.identity_under_correction
    assert AuditEntry.objects.filter(action="backoffice.identity_change.proposed", actor=agent).exists()
    html = as_staff(agent).get(f"/staff/identity-changes/{change.pk}/").content.decode()
    assert "BK999001" in html and "BK654321" in html
    assert "You proposed this change: another supervisor must decide it" in html
    assert "Approve and apply" not in html


def test_the_proposer_can_never_approve_their_own_change_even_as_a_supervisor(client, supervisor, salma, media):
    verified_login(client, supervisor)
    propose(client, salma, cin="BK999001")
    change = IdentityChange.objects.get()
    html = client.get(f"/staff/identity-changes/{change.pk}/").content.decode()
    assert "Approve and apply" not in html
    assert "another supervisor must decide it" in html
    response = client.post(f"/staff/identity-changes/{change.pk}/approve/", {"note": "ok"}, follow=True)
    assert "another supervisor must decide it (four-eyes rule)" in response.content.decode()
    change.refresh_from_db()
    salma.refresh_from_db()
    assert change.status == "pending"
    assert salma.cin == "BK654321"
    with pytest.raises(services.BackofficeError):
        services.identity_change_reject(change=change, actor=supervisor, note="no")


def test_an_agent_who_is_not_a_supervisor_cannot_approve(client, agent, salma, media, second_supervisor):
    verified_login(client, second_supervisor)
    propose(client, salma, cin="BK999001")
    change = IdentityChange.objects.get()
    verified_login(client, agent)
    response = client.post(f"/staff/identity-changes/{change.pk}/approve/", follow=True)
    assert "Only a supervisor can approve or reject" in response.content.decode()
    change.refresh_from_db()
    assert change.status == "pending"


def test_supervisor_approval_applies_the_change_keeps_the_old_cin_and_audits_it(
    client, agent, supervisor, salma, media
):
    verified_login(client, agent)
    propose(client, salma, cin="BK999001", phone="06 11 22 33 44")
    change = IdentityChange.objects.get()
    verified_login(client, supervisor)
    html = client.get(f"/staff/identity-changes/{change.pk}/").content.decode()
    assert "Approve and apply" in html
    response = client.post(f"/staff/identity-changes/{change.pk}/approve/", {"note": "CIN vue au guichet"})
    assert response.status_code == 302

    salma.refresh_from_db()
    change.refresh_from_db()
    assert salma.cin == "BK999001"
    assert salma.phone == "+212611223344"
    assert not salma.identity_under_correction
    assert change.status == "approved" and change.decided_by == supervisor and change.decided_at is not None
    kept = PreviousCin.objects.get(insured=salma, cin="BK654321")
    assert kept.reason == "renewal" and kept.replaced_on is not None
    # Both earlier CINs still find her.
    assert list(Insured.objects.by_cin("BK654321")) == [salma]
    assert list(Insured.objects.by_cin("B345678")) == [salma]
    entry = AuditEntry.objects.get(action="registry.insured.identity_changed")
    assert entry.actor == supervisor and entry.insured == salma
    assert entry.before == {"cin": "BK654321", "phone": "+212612345606"}
    assert entry.after == {"cin": "BK999001", "phone": "+212611223344"}
    assert entry.reason == "Nouvelle CIN présentée au guichet"
    assert AuditEntry.objects.filter(action="backoffice.identity_change.approved", actor=supervisor).exists()
    record = client.get(f"/staff/insured/{salma.pk}/").content.decode()
    assert "registry.insured.identity_changed" in record
    assert "renewal" in record


def test_rejection_changes_nothing_in_the_registry_and_needs_a_note(client, agent, supervisor, salma, media):
    verified_login(client, agent)
    propose(client, salma, last_name="CHRAIBY")
    change = IdentityChange.objects.get()
    before = current_values(Insured.objects.get(pk=salma.pk))
    verified_login(client, supervisor)
    response = client.post(f"/staff/identity-changes/{change.pk}/reject/", {"note": ""}, follow=True)
    assert "Explain why the change is rejected." in response.content.decode()
    assert IdentityChange.objects.get().status == "pending"
    response = client.post(f"/staff/identity-changes/{change.pk}/reject/", {"note": "Document illisible"})
    assert response.status_code == 302
    change.refresh_from_db()
    salma.refresh_from_db()
    assert change.status == "rejected" and change.decision_note == "Document illisible"
    assert current_values(salma) == before
    assert not salma.identity_under_correction
    assert not PreviousCin.objects.filter(insured=salma, cin="BK654321").exists()
    assert not AuditEntry.objects.filter(action="registry.insured.identity_changed").exists()
    assert AuditEntry.objects.filter(action="backoffice.identity_change.rejected", reason="Document illisible").exists()


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (
            SimpleUploadedFile("cin.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf"),
            "Only PDF, JPEG or PNG",
        ),
        (SimpleUploadedFile("cin.png", PNG + b"\x00" * (5 * 1024 * 1024), content_type="image/png"), "too large"),
    ],
)
def test_a_bad_supporting_document_is_refused_and_nothing_is_recorded(as_staff, agent, salma, media, upload, message):
    response = propose(as_staff(agent), salma, cin="BK999001", document=upload)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not IdentityChange.objects.exists()


def test_a_proposal_needs_a_document_and_a_reason(as_staff, agent, salma, media):
    data = form_data(salma, cin="BK999001", reason="  ")
    del data["document"]
    html = as_staff(agent).post(f"/staff/insured/{salma.pk}/identity/", data).content.decode()
    assert "Attach the supporting document." in html
    assert "Give the reason for the change." in html
    assert not IdentityChange.objects.exists()


def test_invalid_values_get_clear_errors(as_staff, agent, salma, media):
    html = propose(as_staff(agent), salma, cin="1234", phone="0522334455", birth_date="2999-01-01").content.decode()
    assert "A national ID number (CIN) is 1 or 2 letters followed by 1 to 6 digits" in html
    assert "Moroccan mobile in international format" in html
    assert "The birth date must be between 1900 and today." in html
    assert not IdentityChange.objects.exists()


def test_a_cin_held_by_another_person_or_in_their_history_is_refused(as_staff, agent, salma, media, today):
    amina = seed_personas("amina", today=today)["amina"]
    client = as_staff(agent)
    html = propose(client, salma, cin=amina.cin).content.decode()
    assert "is the current CIN of another insured person" in html
    PreviousCin.objects.create(insured=amina, cin="BE000001")
    html = propose(client, salma, cin="BE000001").content.decode()
    assert "in the ID history of another insured person" in html
    assert not IdentityChange.objects.exists()


def test_a_proposal_identical_to_the_registry_is_refused(as_staff, agent, salma, media):
    html = propose(as_staff(agent), salma).content.decode()
    assert "nothing to change" in html
    assert not IdentityChange.objects.exists()


def test_only_one_change_waits_at_a_time_per_person(as_staff, agent, salma, media):
    client = as_staff(agent)
    propose(client, salma, first_name="SALMA NOUR")
    html = propose(client, salma, cin="BK999001").content.decode()
    assert "already waiting for approval" in html
    assert IdentityChange.objects.count() == 1


def test_approval_is_refused_when_the_record_moved_since_the_proposal(agent, supervisor, salma, media):
    change = services.identity_change_propose(
        insured=salma, actor=agent, values={"first_name": "SALMA NOUR"}, reason="acte", document=pdf_upload()
    )
    Insured.objects.filter(pk=salma.pk).update(first_name="SALMA B")
    with pytest.raises(services.BackofficeError, match="changed since"):
        services.identity_change_approve(change=change, actor=supervisor)
    salma.refresh_from_db()
    assert salma.first_name == "SALMA B"


def test_a_stale_or_clashing_approval_is_refused_before_the_decision_is_written(agent, supervisor, salma, media):
    """The checks on the registry run in the four-eyes ``apply`` hook: nothing of the decision is written,
    not even inside the transaction that the refusal rolls back (review of issue 22)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    change = services.identity_change_propose(
        insured=salma, actor=agent, values={"first_name": "SALMA NOUR"}, reason="acte", document=pdf_upload()
    )
    Insured.objects.filter(pk=salma.pk).update(first_name="SALMA B")
    with CaptureQueriesContext(connection) as queries, pytest.raises(services.BackofficeError, match="changed since"):
        services.identity_change_approve(change=change, actor=supervisor)
    writes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith(("UPDATE", "INSERT", "DELETE"))]
    assert writes == []
    change.refresh_from_db()
    assert change.status == IdentityChange.Status.PENDING and change.decided_by is None


def test_the_database_refuses_a_change_decided_by_its_proposer(agent, salma, media):
    from django.db import IntegrityError, transaction
    from django.utils import timezone

    change = services.identity_change_propose(
        insured=salma, actor=agent, values={"first_name": "SALMA NOUR"}, reason="acte", document=pdf_upload()
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        IdentityChange.objects.filter(pk=change.pk).update(
            status="approved", decided_by=agent, decided_at=timezone.now()
        )


def test_a_name_correction_request_prefills_the_change_and_approval_closes_it(client, agent, supervisor, media, today):
    mohamed = seed_personas("mohamed", today=today)["mohamed"]
    case = case_create(
        insured=mohamed,
        kind="name_correction",
        details={
            "requested": {"last_name": "BENJELLOUN", "first_name": "MOHAMED", "last_name_ar": "", "first_name_ar": ""},
            "current": {"last_name": "BENJLLOUN", "first_name": "MOHAMED"},
        },
        documents=[pdf_upload("cin.pdf")],
    )
    mohamed.refresh_from_db()
    assert mohamed.identity_under_correction
    assert evaluate_for(mohamed, "affiliation", today=today).code == "identity_under_correction"

    verified_login(client, agent)
    detail = client.get(f"/staff/requests/{case.reference}/").content.decode()
    assert f"/staff/insured/{mohamed.pk}/identity/?case={case.reference}" in detail
    form = client.get(f"/staff/insured/{mohamed.pk}/identity/", {"case": case.reference}).content.decode()
    assert 'value="BENJELLOUN"' in form
    assert f'name="case" value="{case.reference}"' in form
    data = form_data(mohamed, last_name="BENJELLOUN", case=case.reference, reason="Erreur de saisie employeur")
    assert client.post(f"/staff/insured/{mohamed.pk}/identity/", data).status_code == 302
    change = IdentityChange.objects.get()
    assert change.case == case

    verified_login(client, supervisor)
    client.post(f"/staff/identity-changes/{change.pk}/approve/")
    mohamed.refresh_from_db()
    case.refresh_from_db()
    assert mohamed.last_name == "BENJELLOUN"
    assert case.status == CaseStatus.DONE and case.handled_by == supervisor
    assert case.decision_note
    assert not mohamed.identity_under_correction
    assert evaluate_for(mohamed, "affiliation", today=today).allowed


def test_closing_the_request_does_not_lift_the_flag_while_a_change_waits(agent, supervisor, media, today):
    mohamed = seed_personas("mohamed", today=today)["mohamed"]
    case = case_create(insured=mohamed, kind="name_correction", details={"requested": {"last_name": "BENJELLOUN"}})
    services.identity_change_propose(
        insured=mohamed, actor=agent, values={"last_name": "BENJELLOUN"}, reason="acte", document=pdf_upload()
    )
    services.case_handle(case=case, actor=supervisor, status=CaseStatus.DONE, note="Traité au guichet")
    mohamed.refresh_from_db()
    assert Case.objects.get(pk=case.pk).status == CaseStatus.DONE
    assert mohamed.identity_under_correction


def test_a_phone_only_change_does_not_block_certificates(agent, salma, media):
    services.identity_change_propose(
        insured=salma, actor=agent, values={"phone": "+212700000001"}, reason="Employeur", document=pdf_upload()
    )
    salma.refresh_from_db()
    assert not salma.identity_under_correction


def test_a_birth_date_change_is_applied_as_a_date(agent, supervisor, salma, media):
    change = services.identity_change_propose(
        insured=salma, actor=agent, values={"birth_date": date(1995, 9, 18)}, reason="acte", document=pdf_upload()
    )
    services.identity_change_approve(change=change, actor=supervisor)
    salma.refresh_from_db()
    assert salma.birth_date == date(1995, 9, 18)
