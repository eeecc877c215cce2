"""The help page finds an agency; Arabic pages give Django's password messages in Arabic, with Moroccan months."""

import re

import pytest
from django.test import Client
from django.utils import timezone

from tests.factories import seed_personas


@pytest.mark.django_db
def test_the_agency_finder_shows_the_agency_of_the_chosen_city():
    page = Client(headers={"accept-language": "en"}).get("/help/", {"city": "Marrakech"}).content.decode()
    assert "Marrakech — Agence Guéliz" in page
    assert 'href="/requests/id-update/"' in page


@pytest.mark.django_db
def test_a_short_password_is_refused_in_arabic_with_no_latin_words():
    amina = seed_personas("amina", today=timezone.localdate())["amina"]
    client = Client(headers={"accept-language": "ar"})
    data = {"cnss_number": amina.cnss_number, "cin": amina.cin, "email": "a@example.ma", "password": "قصير"}
    page = client.post("/register/", data).content.decode()
    error = re.search(r'<p class="error-message" id="id_password-error">(.*?)</p>', page, re.S).group(1)
    message = re.sub(r"<[^>]+>", "", error)
    assert "كلمة المرور هذه قصيرة جدا" in message
    assert not re.search(r"[A-Za-z]{3,}", message), message
    assert page.startswith("<!doctype html>") and '<html lang="ar" dir="rtl">' in page


@pytest.mark.django_db
def test_arabic_dates_are_day_month_year_with_moroccan_month_names():
    from django.utils import translation
    from django.utils.formats import date_format

    with translation.override("ar"):
        assert date_format(timezone.datetime(2026, 8, 1), "YEAR_MONTH_FORMAT") == "غشت 2026"
        assert date_format(timezone.datetime(2026, 5, 3), "SHORT_DATE_FORMAT") == "03/05/2026"
        assert date_format(timezone.datetime(2026, 7, 1), "F") == "يوليوز"
    with translation.override("fr"):
        assert date_format(timezone.datetime(2026, 8, 1), "YEAR_MONTH_FORMAT") == "août 2026"
