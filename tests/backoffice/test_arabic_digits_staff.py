"""Staff screens take Arabic-Indic digits as the same digits (issue 8): search, TOTP code, identity corrections."""

from django.urls import reverse

from tests.backoffice.conftest import STAFF_PASSWORD, current_token
from tests.factories import seed_personas

ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def test_staff_search_by_cnss_number_and_cin_in_arabic_digits(as_staff, agent, today):
    salma = seed_personas("salma", today=today)["salma"]
    client = as_staff(agent)
    for query in ("100789016".translate(ARABIC), "BK654321".translate(ARABIC), "B345678".translate(ARABIC)):
        html = client.get("/staff/search/", {"q": query}).content.decode()
        assert f'href="/staff/insured/{salma.pk}/"' in html, query


def test_staff_search_refuses_other_digits_clearly(as_staff, agent):
    response = as_staff(agent).get("/staff/search/", {"q": "१००७८९०१६"})
    assert response.status_code == 200
    assert "Type the digits as 0-9 or as Arabic digits" in response.content.decode()


def test_the_totp_code_in_arabic_digits_logs_in(client, agent):
    client.post(reverse("backoffice:login"), {"username": agent.username, "password": STAFF_PASSWORD})
    response = client.post(reverse("backoffice:token"), {"token": current_token(agent).translate(ARABIC)})
    assert response.status_code == 302
    assert client.get(reverse("backoffice:home")).status_code == 200
