"""Recording, approving (four eyes), correcting and issuing, through the services and the database."""

from datetime import date

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.models import OutboundEmail
from accounts.notifications import render_notice
from audit.models import AuditEntry
from casework.models import CaseStatus
from certificates.models import Certificate
from tests.treaties.conftest import document, french_periods
from treaties import services
from treaties.models import ForeignPeriod, ForeignPeriodVersion
from treaties.services import PeriodInput, TreatyError

pytestmark = pytest.mark.django_db


def record(case, officer, convention, periods=None, **kwargs):
    return services.periods_record(
        case=case,
        actor=officer,
        convention=convention,
        periods=periods or french_periods(),
        document=kwargs.pop("doc", None) or document(),
        **kwargs,
    )


def test_recording_keeps_the_periods_and_the_document_and_waits_for_approval(treaty_case, officer, france, media):
    version = record(treaty_case, officer, france, note="Relevé de carrière CNAV du 12/10/2026")
    assert version.status == ForeignPeriodVersion.Status.PENDING
    assert version.number == 1
    periods = list(version.periods.order_by("start"))
    assert [(p.country, p.institution, p.unit, p.amount) for p in periods] == [
        ("FR", "Caisse nationale d'assurance vieillesse (CNAV)", "quarters", 39),
        ("FR", "Caisse nationale d'assurance vieillesse (CNAV)", "quarters", 30),
    ]
    # Stored under a random name, never the officer's file name.
    assert "releve-cnav" not in version.document.name
    assert version.document_name == "releve-cnav.pdf"
    treaty_case.refresh_from_db()
    assert treaty_case.status == CaseStatus.IN_PROGRESS
    entry = AuditEntry.objects.get(action="treaties.periods.recorded")
    assert entry.actor == officer
    assert entry.insured == treaty_case.insured
    assert entry.after["periods"][0]["reference"] == "CNAV 1986-1995"


def test_the_officer_who_recorded_cannot_approve(treaty_case, officer, france, media):
    version = record(treaty_case, officer, france)
    with pytest.raises(TreatyError, match="another officer"):
        services.periods_approve(version=version, actor=officer)
    version.refresh_from_db()
    assert version.is_pending


def test_four_eyes_is_enforced_by_the_database_too(treaty_case, officer, france, media):
    version = record(treaty_case, officer, france)
    with pytest.raises(IntegrityError), transaction.atomic():
        ForeignPeriodVersion.objects.filter(pk=version.pk).update(
            status="approved", decided_by=officer, decided_at=timezone.now()
        )
    version.refresh_from_db()
    assert version.is_pending


def test_an_approval_without_an_approver_is_refused_by_the_database(treaty_case, officer, france, media):
    version = record(treaty_case, officer, france)
    with pytest.raises(IntegrityError), transaction.atomic():
        ForeignPeriodVersion.objects.filter(pk=version.pk).update(status="approved")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_the_database_refuses_to_edit_or_delete_a_recorded_period(treaty_case, officer, france, media):
    version = record(treaty_case, officer, france)
    period = version.periods.first()
    with pytest.raises(Exception, match="never edited"), transaction.atomic():
        ForeignPeriod.objects.filter(pk=period.pk).update(amount=80)
    with pytest.raises(Exception, match="never edited"), transaction.atomic():
        ForeignPeriod.objects.filter(pk=period.pk).delete()
    period.refresh_from_db()
    assert period.amount == 39


def test_agents_and_supervisors_are_not_the_treaties_service(treaty_case, officer, agent, supervisor, france, media):
    with pytest.raises(TreatyError):
        record(treaty_case, agent, france)
    version = record(treaty_case, officer, france)
    with pytest.raises(TreatyError):
        services.periods_approve(version=version, actor=supervisor)
    assert ForeignPeriodVersion.objects.count() == 1
    assert version.periods.count() == 2


@pytest.mark.parametrize(
    ("period", "message"),
    [
        (PeriodInput("", date(1995, 1, 1), date(1990, 1, 1), "quarters", 4, "R"), "ends before it starts"),
        (PeriodInput("", date(1990, 1, 1), date(2099, 1, 1), "quarters", 4, "R"), "between 1940 and today"),
        (PeriodInput("", date(1990, 1, 1), date(1990, 12, 31), "quarters", 5, "R"), "do not fit"),
        (PeriodInput("", date(1990, 1, 1), date(1990, 1, 31), "days", 32, "R"), "do not fit"),
        (PeriodInput("", date(1990, 1, 1), date(1990, 12, 31), "quarters", 4, " "), "reference"),
        (PeriodInput("", date(1990, 1, 1), date(1990, 12, 31), "weeks", 4, "R"), "quarters, months or days"),
    ],
)
def test_a_period_that_cannot_be_right_is_refused_and_nothing_is_written(
    treaty_case, officer, france, media, period, message
):
    with pytest.raises(TreatyError, match=message):
        record(treaty_case, officer, france, periods=[period])
    assert not ForeignPeriodVersion.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="treaties.").exists()


def test_a_document_that_is_not_a_pdf_or_image_is_refused(treaty_case, officer, france, media):
    with pytest.raises(TreatyError, match="PDF, JPEG or PNG"):
        record(treaty_case, officer, france, doc=document("releve.pdf", b"MZ\x90\x00 not a pdf"))
    assert not ForeignPeriodVersion.objects.exists()


def test_a_document_over_the_limit_is_refused(treaty_case, officer, france, media, settings):
    settings.DAMANE_UPLOAD_MAX_BYTES = 100
    with pytest.raises(TreatyError, match="too large"):
        record(treaty_case, officer, france, doc=document(content=b"%PDF-" + b"x" * 200))
    assert not ForeignPeriodVersion.objects.exists()


def test_a_second_version_waits_until_the_first_is_decided(treaty_case, officer, france, media):
    record(treaty_case, officer, france)
    with pytest.raises(TreatyError, match="waits for approval"):
        record(treaty_case, officer, france)


def test_a_correction_is_a_new_version_approved_again_and_the_old_one_stays(
    treaty_case, officer, second_officer, france, media
):
    first = record(treaty_case, officer, france)
    services.periods_approve(version=first, actor=second_officer)
    corrected = [
        PeriodInput("", date(1986, 3, 1), date(1995, 12, 31), "quarters", 38, "CNAV 1986-1995 rectifié"),
        french_periods()[1],
    ]
    second = record(treaty_case, second_officer, france, periods=corrected)
    first.refresh_from_db()
    assert first.status == ForeignPeriodVersion.Status.APPROVED  # still the one in force until approved
    services.periods_approve(version=second, actor=officer)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == ForeignPeriodVersion.Status.SUPERSEDED
    assert second.status == ForeignPeriodVersion.Status.APPROVED
    assert second.number == 2
    assert sorted(first.periods.values_list("amount", flat=True)) == [30, 39]
    assert sorted(second.periods.values_list("amount", flat=True)) == [30, 38]


def test_a_rejection_needs_a_reason(treaty_case, officer, second_officer, france, media):
    version = record(treaty_case, officer, france)
    with pytest.raises(TreatyError, match="Explain"):
        services.periods_reject(version=version, actor=second_officer, note=" ")
    services.periods_reject(version=version, actor=second_officer, note="Relevé illisible")
    version.refresh_from_db()
    assert version.status == ForeignPeriodVersion.Status.REJECTED
    assert version.decided_by == second_officer


def test_no_certificate_before_approval(treaty_case, officer, france, media):
    record(treaty_case, officer, france)
    with pytest.raises(TreatyError, match="No approved"):
        services.treaty_certificate_issue(case=treaty_case, actor=officer)
    assert not Certificate.objects.exists()


def test_issuing_stores_the_certificate_closes_the_request_and_queues_the_ready_e_mail(
    treaty_case, officer, second_officer, france, media, hassan_account
):
    version = record(treaty_case, officer, france)
    services.periods_approve(version=version, actor=second_officer)
    certificate = services.treaty_certificate_issue(case=treaty_case, actor=officer)

    assert certificate.kind == "treaty_periods"
    assert certificate.number.startswith("CT-")
    assert certificate.channel == "agency"
    assert certificate.issued_by == officer
    assert certificate.locale == "ar"
    facts = certificate.snapshot["facts"]
    assert facts["convention"]["country"] == "FR"
    assert facts["version"] == 1
    assert facts["totals"]["foreign_days"] == 69 * 78
    assert facts["totals"]["moroccan_days"] == facts["moroccan"]["total_days"] > 0
    assert facts["totals"]["total_days"] == facts["totals"]["moroccan_days"] + facts["totals"]["foreign_counted_days"]
    assert bytes(certificate.file.data).startswith(b"%PDF")
    version.refresh_from_db()
    assert version.certificate == certificate
    treaty_case.refresh_from_db()
    assert treaty_case.status == CaseStatus.DONE
    assert certificate.number in treaty_case.decision_note
    assert AuditEntry.objects.filter(action="certificates.certificate.issued", object_id=str(certificate.pk)).exists()
    assert AuditEntry.objects.filter(action="treaties.certificate.issued").exists()

    email = OutboundEmail.objects.get(template="treaty_certificate_ready")
    assert email.to == "hassan.amrani@example.fr"
    assert email.language == "ar"
    assert email.context == {"first_name": "Hassan", "reference": treaty_case.reference}
    subject, body = render_notice(email)
    assert treaty_case.reference in subject
    for secret in (treaty_case.insured.cin, treaty_case.insured.cnss_number, "AMRANI", certificate.number):
        assert secret not in subject + body
    assert "Hassan" in body


def test_the_ready_e_mail_is_in_the_insured_language(
    treaty_case, officer, second_officer, france, media, hassan_account
):
    version = record(treaty_case, officer, france)
    services.periods_approve(version=version, actor=second_officer)
    services.treaty_certificate_issue(case=treaty_case, actor=officer)
    email = OutboundEmail.objects.get(template="treaty_certificate_ready")
    _subject, arabic = render_notice(email)
    email.language = "fr"
    _subject, french = render_notice(email)
    assert "Bonjour Hassan" in french
    assert "Hassan" in arabic and arabic != french


def test_issuing_twice_on_the_same_version_is_refused(treaty_case, officer, second_officer, france, media):
    version = record(treaty_case, officer, france)
    services.periods_approve(version=version, actor=second_officer)
    services.treaty_certificate_issue(case=treaty_case, actor=officer)
    with pytest.raises(TreatyError, match="already issued"):
        services.treaty_certificate_issue(case=treaty_case, actor=officer)
    assert Certificate.objects.count() == 1


def test_a_failure_while_signing_leaves_no_certificate_and_the_request_open(
    treaty_case, officer, second_officer, france, media, monkeypatch
):
    version = record(treaty_case, officer, france)
    services.periods_approve(version=version, actor=second_officer)

    def broken(pdf, **kwargs):
        raise RuntimeError("HSM unreachable")

    monkeypatch.setattr("certificates.services.sign_pdf", broken)
    with pytest.raises(RuntimeError):
        services.treaty_certificate_issue(case=treaty_case, actor=officer)
    assert not Certificate.objects.exists()
    assert not OutboundEmail.objects.filter(template="treaty_certificate_ready").exists()
    treaty_case.refresh_from_db()
    assert treaty_case.status == CaseStatus.IN_PROGRESS
