"""Arabic-Indic digits typed in an identifier are the same digits (docs/security.md §21, issue 8).

A phone keyboard set to Arabic types ١٠٠٢٣٤٥٦١; a Persian or Urdu one ۱۰۰۲۳۴۵۶۱. Both are the
CNSS number 100234561. Any other script's digits get a clear error and change nothing.
"""

import pytest
from django.core.exceptions import ValidationError

from accounts import sms
from accounts.models import Registration
from registry.validators import ascii_digits, validate_cnss_number
from tests.accounts.accounts_testkit import PASSWORD, last_code, register

ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
EASTERN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
DEVANAGARI = str.maketrans("0123456789", "०१२३४५६७८९")
DIGITS_ERROR = "Type the digits as 0-9 or as Arabic digits"
MISMATCH = "We could not open an account with this CNSS number and national ID number."


def test_arabic_and_eastern_arabic_digits_become_ascii_and_others_are_refused():
    assert ascii_digits("١٠٠٧٨٩٠١٦") == "100789016"
    assert ascii_digits("۱۰۰۷۸۹۰۱۶") == "100789016"
    assert ascii_digits("BK٦٥٤٣٢١") == "BK654321"
    for other in ("१००७८९०१६", "１００７８９０１６", "10078901²"):
        with pytest.raises(ValidationError):
            ascii_digits(other)


def test_the_format_checks_accept_only_ascii_digits():
    """``\\d`` matched any script's digits: the stored identifiers must be ASCII."""
    with pytest.raises(ValidationError):
        validate_cnss_number("١٠٠٧٨٩٠١٦")
    validate_cnss_number("100789016")


@pytest.mark.parametrize("table", [ARABIC, EASTERN], ids=["arabic-indic", "eastern-arabic-indic"])
def test_registration_and_activation_accept_arabic_digits(client, amina, table):
    response = register(client, amina, cnss_number=amina.cnss_number.translate(table), cin="BE123456".translate(table))
    assert response.status_code == 302 and response["Location"] == "/register/activate/"
    assert len(sms.outbox) == 1
    activated = client.post("/register/activate/", {"code": last_code().translate(table)})
    assert activated.status_code == 302 and activated["Location"] == "/me/"


def test_arabic_digits_no_longer_spend_an_identity_mismatch_answer(client, amina, settings):
    settings.DAMANE_IDENTITY_MISMATCHES_PER_HOUR = 1
    for _ in range(3):
        response = register(client, amina, cnss_number=amina.cnss_number.translate(ARABIC))
        assert MISMATCH not in response.content.decode()
        assert response.status_code == 302


def test_other_digits_get_a_clear_error_and_nothing_is_written(client, amina):
    response = register(client, amina, cnss_number=amina.cnss_number.translate(DEVANAGARI))
    assert response.status_code == 200
    assert DIGITS_ERROR in response.content.decode()
    assert MISMATCH not in response.content.decode()
    assert not Registration.objects.exists() and not sms.outbox


def test_login_with_arabic_digits(client, amina, active_amina):
    client.post("/logout/")
    response = client.post("/login/", {"identifier": amina.cnss_number.translate(ARABIC), "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/me/"


def test_a_typed_verification_code_with_arabic_digits_is_found(db, client):
    from certificates.documents import normalize_verification_code

    assert normalize_verification_code("k7qm-٣xh٩-rt٤p-٨wzn-c٢vd-٦jeb") == "K7QM-3XH9-RT4P-8WZN-C2VD-6JEB"
