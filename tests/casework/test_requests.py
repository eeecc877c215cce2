"""Requests to the agency: ID copies checked by content, owners only, audited."""

import io
from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit.models import AuditEntry
from casework.models import Case, CaseDocument, CaseKind
from registry.models import Insured

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"
    return settings.MEDIA_ROOT


def make_account(django_user_model, cnss, cin, last="BENJLLOUN", first="MOHAMED"):
    insured = Insured.objects.create(
        cnss_number=cnss, cin=cin, last_name=last, first_name=first, registered_on=date(2020, 1, 1)
    )
    return django_user_model.objects.create_user(username=cnss, password="a long enough pass 42", insured=insured)


@pytest.fixture
def mohamed(django_user_model):
    return make_account(django_user_model, "100890127", "BH112233")


@pytest.fixture
def other(django_user_model):
    return make_account(django_user_model, "100234561", "BE123456", "BENNANI", "AMINA")


def correction_post(client, upload):
    return client.post(
        reverse("casework:name_correction"),
        {"last_name": "Benjelloun", "first_name": "Mohamed", "id_copy": upload},
    )


@pytest.mark.django_db
def test_a_name_correction_with_an_id_copy_is_recorded_and_puts_the_identity_under_correction(client, mohamed, media):
    client.force_login(mohamed)
    response = correction_post(client, SimpleUploadedFile("cin recto.pdf", PDF, content_type="application/pdf"))
    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("casework:detail", args=[case.reference])
    assert case.kind == CaseKind.NAME_CORRECTION
    assert case.details["requested"]["last_name"] == "BENJELLOUN"
    assert case.details["current"]["last_name"] == "BENJLLOUN"
    document = CaseDocument.objects.get()
    assert document.content_type == "application/pdf"
    assert "cin recto" not in document.file.name  # stored under a random name
    assert (media / document.file.name).read_bytes() == PDF
    mohamed.insured.refresh_from_db()
    assert mohamed.insured.identity_under_correction
    assert AuditEntry.objects.filter(action="casework.case.name_correction.submitted", object_id=str(case.pk)).exists()


@pytest.mark.django_db
def test_a_file_that_is_not_pdf_jpeg_or_png_is_refused_whatever_its_name(client, mohamed, media):
    client.force_login(mohamed)
    fake = SimpleUploadedFile("cin.pdf", b"MZ\x90\x00 this is an exe", content_type="application/pdf")
    response = correction_post(client, fake)
    assert response.status_code == 200
    assert "Only PDF, JPEG or PNG files are accepted." in response.content.decode()
    assert not Case.objects.exists()


@pytest.mark.django_db
def test_a_file_over_five_megabytes_is_refused_and_nothing_is_recorded(client, mohamed, media):
    client.force_login(mohamed)
    big = SimpleUploadedFile("cin.png", PNG + b"\x00" * (5 * 1024 * 1024), content_type="image/png")
    response = correction_post(client, big)
    assert response.status_code == 200
    assert "too large" in response.content.decode()
    assert not Case.objects.exists()
    assert not CaseDocument.objects.exists()


@pytest.mark.django_db
def test_another_insured_gets_404_on_a_request_and_its_document(client, mohamed, other, media):
    client.force_login(mohamed)
    correction_post(client, SimpleUploadedFile("cin.png", PNG, content_type="image/png"))
    case = Case.objects.get()
    document = CaseDocument.objects.get()
    assert client.get(reverse("casework:document", args=[document.pk])).status_code == 200

    client.force_login(other)
    assert client.get(reverse("casework:detail", args=[case.reference])).status_code == 404
    assert client.get(reverse("casework:document", args=[document.pk])).status_code == 404
    client.logout()
    assert client.get(reverse("casework:document", args=[document.pk])).status_code == 404
    assert client.get(reverse("casework:detail", args=[case.reference])).status_code == 302


@pytest.mark.django_db
def test_the_owner_downloads_the_document_without_caching(client, mohamed, media):
    client.force_login(mohamed)
    correction_post(client, SimpleUploadedFile("cin.png", PNG, content_type="image/png"))
    response = client.get(reverse("casework:document", args=[CaseDocument.objects.get().pk]))
    assert b"".join(response.streaming_content) == PNG
    assert "no-store" in response["Cache-Control"]
    assert response["Content-Type"] == "image/png"


@pytest.mark.django_db
def test_a_treaty_request_records_the_country_and_periods(client, mohamed):
    client.force_login(mohamed)
    response = client.post(
        reverse("casework:treaty"), {"country": "FR", "foreign_number": "1 84 05 75 123 456", "periods": "2004-2012"}
    )
    case = Case.objects.get(kind=CaseKind.TREATY)
    assert response.status_code == 302
    assert case.details == {"country": "FR", "foreign_number": "1 84 05 75 123 456", "periods": "2004-2012"}


@pytest.mark.django_db
def test_an_id_update_visit_on_a_weekend_is_refused(client, mohamed):
    client.force_login(mohamed)
    saturday = date.today() + timedelta(days=(5 - date.today().weekday()) % 7 or 7)
    response = client.post(
        reverse("casework:id_update"), {"new_cin": "bh 998877", "agency": "01", "preferred_date": saturday.isoformat()}
    )
    assert response.status_code == 200
    assert "Monday to Friday" in response.content.decode()
    assert not Case.objects.exists()


@pytest.mark.django_db
def test_an_id_update_visit_is_booked_with_the_normalised_new_cin(client, mohamed):
    client.force_login(mohamed)
    day = date.today() + timedelta(days=7)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    client.post(
        reverse("casework:id_update"), {"new_cin": "bh 998877", "agency": "01", "preferred_date": day.isoformat()}
    )
    case = Case.objects.get(kind=CaseKind.ID_UPDATE)
    assert case.details["new_cin"] == "BH998877"
    # The booking appears in the list of requests.
    assert case.reference in client.get(reverse("casework:list")).content.decode()


@pytest.mark.django_db
def test_a_second_click_on_an_open_request_returns_the_same_request(client, mohamed, media):
    client.force_login(mohamed)
    correction_post(client, SimpleUploadedFile("a.png", PNG, content_type="image/png"))
    correction_post(client, SimpleUploadedFile("b.png", io.BytesIO(PNG).read(), content_type="image/png"))
    assert Case.objects.filter(kind=CaseKind.NAME_CORRECTION).count() == 1


@pytest.mark.django_db
def test_a_formal_notice_request_emails_the_employer_through_the_outbox(mohamed, mailoutbox, settings):
    from accounts.models import OutboundEmail
    from casework.services import case_create
    from registry.models import Employer

    employer = Employer.objects.create(
        affiliation_number="5678901", name="TRANSPORTS RAPIDES", city="TANGER", email="rh@transports.ma"
    )
    case = case_create(
        insured=mohamed.insured,
        kind=CaseKind.EMPLOYER_NOTICE,
        employer=employer,
        details={"missing_periods": ["2026-07", "2026-08"], "status": "arrears"},
        message="",
        actor=mohamed,
    )
    [email] = mailoutbox
    assert email.to == ["rh@transports.ma"]
    assert email.subject == "Formal notice: missing salary declarations (CNSS)"
    assert "2026-07, 2026-08" in email.body and case.reference in email.body
    assert OutboundEmail.objects.get().status == OutboundEmail.Status.SENT
