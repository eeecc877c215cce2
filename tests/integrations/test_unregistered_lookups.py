"""Issue 19, item 3: the keyed verify API and certificates of people absent from the registry.

A non-affiliation certificate issued at /staff/unregistered/ has no registered holder. The keyed API answered
500 (the look-up record required one); now it answers as without a key, the look-up is recorded against the
certificate and counted for the organisation, and once the person is registered the record shows it to them."""

from datetime import date

import pytest

from integrations.models import IntegratorVerification
from registry.services import import_registration_records
from tests.backoffice.conftest import make_staff
from tests.integrations.conftest import bearer, insured_client
from unregistered import services as unregistered_services

pytestmark = pytest.mark.django_db

NADIA = {
    "cin": "JK123456",
    "last_name": "EL IDRISSI",
    "first_name": "NADIA",
    "last_name_ar": "الإدريسي",
    "first_name_ar": "نادية",
    "birth_date": date(1992, 4, 17),
}


@pytest.fixture
def absent(db):
    """(person, certificate): a non-affiliation certificate of a person the registry does not know."""
    agent = make_staff("agent.lookups", "agent")
    person = unregistered_services.unregistered_record(actor=agent, values=NADIA)
    return person, unregistered_services.unregistered_issue(person=person, actor=agent)


def test_the_keyed_api_verifies_a_certificate_of_a_person_absent_from_the_registry(client, key, absent):
    api_key, plaintext = key
    _person, certificate = absent
    anonymous = client.get("/api/v1/verify", {"code": certificate.verification_code})
    keyed = client.get("/api/v1/verify", {"code": certificate.verification_code}, **bearer(plaintext))
    assert keyed.status_code == anonymous.status_code == 200
    assert keyed.json() == anonymous.json()
    assert keyed.json()["genuine"] is True and keyed.json()["type"] == "non_affiliation"
    posted = client.post(
        "/api/v1/verify", {"code": certificate.verification_code}, content_type="application/json", **bearer(plaintext)
    )
    assert posted.status_code == 200 and posted.json()["number"] == certificate.number
    # Recorded against the certificate, for no registered holder, and counted for the organisation.
    recorded = IntegratorVerification.objects.filter(api_key=api_key)
    assert list(recorded.values_list("certificate_id", "insured_id")) == [(certificate.pk, None)] * 2
    assert api_key.organisation.verifications.count() == 2


def test_when_the_person_is_registered_later_they_see_who_checked_the_certificate(client, key, absent):
    _api_key, plaintext = key
    person, certificate = absent
    client.get("/api/v1/verify", {"code": certificate.verification_code}, **bearer(plaintext))
    csv = (
        "cnss_number,cin,last_name,first_name,last_name_ar,first_name_ar,birth_date,sex,phone,registered_on,"
        "previous_cins,treaty_country\n"
        "101000001,JK123456,EL IDRISSI,NADIA,الإدريسي,نادية,1992-04-17,F,,2027-01-01,,\n"
    )
    insured_id = import_registration_records(text=csv).insured_ids[0]
    person.refresh_from_db()
    assert person.linked_insured_id == insured_id
    # The earlier look-up now belongs to the registry record, and a new one goes straight to it.
    client.get("/api/v1/verify", {"code": certificate.verification_code}, **bearer(plaintext))
    assert list(IntegratorVerification.objects.values_list("insured_id", flat=True)) == [insured_id] * 2
    page = insured_client(person.linked_insured).get("/me/sharing/").content.decode()
    assert "BANQUE EXEMPLE" in page and certificate.number in page
