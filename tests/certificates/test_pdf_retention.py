"""Stored PDFs dropped a month at a time after their retention; the certificates still verify
(certificates/retention.py, docs/scaling.md "Retention of the stored PDFs")."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from certificates import retention
from certificates.models import Certificate, CertificateFile
from certificates.services import certificate_issue
from certificates.tasks import purge_certificate_files as purge_task
from damane import partitions
from tests.factories import seed_personas

pytestmark = pytest.mark.django_db


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def amina(today):
    return seed_personas("amina", today=today)["amina"]


@pytest.fixture
def certificate(amina):
    return certificate_issue(insured=amina, kind="employment")


def months_later(today, count):
    return partitions.add_months(today.replace(day=1), count)


def test_the_files_table_is_partitioned_by_month_of_issue_on_postgresql(certificate, today):
    if connection.vendor != "postgresql":
        pytest.skip("partitions are PostgreSQL's")
    with connection.cursor() as cursor:
        assert partitions.is_partitioned(cursor, retention.TABLE)
        cursor.execute(f"SELECT pg_get_partkeydef('{retention.TABLE}'::regclass)")
        assert cursor.fetchone()[0] == "RANGE (issued_on)"
        held = partitions.monthly_partitions(cursor, retention.FILES)
        name = held[today.replace(day=1)]
        cursor.execute(f"SELECT certificate_id FROM {name}")  # noqa: S608
        assert cursor.fetchall() == [(certificate.pk,)]


def test_the_purge_drops_a_month_only_once_it_is_past_the_retention(certificate, today, settings):
    settings.DAMANE_PDF_RETENTION_MONTHS = 6
    assert purge_task() == []
    assert retention.purge_certificate_files(today=months_later(today, 6)) == []
    assert CertificateFile.objects.of(certificate).exists()
    dry = retention.purge_certificate_files(today=months_later(today, 7), dry_run=True)
    assert CertificateFile.objects.of(certificate).exists()
    gone = retention.purge_certificate_files(today=months_later(today, 7))
    assert gone == dry and len(gone) == 1
    assert not CertificateFile.objects.exists()
    assert Certificate.objects.filter(pk=certificate.pk, pdf_sha256=certificate.pdf_sha256).exists()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            assert today.replace(day=1) not in partitions.monthly_partitions(cursor, retention.FILES)
            # The months ahead of that later day are ready.
            assert months_later(today, 10) in partitions.monthly_partitions(cursor, retention.FILES)


def test_the_command_says_what_it_would_drop_and_then_drops_it(certificate, today, settings):
    settings.DAMANE_PDF_RETENTION_MONTHS = 0
    out = io.StringIO()
    call_command("purge_certificate_files", "--dry-run", stdout=out)
    assert "Would drop 0" in out.getvalue()
    settings.DAMANE_PDF_RETENTION_MONTHS = -1  # a month from now, today's month is past it
    out = io.StringIO()
    call_command("purge_certificate_files", "--dry-run", stdout=out)
    assert "Would drop 1" in out.getvalue()
    assert CertificateFile.objects.exists()
    call_command("purge_certificate_files", stdout=io.StringIO())
    assert not CertificateFile.objects.exists()


@pytest.fixture
def purged(certificate, today):
    """The certificate's PDF as the holder saved it, then its month dropped."""
    pdf = bytes(certificate.file.data)
    retention.purge_certificate_files(today=months_later(today, 7))
    assert not CertificateFile.objects.exists()
    return pdf


def test_after_the_purge_the_verify_page_the_api_and_the_pdf_upload_still_answer(client, certificate, purged):
    page = client.get(reverse("verification:certificate", args=[certificate.public_id]))
    assert page.status_code == 200
    assert certificate.number in page.content.decode()
    api = client.get(reverse("api:verify"), {"code": certificate.verification_code}).json()
    assert api["genuine"] is True and api["state"] == "valid" and api["number"] == certificate.number
    upload = client.post(
        reverse("verification:pdf"), {"pdf": SimpleUploadedFile("c.pdf", purged, "application/pdf")}
    ).content.decode()
    assert "Genuine and valid certificate" in upload
    assert "The file is exactly the one the portal issued." in upload
    assert "electronic signature is valid and covers the whole file" in upload


def test_after_the_purge_the_holder_is_told_plainly_and_offered_a_new_certificate(
    client, django_user_model, amina, certificate, purged
):
    user = django_user_model.objects.create_user(username=amina.cnss_number, password="x" * 20, insured=amina)
    client.force_login(user)
    detail = reverse("certificates:detail", args=[certificate.public_id])
    page = client.get(detail).content.decode()
    assert "The PDF file of this certificate is no longer kept" in page
    assert f'href="{reverse("certificates:request", args=["employment"])}"' in page
    assert reverse("certificates:download", args=[certificate.public_id]) not in page
    download = client.get(reverse("certificates:download", args=[certificate.public_id]))
    assert download.status_code == 302 and download["Location"] == detail
    listing = client.get(reverse("certificates:index")).content.decode()
    assert "PDF no longer kept" in listing
    assert reverse("certificates:download", args=[certificate.public_id]) not in listing


def test_before_the_purge_the_holder_downloads_the_pdf_as_issued(client, django_user_model, amina, certificate):
    user = django_user_model.objects.create_user(username=amina.cnss_number, password="x" * 20, insured=amina)
    client.force_login(user)
    page = client.get(reverse("certificates:detail", args=[certificate.public_id])).content.decode()
    assert "no longer kept" not in page
    download = client.get(reverse("certificates:download", args=[certificate.public_id]))
    assert download.status_code == 200 and download.content == bytes(certificate.file.data)
