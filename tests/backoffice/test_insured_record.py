"""Staff find an insured person by CNSS number, current or earlier CIN, or name, and see the whole record;
every look at a record is itself traced."""

import re
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.formats import date_format

from audit.models import AuditEntry
from declarations.status import expected_period
from registry.models import Insured
from tests.factories import seed_personas

pytestmark = pytest.mark.django_db


def test_search_by_an_earlier_cin_finds_the_person(as_staff, agent, today):
    salma = seed_personas("salma", today=today)["salma"]
    response = as_staff(agent).get("/staff/search/", {"q": " b345678 "})
    html = response.content.decode()
    assert response.status_code == 200
    assert f'href="/staff/insured/{salma.pk}/"' in html
    assert "CHRAIBI SALMA" in html
    assert "BK654321" in html
    assert "earlier CIN matched" in html


def test_search_by_the_current_cin_and_by_cnss_number(as_staff, agent, today):
    salma = seed_personas("salma", today=today)["salma"]
    client = as_staff(agent)
    for query in ("BK654321", "100789016", "100 789 016"):
        html = client.get("/staff/search/", {"q": query}).content.decode()
        assert f'href="/staff/insured/{salma.pk}/"' in html, query
        assert "earlier CIN matched" not in html


def test_search_by_last_name_prefix_ignores_case_and_pages_by_25(as_staff, agent):
    Insured.objects.bulk_create(
        Insured(cnss_number=f"2000000{i:02d}", last_name=f"ZERHOUNI {i:02d}", registered_on=date(2020, 1, 1))
        for i in range(30)
    )
    Insured.objects.create(cnss_number="300000001", last_name="ALAOUI", registered_on=date(2020, 1, 1))
    client = as_staff(agent)
    first = client.get("/staff/search/", {"q": "zerh"}).content.decode()
    assert "30 persons found" in first
    assert first.count('href="/staff/insured/') == 2 * 25  # number and name both link
    assert "ZERHOUNI 00" in first and "ZERHOUNI 24" in first and "ZERHOUNI 25" not in first
    assert "ALAOUI" not in first
    assert 'href="?q=zerh&amp;page=2"' in first
    second = client.get("/staff/search/", {"q": "zerh", "page": 2}).content.decode()
    assert "ZERHOUNI 25" in second and "ZERHOUNI 29" in second
    assert second.count('href="/staff/insured/') == 2 * 5


def test_a_search_that_names_nobody_says_so(as_staff, agent):
    html = as_staff(agent).get("/staff/search/", {"q": "NOBODY"}).content.decode()
    assert "Nobody matches" in html
    html = as_staff(agent).get("/staff/search/", {"q": "1234"}).content.decode()
    assert "Type a 9-digit CNSS number" in html


def test_the_record_shows_identity_employers_status_lines_and_earlier_cins(as_staff, agent, today):
    fatima = seed_personas("fatima", today=today)["fatima"]
    response = as_staff(agent).get(f"/staff/insured/{fatima.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    for text in ("OUAZZANI", "FATIMA ZAHRA", "الوزاني", "L345678", "100567894", "+212612345604"):
        assert text in html, text
    assert "TRANSPORTS RAPIDES DU NORD" in html
    assert "In arrears" in html
    missing = date_format(expected_period(today).first_day, "YEAR_MONTH_FORMAT")
    assert f'<span class="period">{missing}</span>' in html
    # The last declared month of her employer (E-3) is listed with its days.
    declared = date_format((expected_period(today) - 3).first_day, "YEAR_MONTH_FORMAT")
    assert declared in html
    assert "Nothing declared" in html


def test_the_record_reads_24_months_of_declaration_lines_in_one_query(as_staff, agent, today):
    amina = seed_personas("amina", today=today)["amina"]
    client = as_staff(agent)
    with CaptureQueriesContext(connection) as queries:
        html = client.get(f"/staff/insured/{amina.pk}/").content.decode()
    line_queries = [q["sql"] for q in queries if 'FROM "declarations_declarationline"' in q["sql"]]
    assert len(line_queries) == 1
    first = date_format((expected_period(today) - 23).first_day, "YEAR_MONTH_FORMAT")
    older = date_format((expected_period(today) - 24).first_day, "YEAR_MONTH_FORMAT")
    assert f'class="period">{first}</th>' in html
    assert f'class="period">{older}</th>' not in html
    assert len(re.findall(r'class="period">[A-Z][a-z]+ \d{4}</th>', html)) == 24


def test_each_look_at_a_record_is_traced_with_who_and_where(as_staff, agent, today):
    salma = seed_personas("salma", today=today)["salma"]
    client = as_staff(agent)
    client.get(f"/staff/insured/{salma.pk}/", REMOTE_ADDR="10.1.2.3")
    client.get(f"/staff/insured/{salma.pk}/", REMOTE_ADDR="10.1.2.3")
    views = AuditEntry.objects.filter(action="backoffice.insured.viewed", insured=salma)
    assert views.count() == 2
    assert {(v.actor, v.ip_address) for v in views} == {(agent, "10.1.2.3")}
    html = client.get(f"/staff/insured/{salma.pk}/").content.decode()
    assert "Recent consultations of this record" in html
    assert "agent.casa" in html


def test_the_record_lists_requests_certificates_and_the_audit_trail(as_staff, agent, today):
    from casework.services import case_create

    rachid = seed_personas("rachid", today=today)["rachid"]
    case = case_create(insured=rachid, kind="treaty", details={"country": "FR", "periods": "2001-2004"})
    html = as_staff(agent).get(f"/staff/insured/{rachid.pk}/").content.decode()
    assert case.reference in html
    assert "casework.case.treaty.submitted" in html
    assert "No certificate issued yet." in html
