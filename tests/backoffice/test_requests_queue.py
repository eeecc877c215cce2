"""The agency's request queue: open requests first, oldest first; take, close with a note; employer cases show
the employer's status and missing periods; supporting documents reach verified staff."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.formats import date_format

from audit.models import AuditEntry
from casework.models import Case, CaseKind, CaseStatus
from casework.services import case_create
from declarations.status import expected_period
from tests.backoffice.conftest import PDF, pdf_upload
from tests.factories import seed_personas

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(today):
    return seed_personas("fatima", "hassan", "mohamed", today=today)


def aged(case, days):
    Case.objects.filter(pk=case.pk).update(created_at=timezone.now() - timedelta(days=days))
    return case


def test_the_queue_lists_open_requests_first_and_oldest_first(as_staff, agent, people):
    recent = aged(case_create(insured=people["hassan"], kind=CaseKind.TREATY, details={"country": "FR"}), 1)
    old = aged(case_create(insured=people["mohamed"], kind=CaseKind.TREATY, details={"country": "BE"}), 9)
    closed = aged(case_create(insured=people["fatima"], kind=CaseKind.TREATY, details={"country": "ES"}), 30)
    Case.objects.filter(pk=closed.pk).update(status=CaseStatus.REJECTED)
    html = as_staff(agent).get("/staff/requests/").content.decode()
    assert html.index(old.reference) < html.index(recent.reference) < html.index(closed.reference)
    open_only = as_staff(agent).get("/staff/requests/", {"status": "open"}).content.decode()
    assert old.reference in open_only and closed.reference not in open_only


def test_the_queue_filters_by_type(as_staff, agent, people):
    treaty = case_create(insured=people["hassan"], kind=CaseKind.TREATY, details={"country": "FR"})
    correction = case_create(insured=people["mohamed"], kind=CaseKind.NAME_CORRECTION, details={"requested": {}})
    html = as_staff(agent).get("/staff/requests/", {"kind": "treaty"}).content.decode()
    assert treaty.reference in html and correction.reference not in html


def test_an_agent_takes_then_closes_a_request_with_a_note(as_staff, agent, people):
    case = case_create(insured=people["hassan"], kind=CaseKind.TREATY, details={"country": "FR", "periods": "x"})
    client = as_staff(agent)
    assert client.post(f"/staff/requests/{case.reference}/take/").status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_PROGRESS and case.handled_by == agent

    response = client.post(f"/staff/requests/{case.reference}/close/", {"status": "done", "note": ""})
    assert response.status_code == 400
    assert "Explain the decision in a note." in response.content.decode()
    assert Case.objects.get(pk=case.pk).status == CaseStatus.IN_PROGRESS

    response = client.post(
        f"/staff/requests/{case.reference}/close/", {"status": "done", "note": "Transmis au service des conventions"}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.DONE
    assert case.decision_note == "Transmis au service des conventions"
    entry = AuditEntry.objects.get(action="casework.case.done")
    assert entry.actor == agent and entry.reason == "Transmis au service des conventions"

    response = client.post(f"/staff/requests/{case.reference}/close/", {"status": "rejected", "note": "non"})
    assert "This request is already closed." in response.content.decode()
    assert Case.objects.get(pk=case.pk).status == CaseStatus.DONE


def test_a_rejected_request_keeps_the_agency_answer(as_staff, agent, people):
    case = case_create(insured=people["hassan"], kind=CaseKind.TREATY, details={"country": "FR"})
    as_staff(agent).post(f"/staff/requests/{case.reference}/close/", {"status": "rejected", "note": "Hors convention"})
    case.refresh_from_db()
    assert case.status == CaseStatus.REJECTED and case.handled_by == agent


def test_an_employer_request_shows_the_employer_status_and_missing_periods(as_staff, agent, people, today):
    fatima = people["fatima"]
    employer = fatima.employments.get().employer
    case = case_create(
        insured=fatima, kind=CaseKind.ARREARS_REPORT, employer=employer, details={"missing_periods": ["202401"]}
    )
    html = as_staff(agent).get(f"/staff/requests/{case.reference}/").content.decode()
    assert "TRANSPORTS RAPIDES DU NORD" in html
    assert "In arrears" in html
    for period in (expected_period(today) - 2, expected_period(today) - 1, expected_period(today)):
        assert f'<span class="period">{date_format(period.first_day, "YEAR_MONTH_FORMAT")}</span>' in html


def test_a_request_shows_its_documents_and_staff_can_download_them(as_staff, agent, people, media):
    case = case_create(
        insured=people["mohamed"],
        kind=CaseKind.NAME_CORRECTION,
        details={"requested": {"last_name": "BENJELLOUN"}, "current": {"last_name": "BENJLLOUN"}},
        documents=[pdf_upload("cin.pdf")],
    )
    document = case.documents.get()
    client = as_staff(agent)
    html = client.get(f"/staff/requests/{case.reference}/").content.decode()
    assert f'href="/requests/documents/{document.pk}/"' in html
    assert "BENJELLOUN" in html and "BENJLLOUN" in html
    assert "Propose the identity change" in html
    response = client.get(f"/requests/documents/{document.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
