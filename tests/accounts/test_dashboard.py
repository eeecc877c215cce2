"""The insured's dashboard (issue item 5): identity, employers and their status, twelve months, certificates."""

import re

import pytest
from django.utils import formats, timezone
from django.utils.dateformat import format as date_format

from accounts.models import User
from declarations.status import expected_period
from tests.accounts.accounts_testkit import PASSWORD


def text(response):
    return re.sub(r"\s+", " ", response.content.decode())


def test_the_dashboard_shows_the_identity_the_registry_holds(client, active_amina):
    page = text(client.get("/me/"))
    assert "BENNANI AMINA" in page
    assert "بناني أمينة" in page
    assert "100234561" in page
    assert "BE123456" in page


def test_each_current_employer_shows_its_declaration_status(client, active_amina):
    page = text(client.get("/me/"))
    assert "MAROC DIGITAL SERVICES SA" in page
    assert "BATIMENTS DU SOUSS SARL" in page
    assert re.search(r"MAROC DIGITAL SERVICES SA</bdi></strong> <span class=\"badge badge-ok\">Up to date", page)
    assert re.search(r"BATIMENTS DU SOUSS SARL</bdi></strong> <span class=\"badge badge-warn\">One period behind", page)


def test_an_employer_in_arrears_shows_since_when_and_the_missing_months(client, fatima, django_user_model):
    user = django_user_model.objects.create_user(username=fatima.cnss_number, password=PASSWORD, insured=fatima)
    client.force_login(user)
    page = text(client.get("/me/"))
    e = expected_period(timezone.localdate())
    assert "In arrears" in page
    assert "Late with its declarations since " + formats.date_format((e - 2).due_date(10), "DATE_FORMAT") in page
    for missing in (e - 2, e - 1, e):
        assert date_format(missing.first_day, "F Y") in page


def test_the_last_twelve_months_are_listed_with_days_and_salary(client, active_amina):
    page = text(client.get("/me/"))
    e = expected_period(timezone.localdate())
    table = page[page.index('class="data periods"') :]
    for months_back in range(12):
        assert date_format((e - months_back).first_day, "F Y") in table
    assert date_format((e - 12).first_day, "F Y") not in table
    assert "18,500.00" in table
    assert "4,200.00" in table
    assert "12 months declared out of 12" in page


def test_the_dashboard_leads_to_the_certificates(client, active_amina):
    assert 'href="/certificates/"' in client.get("/me/").content.decode()


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_the_login(client):
    response = client.get("/me/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/me/"


@pytest.mark.django_db
def test_a_staff_account_gets_404_on_the_dashboard(client):
    staff = User.objects.create_user(username="agent1", password=PASSWORD, is_staff=True)
    client.force_login(staff)
    assert client.get("/me/").status_code == 404


def test_the_dashboard_is_not_cached(client, active_amina):
    assert "no-store" in client.get("/me/")["Cache-Control"]
