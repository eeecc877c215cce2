"""The treaties pages, role by role, and the whole flow through the forms."""

from datetime import date

import pytest
from django.urls import reverse

from accounts.models import User
from casework.models import CaseStatus
from certificates.models import Certificate
from tests.backoffice.conftest import PNG
from tests.treaties.conftest import document, french_periods
from treaties import services
from treaties.models import ForeignPeriodVersion

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(treaty_case, officer, france, media):
    return services.periods_record(
        case=treaty_case, actor=officer, convention=france, periods=french_periods(), document=document()
    )


def urls(case, version):
    return {
        "list": ("get", reverse("treaties:list")),
        "detail": ("get", reverse("treaties:detail", args=[case.reference])),
        "new": ("get", reverse("treaties:version_new", args=[case.reference])),
        "document": ("get", reverse("treaties:document", args=[version.pk])),
        "approve": ("post", reverse("treaties:approve", args=[version.pk])),
        "reject": ("post", reverse("treaties:reject", args=[version.pk])),
        "issue": ("post", reverse("treaties:issue", args=[case.reference])),
    }


def test_anonymous_visitors_are_sent_to_the_staff_login(client, treaty_case, pending):
    for method, url in urls(treaty_case, pending).values():
        response = getattr(client, method)(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("backoffice:login"))


def test_insured_accounts_get_404_even_their_own_request(client, treaty_case, pending, hassan_account):
    client.force_login(hassan_account)
    for method, url in urls(treaty_case, pending).values():
        assert getattr(client, method)(url).status_code == 404


def test_staff_without_a_verified_code_are_sent_to_the_staff_login(client, treaty_case, pending, second_officer):
    client.force_login(second_officer, backend="accounts.backends.StaffBackend")
    for method, url in urls(treaty_case, pending).values():
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("backoffice:login"))


@pytest.mark.parametrize("role", ["agent", "supervisor"])
def test_agents_and_supervisors_are_not_the_treaties_service(request, as_staff, treaty_case, pending, role):
    client = as_staff(request.getfixturevalue(role))
    for method, url in urls(treaty_case, pending).values():
        assert getattr(client, method)(url).status_code == 403, url
    pending.refresh_from_db()
    assert pending.is_pending
    assert not Certificate.objects.exists()


def test_an_officer_reads_the_queue_the_request_and_the_document(as_staff, treaty_case, pending, officer):
    client = as_staff(officer)
    queue = client.get(reverse("treaties:list")).content.decode()
    assert treaty_case.reference in queue and "periods to approve" in queue
    detail = client.get(reverse("treaties:detail", args=[treaty_case.reference])).content.decode()
    assert "CNAV 1986-1995" in detail
    assert "another officer of the service must approve it" in detail
    assert "Approve the periods" not in detail
    response = client.get(reverse("treaties:document", args=[pending.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert "no-store" in response["Cache-Control"]


def test_the_officer_who_recorded_the_periods_cannot_approve_them_by_posting(as_staff, treaty_case, pending, officer):
    client = as_staff(officer)
    response = client.post(reverse("treaties:approve", args=[pending.pk]), follow=True)
    assert "another officer must approve them" in response.content.decode()
    pending.refresh_from_db()
    assert pending.is_pending


def test_the_whole_flow_through_the_forms(client, as_staff, treaty_case, officer, second_officer, media, today):
    as_staff(officer)
    new = reverse("treaties:version_new", args=[treaty_case.reference])
    form = client.get(new).content.decode()
    assert "Caisse nationale" in form or "France" in form
    data = {
        "convention": "",
        "note": "Relevé CNAV",
        "periods-TOTAL_FORMS": "3",
        "periods-INITIAL_FORMS": "0",
        "periods-MIN_NUM_FORMS": "0",
        "periods-MAX_NUM_FORMS": "40",
        "periods-0-institution": "",
        "periods-0-start": "1986-03-01",
        "periods-0-end": "2003-09-30",
        "periods-0-unit": "quarters",
        "periods-0-amount": "69",
        "periods-0-reference": "CNAV 0412-77",
    }
    from treaties.models import Convention

    data["convention"] = str(Convention.objects.get(country="FR").pk)
    response = client.post(new, {**data, "document": document()})
    assert response.status_code == 302
    version = ForeignPeriodVersion.objects.get()
    assert version.periods.get().institution == "Caisse nationale d'assurance vieillesse (CNAV)"

    as_staff(second_officer)
    client.post(reverse("treaties:approve", args=[version.pk]), {"note": "Conforme au relevé"})
    version.refresh_from_db()
    assert version.status == "approved" and version.decided_by == second_officer
    client.post(reverse("treaties:issue", args=[treaty_case.reference]))
    certificate = Certificate.objects.get()
    assert certificate.kind == "treaty_periods"
    pdf = client.get(reverse("treaties:certificate", args=[version.pk]))
    assert pdf.content == bytes(certificate.file.data)
    treaty_case.refresh_from_db()
    assert treaty_case.status == CaseStatus.DONE


def test_a_bad_form_writes_nothing_and_says_why(as_staff, client, treaty_case, officer, france, media):
    as_staff(officer)
    new = reverse("treaties:version_new", args=[treaty_case.reference])
    data = {
        "convention": str(france.pk),
        "periods-TOTAL_FORMS": "1",
        "periods-INITIAL_FORMS": "0",
        "periods-MIN_NUM_FORMS": "0",
        "periods-MAX_NUM_FORMS": "40",
        "periods-0-start": "2003-09-30",
        "periods-0-end": "1986-03-01",
        "periods-0-unit": "quarters",
        "periods-0-amount": "4",
        "periods-0-reference": "X",
    }
    response = client.post(new, {**data, "document": document()})
    assert response.status_code == 200
    assert "A period ends before it starts." in response.content.decode()
    response = client.post(new, {**data, "periods-0-start": "1986-03-01", "periods-0-end": "not a date"})
    assert response.status_code == 200
    assert "Error:" in response.content.decode()
    bad_file = document("releve.pdf", PNG[:4] + b"not an image")
    response = client.post(
        new, {**data, "periods-0-start": "1986-03-01", "periods-0-end": "1987-03-01", "document": bad_file}
    )
    assert "Only PDF, JPEG or PNG files are accepted." in response.content.decode()
    assert not ForeignPeriodVersion.objects.exists()


def test_a_correction_form_starts_from_the_approved_periods(
    as_staff, client, treaty_case, officer, second_officer, france, media
):
    version = services.periods_record(
        case=treaty_case, actor=officer, convention=france, periods=french_periods(), document=document()
    )
    services.periods_approve(version=version, actor=second_officer)
    as_staff(officer)
    form = client.get(reverse("treaties:version_new", args=[treaty_case.reference])).content.decode()
    assert 'value="CNAV 1986-1995"' in form and 'value="CNAV 1996-2003"' in form


def test_the_insured_follows_the_request_and_opens_the_certificate(
    client, treaty_case, officer, second_officer, france, media, hassan_account
):
    client.force_login(hassan_account)
    dashboard = client.get(reverse("accounts:dashboard")).content.decode()
    assert 'data-treaty-progress="received"' in dashboard
    version = services.periods_record(
        case=treaty_case, actor=officer, convention=france, periods=french_periods(), document=document()
    )
    detail = client.get(reverse("casework:detail", args=[treaty_case.reference])).content.decode()
    assert 'data-treaty-progress="checking"' in detail
    services.periods_approve(version=version, actor=second_officer)
    certificate = services.treaty_certificate_issue(case=treaty_case, actor=officer)
    dashboard = client.get(reverse("accounts:dashboard")).content.decode()
    assert 'data-treaty-progress="issued"' in dashboard
    assert reverse("certificates:detail", args=[certificate.public_id]) in dashboard


def test_another_insured_sees_nothing_of_it(client, treaty_case, today):
    from tests.factories import seed_personas

    amina = seed_personas("amina", today=today)["amina"]
    other = User.objects.create_user(username=amina.cnss_number, password="x" * 14, insured=amina)
    client.force_login(other)
    assert client.get(reverse("casework:detail", args=[treaty_case.reference])).status_code == 404
    assert "data-treaty-progress" not in client.get(reverse("accounts:dashboard")).content.decode()


def test_periods_that_end_in_the_future_are_refused(treaty_case, officer, france, media):
    with pytest.raises(services.TreatyError):
        services.periods_record(
            case=treaty_case,
            actor=officer,
            convention=france,
            periods=[services.PeriodInput("", date(2020, 1, 1), date(2999, 1, 1), "days", 10, "R")],
            document=document(),
        )


def test_a_treaty_officer_gets_the_treaties_card_not_the_agency_records(as_staff, officer):
    client = as_staff(officer)
    home = client.get(reverse("backoffice:home")).content.decode()
    assert reverse("treaties:list") in home
    assert "neither the agent nor the supervisor group" not in home
    assert client.get(reverse("backoffice:search")).status_code == 403
    assert client.get(reverse("backoffice:requests")).status_code == 403
