"""The issue form: a blocked type offers its ways out and no button, a missing choice is an error on the field,
the button says what it does and shows progress, success offers the PDF at once, issued certificates come first."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from certificates.models import Certificate
from tests.factories import seed_personas


@pytest.fixture
def today():
    return timezone.localdate()


def logged_in(client, django_user_model, name, today):
    insured = seed_personas(name, today=today)[name]
    user = django_user_model.objects.create_user(username=insured.cnss_number, password="x" * 20, insured=insured)
    client.force_login(user)
    return insured


@pytest.mark.django_db
def test_a_blocked_type_shows_the_reason_and_the_ways_out_and_no_button(client, django_user_model, today):
    fatima = logged_in(client, django_user_model, "fatima", today)
    page = client.get(reverse("certificates:request", args=["employment"])).content.decode()
    main = page[page.index("<main") :]
    assert 'id="blocked"' in main
    assert "<button" not in main.split('id="blocked"')[1].split("</main>")[0]
    assert 'type="submit" class="btn"' not in main
    employer_id = fatima.employments.get().employer_id
    assert reverse("casework:employer_case", args=["employer_notice", employer_id]) in main
    # Posting anyway changes nothing and says why.
    response = client.post(reverse("certificates:request", args=["employment"]), {})
    assert Certificate.objects.count() == 0
    assert response.status_code == 200


@pytest.mark.django_db
def test_two_employers_and_none_chosen_is_an_error_on_the_employer_field(client, django_user_model, today):
    logged_in(client, django_user_model, "youssef", today)
    response = client.post(reverse("certificates:request", args=["employment"]), {"employer": ""})
    page = response.content.decode()
    assert Certificate.objects.count() == 0
    assert "<title>Error:" in page
    assert 'href="#id_employer"' in page
    assert "Choose your main employer." in page
    assert re.search(r'<select[^>]*aria-invalid="true"[^>]*>|<select[^>]*name="employer"[^>]*aria-invalid', page)


@pytest.mark.django_db
def test_the_button_says_what_it_does_and_carries_a_progress_label(client, django_user_model, today):
    logged_in(client, django_user_model, "amina", today)
    page = client.get(reverse("certificates:request", args=["affiliation"])).content.decode()
    assert ">Create my certificate</button>" in page
    assert 'data-busy-label="Creating your certificate…"' in page


@pytest.mark.django_db
def test_success_offers_the_pdf_at_once_and_issued_certificates_come_first(client, django_user_model, today):
    logged_in(client, django_user_model, "amina", today)
    response = client.post(reverse("certificates:request", args=["affiliation"]), {}, follow=True)
    certificate = Certificate.objects.get()
    page = response.content.decode()
    download = reverse("certificates:download", args=[certificate.public_id])
    assert re.search(rf'<a class="btn" href="{download}" download data-auto-download>', page)
    assert "Your certificate is ready" in page
    index = client.get(reverse("certificates:index")).content.decode()
    assert index.index(download) < index.index("Get a new certificate")


@pytest.mark.django_db
def test_a_request_without_an_employer_choice_reads_the_record_once_under_the_lock(
    client, django_user_model, today, django_assert_num_queries
):
    logged_in(client, django_user_model, "amina", today)
    url = reverse("certificates:request", args=["declared_days"])
    # The rules' record (employments, declared lines, open cases, employers' declarations) is read in the
    # transaction that locks the insured row, not a first time before it.
    with django_assert_num_queries(19, exact=False) as captured:
        response = client.post(url, {})
    assert response.status_code == 302
    queries = [q["sql"] for q in captured.captured_queries]
    assert len([sql for sql in queries if 'FROM "casework_case"' in sql]) == 1
    assert len([sql for sql in queries if 'FROM "registry_employment"' in sql]) == 1
    assert any('FROM "registry_insured"' in sql and " FOR UPDATE" in sql for sql in queries)
