"""French by default, Arabic right to left, English available; catalogs complete."""

import subprocess
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

LOCALE = Path(__file__).resolve().parent.parent / "locale"


@pytest.fixture
def french_default(settings):
    settings.LANGUAGE_CODE = "fr"


def test_a_visitor_without_language_preference_gets_french(french_default, db):
    page = Client().get(reverse("home")).content.decode()
    assert '<html lang="fr" dir="ltr">' in page
    assert "Vos attestations CNSS, en ligne, en deux minutes" in page


def test_arabic_pages_are_right_to_left_and_translated(french_default, db):
    page = Client(headers={"accept-language": "ar"}).get(reverse("help")).content.decode()
    assert '<html lang="ar" dir="rtl">' in page
    assert "ما هي مدة صلاحية الشهادة؟" in page


def test_english_is_shipped(french_default, db):
    page = Client(headers={"accept-language": "en"}).get(reverse("home")).content.decode()
    assert '<html lang="en" dir="ltr">' in page
    assert "Your CNSS certificates, online, in two minutes" in page


def test_the_language_switcher_sets_the_language_for_the_next_pages(french_default, db):
    client = Client()
    client.post(reverse("set_language"), {"language": "ar", "next": "/"})
    assert 'dir="rtl"' in client.get(reverse("home")).content.decode()


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_every_message_is_translated_and_none_is_fuzzy(language):
    catalog = LOCALE / language / "LC_MESSAGES" / "django.po"
    untranslated = subprocess.run(
        ["msgattrib", "--untranslated", "--no-obsolete", str(catalog)], capture_output=True, text=True, check=True
    ).stdout
    fuzzy = subprocess.run(
        ["msgattrib", "--only-fuzzy", "--no-obsolete", str(catalog)], capture_output=True, text=True, check=True
    ).stdout
    assert untranslated.count("msgid ") <= 1, untranslated[:2000]  # the header entry only
    assert fuzzy.count("msgid ") == 0, fuzzy[:2000]


def test_the_help_page_gives_the_funds_contact_line_when_it_is_set(french_default, db, settings):
    settings.DAMANE_CONTACT_PHONE = "080 200 00 00"
    settings.DAMANE_CONTACT_EMAIL = "contact@fund.example"
    page = Client(headers={"accept-language": "ar"}).get(reverse("help")).content.decode()
    assert '<a href="tel:0802000000"><bdi dir="ltr">080 200 00 00</bdi></a>' in page
    assert 'href="mailto:contact@fund.example"' in page
    settings.DAMANE_CONTACT_PHONE = settings.DAMANE_CONTACT_EMAIL = ""
    page = Client().get(reverse("help")).content.decode()
    assert "tel:" not in page and "mailto:" not in page
    assert "Rendez-vous dans votre agence" in page
