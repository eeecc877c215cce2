"""Certificates issued at the agency (same rules, channel "agency", issued_by the agent) and revoked with a
reason from the insured person's record."""

import pytest

from audit.models import AuditEntry
from certificates.models import Certificate
from tests.factories import seed_personas

pytestmark = pytest.mark.django_db


@pytest.fixture
def amina(today):
    return seed_personas("amina", today=today)["amina"]


def issue(client, insured, **data):
    return client.post(
        f"/staff/insured/{insured.pk}/certificates/new/",
        {"kind": "affiliation", "employer": "", "locale": "fr", **data},
    )


def test_an_agent_issues_a_certificate_recorded_as_issued_at_the_agency(as_staff, agent, amina):
    client = as_staff(agent)
    page = client.get(f"/staff/insured/{amina.pk}/certificates/new/").content.decode()
    assert "What the rules allow today" in page
    response = issue(client, amina)
    certificate = Certificate.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/staff/insured/{amina.pk}/#certificates"
    assert certificate.kind == "affiliation"
    assert certificate.channel == "agency"
    assert certificate.issued_by == agent
    assert certificate.insured == amina
    entry = AuditEntry.objects.get(action="certificates.certificate.issued")
    assert entry.actor == agent and entry.after["channel"] == "agency"
    record = client.get(f"/staff/insured/{amina.pk}/").content.decode()
    assert certificate.number in record
    assert "agent.casa" in record


def test_staff_download_the_signed_pdf_and_the_download_is_traced(as_staff, agent, amina):
    client = as_staff(agent)
    issue(client, amina)
    certificate = Certificate.objects.get()
    response = client.get(f"/staff/certificates/{certificate.public_id}/pdf/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert response.content == bytes(certificate.file.data)
    assert "no-store" in response["Cache-Control"]
    assert AuditEntry.objects.filter(action="backoffice.certificate.downloaded", actor=agent).exists()


def test_an_employment_certificate_with_the_employer_chosen_by_the_agent(as_staff, agent, today):
    youssef = seed_personas("youssef", today=today)["youssef"]
    client = as_staff(agent)
    response = issue(client, youssef, kind="employment")
    assert response.status_code == 200
    assert "choose your main employer" in response.content.decode()
    assert not Certificate.objects.exists()
    employer = youssef.employments.get(employer__affiliation_number="2345678").employer
    response = issue(client, youssef, kind="employment", employer=employer.pk)
    assert response.status_code == 302
    assert Certificate.objects.get().employer == employer


def test_a_blocked_certificate_shows_the_reason_and_issues_nothing(as_staff, agent, today):
    fatima = seed_personas("fatima", today=today)["fatima"]
    response = issue(as_staff(agent), fatima, kind="employment")
    html = response.content.decode()
    assert response.status_code == 200
    assert "The certificate cannot be issued:" in html
    assert "TRANSPORTS RAPIDES DU NORD has not declared the salaries of these periods" in html
    assert not Certificate.objects.exists()


def test_revocation_needs_a_reason_then_revokes_and_audits(as_staff, agent, amina):
    client = as_staff(agent)
    issue(client, amina)
    certificate = Certificate.objects.get()
    url = f"/staff/certificates/{certificate.public_id}/revoke/"
    assert certificate.number in client.get(url).content.decode()

    response = client.post(url, {"reason": "  "})
    assert response.status_code == 400
    assert "A reason is required to revoke a certificate." in response.content.decode()
    certificate.refresh_from_db()
    assert certificate.revoked_at is None

    response = client.post(url, {"reason": "Délivrée sur une identité erronée"})
    assert response.status_code == 302
    certificate.refresh_from_db()
    assert certificate.revoked_at is not None
    assert certificate.revoked_by == agent
    assert certificate.revocation_reason == "Délivrée sur une identité erronée"
    entry = AuditEntry.objects.get(action="certificates.certificate.revoked")
    assert entry.actor == agent and entry.reason == "Délivrée sur une identité erronée"
    record = client.get(f"/staff/insured/{amina.pk}/").content.decode()
    assert "revoked" in record and "Délivrée sur une identité erronée" in record

    response = client.post(url, {"reason": "encore"})
    assert "Already revoked" in response.content.decode()
    assert Certificate.objects.get().revocation_reason == "Délivrée sur une identité erronée"
