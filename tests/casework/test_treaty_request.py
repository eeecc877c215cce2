"""Issue 19, item 10: the insured's treaty request offers only the countries with a convention in force, tells
the person plainly what to do for the others, refuses any other country, and carries the foreign fund's
statement of periods through the same checked upload as the ID copy of a name correction."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from casework.models import Case, CaseDocument, CaseKind
from tests.casework.test_requests import PDF, PNG, make_account
from tests.treaties.conftest import french_periods
from treaties.models import Convention

pytestmark = pytest.mark.django_db

FIELDS = {"country": "ES", "foreign_number": "28/12345678/90", "periods": "01/2005 to 12/2011, Seat, Martorell"}


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"
    return settings.MEDIA_ROOT


@pytest.fixture
def hassan(django_user_model):
    return make_account(django_user_model, "100901238", "EE778899", "AMRANI", "HASSAN")


def offered(html: str) -> list[str]:
    select = re.search(r'<select name="country".*?</select>', html, re.S).group(0)
    return re.findall(r'<option value="([A-Z]{2})"', select)


@pytest.mark.parametrize(("language", "spain"), [("en", "Spain"), ("fr", "Espagne"), ("ar", "إسبانيا")])
def test_only_the_countries_with_a_convention_in_force_are_offered(client, hassan, language, spain):
    client.force_login(hassan)
    html = client.get(reverse("casework:treaty"), headers={"accept-language": language}).content.decode()
    in_force = sorted(Convention.objects.filter(active=True).values_list("country", flat=True))
    assert sorted(offered(html)) == in_force == ["BE", "ES", "FR", "NL"]
    assert f'<option value="ES">{spain}</option>' in html
    # What to do for the other countries, and where to ask.
    assert 'id="other-countries"' in html and "/help/#contact-title" in html
    assert 'enctype="multipart/form-data"' in html


def test_a_convention_no_longer_in_force_is_no_longer_offered_and_a_new_one_is(client, hassan):
    Convention.objects.filter(country="NL").update(active=False)
    Convention.objects.create(
        country="TN",
        name_fr="Tunisie",
        name_ar="تونس",
        title_fr="Convention générale de sécurité sociale entre le Maroc et la Tunisie",
        title_ar="الاتفاقية العامة للضمان الاجتماعي بين المغرب وتونس",
        liaison_institution="Caisse nationale de sécurité sociale (CNSS Tunisie)",
        reporting_unit="days",
    )
    client.force_login(hassan)
    html = client.get(reverse("casework:treaty"), headers={"accept-language": "en"}).content.decode()
    assert sorted(offered(html)) == ["BE", "ES", "FR", "TN"]


@pytest.mark.parametrize("country", ["DE", "IT", "TN", "ZZ", ""])
def test_a_country_without_a_convention_is_refused_and_nothing_is_recorded(client, hassan, country):
    client.force_login(hassan)
    response = client.post(reverse("casework:treaty"), {**FIELDS, "country": country})
    assert response.status_code == 200
    assert "country" in response.context["form"].errors
    assert not Case.objects.exists()


def test_the_request_carries_the_foreign_statement_checked_and_stored_like_an_id_copy(client, hassan, media):
    client.force_login(hassan)
    statement = SimpleUploadedFile("vida laboral.pdf", PDF, content_type="application/pdf")
    response = client.post(reverse("casework:treaty"), {**FIELDS, "statement": statement})
    assert response.status_code == 302
    case = Case.objects.get(kind=CaseKind.TREATY)
    assert case.details == {"country": "ES", "foreign_number": "28/12345678/90", "periods": FIELDS["periods"]}
    document = CaseDocument.objects.get(case=case)
    assert document.original_name == "vida laboral.pdf" and document.content_type == "application/pdf"
    # Stored under a random name outside the web root, as every supporting document.
    assert "vida" not in document.file.name and document.file.name.endswith(".pdf")
    assert (media / document.file.name).read_bytes() == PDF
    # The owner sees it on the request and downloads it.
    page = client.get(reverse("casework:detail", args=[case.reference])).content.decode()
    assert "vida laboral.pdf" in page
    assert b"".join(client.get(reverse("casework:document", args=[document.pk])).streaming_content) == PDF


def test_the_statement_is_optional(client, hassan, media):
    client.force_login(hassan)
    assert client.post(reverse("casework:treaty"), FIELDS).status_code == 302
    assert Case.objects.filter(kind=CaseKind.TREATY).exists() and not CaseDocument.objects.exists()


@pytest.mark.parametrize(
    ("upload", "error"),
    [
        (SimpleUploadedFile("releve.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf"), "Only PDF"),
        (SimpleUploadedFile("releve.png", b"", content_type="image/png"), "empty"),
    ],
)
def test_a_bad_statement_is_refused_with_the_upload_checks_message_and_nothing_is_recorded(
    client, hassan, media, upload, error
):
    client.force_login(hassan)
    response = client.post(reverse("casework:treaty"), {**FIELDS, "statement": upload})
    assert response.status_code == 200
    assert error in " ".join(response.context["form"].errors["statement"])
    assert not Case.objects.exists() and not CaseDocument.objects.exists()


def test_an_oversized_statement_is_refused(client, hassan, media, settings):
    settings.DAMANE_UPLOAD_MAX_BYTES = 32
    client.force_login(hassan)
    upload = SimpleUploadedFile("releve.png", PNG, content_type="image/png")
    response = client.post(reverse("casework:treaty"), {**FIELDS, "statement": upload})
    assert "too large" in " ".join(response.context["form"].errors["statement"])
    assert not Case.objects.exists()


def test_the_officer_cannot_record_the_periods_under_another_countrys_convention(client, hassan, media, settings):
    from tests.backoffice.conftest import make_staff
    from tests.treaties.conftest import document
    from treaties import services
    from treaties.services import TreatyError

    client.force_login(hassan)
    client.post(reverse("casework:treaty"), FIELDS)
    case = Case.objects.get(kind=CaseKind.TREATY)
    officer = make_staff("traites.test", "treaty")
    france = Convention.objects.get(country="FR")
    with pytest.raises(TreatyError, match="This request is for Spain"):
        services.periods_record(
            case=case, actor=officer, convention=france, periods=french_periods(), document=document()
        )
    assert not case.period_versions.exists()
    version = services.periods_record(
        case=case,
        actor=officer,
        convention=Convention.objects.get(country="ES"),
        periods=french_periods(),
        document=document(),
    )
    assert version.convention.country == "ES"


def test_the_treaties_officer_sees_and_downloads_the_statement_sent_with_the_request(client, hassan, media):
    from django.test import Client

    from tests.backoffice.conftest import make_staff, verified_login

    client.force_login(hassan)
    statement = SimpleUploadedFile("vida laboral.pdf", PDF, content_type="application/pdf")
    client.post(reverse("casework:treaty"), {**FIELDS, "statement": statement})
    case = Case.objects.get(kind=CaseKind.TREATY)
    document = CaseDocument.objects.get(case=case)
    officer = verified_login(Client(headers={"accept-language": "en"}), make_staff("traites.doc", "treaty"))
    page = officer.get(reverse("treaties:detail", args=[case.reference])).content.decode()
    assert "vida laboral.pdf" in page and reverse("casework:document", args=[document.pk]) in page
    assert b"".join(officer.get(reverse("casework:document", args=[document.pk])).streaming_content) == PDF
