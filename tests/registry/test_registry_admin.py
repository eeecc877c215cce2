"""Registry admin: searching insured persons, read-only records, registration records upload."""

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AuditEntry
from registry.models import Employer, Employment, Insured, PreviousCin
from registry.services import REGISTRATION_COLUMNS

pytestmark = pytest.mark.django_db

UPLOAD_URL = "/admin/registry/insured/upload-records/"


@pytest.fixture
def salma():
    person = Insured.objects.create(
        cnss_number="100789016", cin="BK654321", last_name="CHRAIBI", first_name="SALMA", registered_on=date(2020, 1, 1)
    )
    PreviousCin.objects.create(insured=person, cin="B345678")
    employer = Employer.objects.create(affiliation_number="6789012", name="CLINIQUE OASIS")
    Employment.objects.create(
        insured=person, employer=employer, start_period="202001", start_date=date(2020, 1, 1), last_period="202501"
    )
    return person


@pytest.mark.parametrize("term", ["100789016", "bk654321", "B345678", "chraibi"])
def test_staff_find_an_insured_person_by_number_cin_earlier_cin_or_name(client, staff_admin, salma, term):
    response = client.get("/admin/registry/insured/", {"q": term})
    assert response.status_code == 200
    assert f"/admin/registry/insured/{salma.pk}/change/" in response.content.decode()


def test_the_insured_page_lists_earlier_cins_and_employments_read_only(client, staff_admin, salma):
    response = client.get(f"/admin/registry/insured/{salma.pk}/change/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "B345678" in html
    assert "CLINIQUE OASIS" in html
    assert 'name="_save"' not in html


def test_an_employer_can_only_have_its_ice_and_email_edited_and_it_is_audited(client, staff_admin, salma):
    employer = Employer.objects.get()
    response = client.post(
        f"/admin/registry/employer/{employer.pk}/change/",
        {"ice": "001234567000089", "email": "rh@oasis.example", "name": "HACKED"},
    )
    assert response.status_code == 302
    employer.refresh_from_db()
    assert (employer.ice, employer.email, employer.name) == ("001234567000089", "rh@oasis.example", "CLINIQUE OASIS")
    entry = AuditEntry.objects.get(action="registry.employer.updated")
    assert entry.after == {"ice": "001234567000089", "email": "rh@oasis.example"}


def test_the_insured_list_links_to_the_records_upload(client, staff_admin):
    assert UPLOAD_URL in client.get("/admin/registry/insured/").content.decode()


def test_a_superuser_uploads_registration_records(client, staff_admin):
    text = ",".join(REGISTRATION_COLUMNS) + "\n100000001,J456789,Alami,Youssef,,,,M,,2024-01-01,,\n"
    response = client.post(
        UPLOAD_URL,
        {"file": SimpleUploadedFile("records.csv", text.encode()), "reason": "civil registry extract"},
        follow=True,
    )
    assert "ecords.csv applied: 1 registered" in response.content.decode()  # the admin capitalises it
    assert Insured.objects.get().last_name == "ALAMI"
    assert AuditEntry.objects.get(action="registry.insured.registered").actor == staff_admin


def test_a_bad_records_file_shows_its_problems_and_changes_nothing(client, staff_admin):
    text = ",".join(REGISTRATION_COLUMNS) + "\n100000001,J456789,Alami,,,,,,0512,2024-01-01,,\n"
    response = client.post(UPLOAD_URL, {"file": SimpleUploadedFile("records.csv", text.encode()), "reason": "x"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Row 2, phone:" in html
    assert Insured.objects.count() == 0


def test_staff_without_permissions_cannot_upload_records(client, staff_admin):
    staff_admin.is_superuser = False
    staff_admin.save()
    assert client.get(UPLOAD_URL).status_code == 403
