"""Issuing: one transaction, a snapshot that never changes, one certificate per request."""

import hashlib
import re
import threading

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEntry
from certificates.models import Certificate, CertificateFile
from certificates.services import CertificateBlocked, certificate_issue, next_certificate_number
from declarations.status import expected_period
from tests.factories import seed_personas
from tests.threads import run_in_threads

CODE_RE = re.compile(r"^[A-HJKMNP-Z2-9]{4}(-[A-HJKMNP-Z2-9]{4})+$")


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def amina(db, today):
    return seed_personas("amina", today=today)["amina"]


def account(django_user_model, insured):
    return django_user_model.objects.create_user(
        username=insured.cnss_number, password="correct horse battery staple", insured=insured
    )


@pytest.mark.django_db
def test_issuing_stores_the_signed_pdf_its_hash_the_snapshot_and_an_audit_entry(amina, today):
    certificate = certificate_issue(insured=amina, kind="employment")
    pdf = bytes(certificate.file.data)
    assert pdf.startswith(b"%PDF-")
    assert certificate.pdf_sha256 == hashlib.sha256(pdf).hexdigest()
    assert certificate.pdf_size == len(pdf)
    assert re.fullmatch(r"AT-\d{4}-\d{8}", certificate.number)
    assert len(certificate.public_id) >= 22  # >= 128 bits in base64url
    assert CODE_RE.match(certificate.verification_code)
    assert certificate.signing_key_id and certificate.qr_key_id
    assert certificate.snapshot["holder"]["cnss_number"] == "100234561"
    assert certificate.snapshot["facts"]["reference_period"] == str(expected_period(today))
    assert certificate.valid_until.month == (today.month + 2) % 12 + 1
    entry = AuditEntry.objects.get(action="certificates.certificate.issued")
    assert entry.object_id == str(certificate.pk)
    assert entry.insured == amina


@pytest.mark.django_db
def test_changing_the_registry_afterwards_changes_no_issued_certificate(amina):
    certificate = certificate_issue(insured=amina, kind="affiliation")
    snapshot, sha = certificate.snapshot, certificate.pdf_sha256
    amina.last_name = "EL BENNANI"
    amina.cin = "BE999999"
    amina.save()
    certificate.refresh_from_db()
    assert certificate.snapshot == snapshot
    assert certificate.snapshot["holder"]["last_name"] == "BENNANI"
    assert hashlib.sha256(bytes(certificate.file.data)).hexdigest() == sha


@pytest.mark.django_db
def test_a_blocked_certificate_writes_nothing(today):
    fatima = seed_personas("fatima", today=today)["fatima"]
    with pytest.raises(CertificateBlocked) as blocked:
        certificate_issue(insured=fatima, kind="employment")
    assert blocked.value.decision.code == "employer_in_arrears"
    assert not Certificate.objects.exists()
    assert not AuditEntry.objects.filter(action__startswith="certificates.").exists()


@pytest.mark.django_db
def test_a_failure_while_signing_leaves_no_row_no_file_and_no_audit_entry(amina, monkeypatch):
    def broken(pdf, **kwargs):
        raise RuntimeError("HSM unavailable")

    monkeypatch.setattr("certificates.services.sign_pdf", broken)
    with pytest.raises(RuntimeError):
        certificate_issue(insured=amina, kind="affiliation")
    assert not Certificate.objects.exists()
    assert not CertificateFile.objects.exists()
    assert not AuditEntry.objects.filter(action="certificates.certificate.issued").exists()


@pytest.mark.django_db
def test_the_same_request_twice_the_same_day_gives_the_same_certificate(amina):
    first = certificate_issue(insured=amina, kind="declared_days")
    second = certificate_issue(insured=amina, kind="declared_days")
    assert first.pk == second.pk
    assert Certificate.objects.count() == 1


@pytest.mark.django_db
def test_a_new_certificate_with_other_facts_replaces_the_earlier_one(amina, today):
    yesterday = certificate_issue(insured=amina, kind="declared_days", today=today - timezone.timedelta(days=1))
    fresh = certificate_issue(insured=amina, kind="declared_days", today=today)
    yesterday.refresh_from_db()
    assert fresh.pk != yesterday.pk
    assert yesterday.superseded_by == fresh
    assert fresh.superseded_by is None


@pytest.mark.django_db
def test_the_command_line_issues_through_the_same_service(amina, tmp_path, capsys):
    out = tmp_path / "cert.pdf"
    call_command("issue_certificate", "100234561", "affiliation", "--output", str(out))
    certificate = Certificate.objects.get()
    assert certificate.number in capsys.readouterr().out
    assert out.read_bytes() == bytes(certificate.file.data)


@pytest.mark.django_db
def test_the_command_line_exits_1_naming_the_blocking_reason(today, capsys):
    seed_personas("fatima", today=today)
    with pytest.raises(SystemExit) as exit_:
        call_command("issue_certificate", "100567894", "employment")
    assert exit_.value.code == 1
    assert "employer_in_arrears" in capsys.readouterr().err


# --- the insured's pages --------------------------------------------------------


@pytest.mark.django_db
def test_my_certificates_page_says_why_a_type_is_blocked_and_offers_the_ways_out(client, django_user_model, today):
    fatima = seed_personas("fatima", today=today)["fatima"]
    client.force_login(account(django_user_model, fatima))
    page = client.get(reverse("certificates:index")).content.decode()
    assert "TRANSPORTS RAPIDES DU NORD" in page
    assert reverse("casework:employer_case", args=["employer_notice", fatima.employments.get().employer_id]) in page
    assert reverse("casework:employer_case", args=["arrears_report", fatima.employments.get().employer_id]) in page


@pytest.mark.django_db
def test_an_insured_with_two_employers_chooses_the_main_one_and_downloads_the_pdf(client, django_user_model, today):
    youssef = seed_personas("youssef", today=today)["youssef"]
    client.force_login(account(django_user_model, youssef))
    form = client.get(reverse("certificates:request", args=["employment"])).content.decode()
    assert "Several employers declare you" in form or "plusieurs" in form.lower()
    corniche = youssef.employments.get(employer__name__startswith="CAFE").employer
    response = client.post(reverse("certificates:request", args=["employment"]), {"employer": corniche.pk})
    certificate = Certificate.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("certificates:detail", args=[certificate.public_id]) + "?ready=1"
    assert certificate.employer == corniche
    pdf = client.get(reverse("certificates:download", args=[certificate.public_id]))
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content == bytes(certificate.file.data)
    assert "no-store" in pdf["Cache-Control"]


@pytest.mark.django_db
def test_a_double_click_gives_one_certificate(client, django_user_model, amina):
    client.force_login(account(django_user_model, amina))
    for _ in range(2):
        client.post(reverse("certificates:request", args=["affiliation"]), {})
    assert Certificate.objects.count() == 1


@pytest.mark.django_db
def test_another_insured_gets_404_on_my_certificate_and_anonymous_is_sent_to_login(
    client, django_user_model, amina, today
):
    certificate = certificate_issue(insured=amina, kind="affiliation")
    rachid = seed_personas("rachid", today=today)["rachid"]
    client.force_login(account(django_user_model, rachid))
    for name in ("certificates:detail", "certificates:download"):
        assert client.get(reverse(name, args=[certificate.public_id])).status_code == 404
    client.logout()
    response = client.get(reverse("certificates:download", args=[certificate.public_id]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.django_db
def test_staff_accounts_have_no_certificates_page(client, django_user_model):
    staff = django_user_model.objects.create_user(username="agent", password="x" * 16, is_staff=True)
    client.force_login(staff)
    assert client.get(reverse("certificates:index")).status_code == 404


# --- concurrency on PostgreSQL ------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_identical_requests_give_one_certificate(amina):
    assert connection.vendor == "postgresql"
    results = run_in_threads(20, lambda: certificate_issue(insured=amina, kind="affiliation"))
    assert {type(r) for r in results} == {Certificate}
    assert len({r.pk for r in results}) == 1
    assert Certificate.objects.count() == 1
    assert AuditEntry.objects.filter(action="certificates.certificate.issued").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_certificate_numbers_never_repeat_under_concurrent_issuance():
    assert connection.vendor == "postgresql"
    numbers = []
    lock = threading.Lock()

    def take():
        for _ in range(25):
            number = next_certificate_number("employment", 2026)
            with lock:
                numbers.append(number)

    assert run_in_threads(8, take) == [None] * 8
    assert len(numbers) == 200
    assert len(set(numbers)) == 200
