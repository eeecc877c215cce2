"""Issue 12, item 2: a non-affiliation certificate for a person absent from the registry.

The agent records the person on sight of the ID; the registry is searched by CIN (current and earlier) and by
name and birth date; a possible match blocks issuance until a supervisor other than the agent decides (four
eyes, also in the database); the certificate is signed, QR-coded and verifiable like the others; a later
registration links both records; every URL is walked role by role."""

import subprocess
from datetime import date

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.models import AuditEntry
from certificates.models import Certificate
from registry.models import Insured, PreviousCin
from registry.services import import_registration_records
from tests.backoffice.conftest import make_staff, verified_login
from tests.certificates.test_signing import validate
from unregistered import services
from unregistered.matching import name_key, possible_matches
from unregistered.models import UnregisteredPerson
from unregistered.urls import urlpatterns
from verification.pdfcheck import check_pdf, qr_texts
from verification.services import by_token, read_qr_text

pytestmark = pytest.mark.django_db

NADIA = {
    "cin": "JK123456",
    "last_name": "EL IDRISSI",
    "first_name": "NADIA",
    "last_name_ar": "الإدريسي",
    "first_name_ar": "نادية",
    "birth_date": date(1992, 4, 17),
}


def form(**changes):
    data = {**NADIA, "birth_date": NADIA["birth_date"].isoformat(), "id_checked": "on"}
    data.update(changes)
    return data


@pytest.fixture
def registry(db):
    """Two registered people, one with a renewed CIN."""
    salma = Insured.objects.create(
        cnss_number="100789016",
        cin="BK654321",
        last_name="CHRAIBI",
        first_name="SALMA",
        last_name_ar="الشرايبي",
        birth_date=date(1995, 9, 17),
        registered_on=date(2024, 8, 1),
    )
    PreviousCin.objects.create(insured=salma, cin="B345678")
    amina = Insured.objects.create(
        cnss_number="100234561",
        cin="BE123456",
        last_name="BENNANI",
        first_name="AMINA",
        birth_date=date(1990, 5, 4),
        registered_on=date(2011, 3, 1),
    )
    return {"salma": salma, "amina": amina}


def record(actor, **changes):
    return services.unregistered_record(actor=actor, values={**NADIA, **changes})


# Salma's last name and birth date under another CIN: a possible match a supervisor may rule out.
HOMONYM = {"last_name": "CHRAIBI", "birth_date": date(1995, 9, 17)}


# --- Searching the registry ---------------------------------------------------------


def test_names_compare_without_case_accents_spaces_or_harakat():
    assert name_key("El Idrissi") == name_key("EL-IDRISSI") == name_key("él idrissi")
    assert name_key("الإِدْرِيسِي") == name_key("الإدريسي")


@pytest.mark.parametrize(
    ("changes", "who", "why"),
    [
        ({"last_name": "Chraïbi", "birth_date": date(1995, 9, 17)}, "salma", ["name_birth_date"]),
        ({"last_name_ar": "الشرايبي", "birth_date": date(1995, 9, 17)}, "salma", ["name_birth_date"]),
        ({"last_name": "BENNANI", "birth_date": date(1990, 5, 4)}, "amina", ["name_birth_date"]),
    ],
)
def test_a_possible_match_holds_the_record_for_a_supervisor(registry, agent, changes, who, why):
    person = record(agent, **changes)
    assert person.status == UnregisteredPerson.Status.REVIEW
    assert person.matches == [{"insured": registry[who].pk, "why": why}]
    with pytest.raises(services.UnregisteredError, match="supervisor"):
        services.unregistered_issue(person=person, actor=agent)
    assert not Certificate.objects.exists()
    entry = AuditEntry.objects.get(action="unregistered.person.recorded")
    assert entry.actor == agent and entry.after["status"] == "review"


def test_same_name_another_birth_date_is_no_match(registry):
    assert possible_matches(cin="JK1", last_name="CHRAIBI", last_name_ar="", birth_date=date(1995, 9, 18)) == []


def test_a_cin_is_recorded_once(registry, agent):
    record(agent)
    with pytest.raises(services.UnregisteredError, match="already recorded"):
        record(agent, last_name="AUTRE")
    assert UnregisteredPerson.objects.count() == 1


# --- Four eyes ----------------------------------------------------------------------


def test_the_supervisor_who_recorded_the_person_cannot_decide(registry, supervisor):
    person = record(supervisor, **HOMONYM)
    with pytest.raises(services.UnregisteredError, match="another supervisor"):
        services.unregistered_decide(person=person, actor=supervisor, same_person=None, note="Homonyme")
    person.refresh_from_db()
    assert person.status == UnregisteredPerson.Status.REVIEW


def test_four_eyes_is_enforced_by_the_database(registry, supervisor):
    person = record(supervisor, **HOMONYM)
    with pytest.raises(IntegrityError), transaction.atomic():
        UnregisteredPerson.objects.filter(pk=person.pk).update(decided_by=supervisor, status="clear")


def test_an_agent_cannot_decide(registry, agent, second_supervisor):
    person = record(second_supervisor, **HOMONYM)
    with pytest.raises(services.UnregisteredError, match="Only a supervisor"):
        services.unregistered_decide(person=person, actor=agent, same_person=None, note="Homonyme")


def test_confirmed_same_person_links_the_records_and_issues_nothing(registry, agent, supervisor):
    person = record(agent, **HOMONYM)
    with pytest.raises(services.UnregisteredError, match="Choose one"):
        services.unregistered_decide(person=person, actor=supervisor, same_person=registry["amina"], note="x")
    services.unregistered_decide(person=person, actor=supervisor, same_person=registry["salma"], note="Ancienne CIN")
    person.refresh_from_db()
    assert person.status == "same_person" and person.linked_insured == registry["salma"]
    with pytest.raises(services.UnregisteredError, match="is in the registry"):
        services.unregistered_issue(person=person, actor=agent)
    entry = AuditEntry.objects.get(action="unregistered.person.match_confirmed")
    assert entry.insured == registry["salma"] and entry.reason == "Ancienne CIN" and entry.actor == supervisor


def test_a_ruled_out_match_lets_the_agent_issue_and_a_new_one_blocks_again(registry, agent, supervisor):
    person = record(agent, last_name="CHRAIBI", birth_date=date(1995, 9, 17))
    services.unregistered_decide(person=person, actor=supervisor, same_person=None, note="Homonyme, autre CIN")
    certificate = services.unregistered_issue(person=person, actor=agent)
    assert certificate.unregistered_person == person and certificate.insured is None
    # Someone with the same name and birth date is registered since: issuance stops again.
    Insured.objects.create(
        cnss_number="100999999",
        last_name="Chraibi",
        birth_date=date(1995, 9, 17),
        registered_on=timezone.localdate(),
    )
    with pytest.raises(services.UnregisteredError, match="now holds a possible match"):
        services.unregistered_issue(person=person, actor=agent, today=date(2030, 1, 2))
    person.refresh_from_db()
    assert person.status == "review" and len(person.matches) == 2
    assert Certificate.objects.count() == 1
    assert AuditEntry.objects.filter(action="unregistered.person.match_found").count() == 1


# --- A CIN the registry holds: a hard stop for everyone (issue 19, item 6) -------------------


@pytest.mark.parametrize("cin", ["BK654321", "B345678", "bk 654 321"])  # current, earlier, as typed
@pytest.mark.parametrize("who", ["agent", "supervisor"])
def test_a_cin_in_the_registry_cannot_be_recorded_and_the_page_links_to_the_record(
    client, registry, agent, supervisor, who, cin
):
    verified_login(client, {"agent": agent, "supervisor": supervisor}[who])
    response = client.post(reverse("unregistered:new"), form(cin=cin))
    html = response.content.decode()
    assert response.status_code == 200
    assert "is in the registry" in html and "CHRAIBI SALMA" in html
    assert reverse("backoffice:insured", args=[registry["salma"].pk]) in html
    assert not UnregisteredPerson.objects.exists() and not AuditEntry.objects.exists()


def _legacy_review(agent, registry, cin="B345678"):
    """A record kept for review by an exact CIN hit, as the portal recorded them before the hard stop."""
    return UnregisteredPerson.objects.create(
        recorded_by=agent,
        status=UnregisteredPerson.Status.REVIEW,
        matches=[
            {"insured": registry["salma"].pk, "why": ["cin"]},
            {"insured": registry["amina"].pk, "why": ["name_birth_date"]},
        ],
        **{**NADIA, "cin": cin},
    )


def test_an_exact_cin_hit_cannot_be_ruled_out_by_a_supervisor(client, registry, agent, supervisor):
    person = _legacy_review(agent, registry)
    verified_login(client, supervisor)
    page = client.get(reverse("unregistered:person", args=[person.pk])).content.decode()
    assert "None of these records is this person" not in page and "whoever decides" in page
    response = client.post(reverse("unregistered:decide", args=[person.pk]), {"decision": "none", "note": "Homonyme"})
    assert response.status_code == 400 and "Select a valid choice" in response.content.decode()
    with pytest.raises(services.CinInRegistry):
        services.unregistered_decide(person=person, actor=supervisor, same_person=None, note="Homonyme")
    # Nor another match than the record holding the CIN.
    other = client.post(
        reverse("unregistered:decide", args=[person.pk]), {"decision": str(registry["amina"].pk), "note": "Elle"}
    )
    assert other.status_code == 400 and "Select a valid choice" in other.content.decode()
    with pytest.raises(services.CinInRegistry):
        services.unregistered_decide(person=person, actor=supervisor, same_person=registry["amina"], note="Elle")
    person.refresh_from_db()
    assert person.status == "review" and person.decided_by is None
    assert not AuditEntry.objects.exists() and not Certificate.objects.exists()
    # The way out: the registered person's own record.
    services.unregistered_decide(person=person, actor=supervisor, same_person=registry["salma"], note="Même CIN")
    person.refresh_from_db()
    assert person.status == "same_person" and person.linked_insured == registry["salma"]


@pytest.mark.parametrize("earlier", [False, True])
def test_issuing_checks_the_cin_again_and_a_registry_record_stops_it_even_if_ruled_out(
    client, registry, agent, supervisor, earlier
):
    person = record(agent, **HOMONYM)
    services.unregistered_decide(person=person, actor=supervisor, same_person=None, note="Homonyme, autre CIN")
    # Since the decision, the registry got the person's CIN (a declaration, a corrected record).
    if earlier:
        PreviousCin.objects.create(insured=registry["amina"], cin=NADIA["cin"])
    else:
        Insured.objects.filter(pk=registry["amina"].pk).update(cin=NADIA["cin"])
    verified_login(client, agent)
    response = client.post(reverse("unregistered:issue", args=[person.pk]), follow=True)
    html = response.content.decode()
    assert "is in the registry" in html and "BENNANI AMINA" in html
    assert not Certificate.objects.exists()
    person.refresh_from_db()
    assert person.status == "linked" and person.linked_insured == registry["amina"]
    assert AuditEntry.objects.get(action="unregistered.person.linked").insured == registry["amina"]
    with pytest.raises(services.UnregisteredError, match="is in the registry"):
        services.unregistered_issue(person=person, actor=agent)
    assert not Certificate.objects.exists()


# --- The certificate ------------------------------------------------------------------


@pytest.fixture
def issued(registry, agent):
    person = record(agent)
    assert person.status == UnregisteredPerson.Status.CLEAR and person.matches == []
    certificate = services.unregistered_issue(person=person, actor=agent)
    return person, certificate, bytes(certificate.file.data)


def test_issuing_twice_the_same_day_gives_one_certificate(issued, agent):
    person, certificate, _pdf = issued
    assert services.unregistered_issue(person=person, actor=agent) == certificate
    assert Certificate.objects.count() == 1
    entry = AuditEntry.objects.get(action="certificates.certificate.issued")
    assert entry.actor == agent and entry.after["unregistered_person"] == person.pk


def test_the_certificate_is_a_snapshot_of_the_person(issued, agent):
    person, certificate, _pdf = issued
    assert certificate.kind == "non_affiliation" and certificate.number.startswith("NA-")
    assert certificate.channel == "agency" and certificate.issued_by == agent
    holder = certificate.snapshot["holder"]
    assert holder["cin"] == "JK123456" and holder["cnss_number"] == "" and holder["last_name_ar"] == "الإدريسي"
    facts = certificate.snapshot["facts"]
    assert facts["unregistered"] is True and facts["record_reference"] == person.reference
    assert facts["last_salaried_period"] is None


def test_the_pdf_carries_its_facts_as_certificate_json_following_the_published_schema(client, issued):
    import io
    import json

    import jsonschema
    from pypdf import PdfReader

    person, certificate, pdf = issued
    [data] = PdfReader(io.BytesIO(pdf)).attachments["certificate.json"]
    facts = json.loads(data)
    schema = json.loads(client.get("/api/v1/schemas/certificate.json").content)
    jsonschema.validate(facts, schema, cls=jsonschema.Draft202012Validator)
    assert facts["kind"] == "non_affiliation" and facts["number"] == certificate.number
    assert facts["holder"]["cnss_number"] == "" and facts["facts"]["unregistered"] is True
    assert facts["facts"]["record_reference"] == person.reference


def test_pdfsig_and_pyhanko_find_the_signature_valid(issued, signing_dir, tmp_path):
    _person, _certificate, pdf = issued
    path = tmp_path / "na.pdf"
    path.write_bytes(pdf)
    report = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, check=False).stdout
    assert "Signature is Valid." in report
    status = validate(pdf, signing_dir / "root-ca.pem")
    assert status.intact and status.valid and status.trusted


def test_the_qr_code_decodes_and_verifies_as_this_certificate(issued):
    _person, certificate, pdf = issued
    [text] = qr_texts(pdf)
    claims = read_qr_text(text)
    assert claims["id"] == certificate.public_id and claims["h"] == "EL IDRISSI NADIA"
    assert "JK123456" not in text
    assert by_token(text) == certificate
    verdict = check_pdf(pdf)
    assert verdict.genuine and verdict.certificate == certificate


def test_the_pdf_states_the_person_is_unknown_to_the_fund_in_both_languages(issued, tmp_path):
    _person, _certificate, pdf = issued
    path = tmp_path / "na.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "Non immatriculé(e)" in text and "n'est pas immatriculée" in text
    assert "JK123456" in text and "assuré(e) désigné(e)" not in text


def test_the_verify_page_says_genuine_and_valid_without_the_full_cin(client, issued):
    _person, certificate, _pdf = issued
    response = client.get(reverse("verification:certificate", args=[certificate.public_id]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "EL IDRISSI NADIA" in body and "JK123456" not in body
    assert "none: the holder is not registered with the fund" in body
    assert response.context["v"]["state"] == "valid"


def test_a_revoked_certificate_returns_to_the_persons_page(client, issued, agent):
    person, certificate, _pdf = issued
    verified_login(client, agent)
    url = reverse("backoffice:certificate_revoke", args=[certificate.public_id])
    assert client.get(url).status_code == 200
    response = client.post(url, {"reason": "Erreur de saisie"})
    assert response.status_code == 302 and response["Location"] == reverse("unregistered:person", args=[person.pk])


def test_a_certificate_has_exactly_one_holder_in_the_database(issued, registry):
    _person, certificate, _pdf = issued
    with pytest.raises(IntegrityError), transaction.atomic():
        Certificate.objects.filter(pk=certificate.pk).update(insured=registry["amina"])


def test_the_audit_filter_by_cin_finds_the_persons_entries(client, issued, supervisor):
    verified_login(client, supervisor)
    page = client.get(reverse("audit:trail"), {"person": "jk123456"}).context["page"]
    assert {entry.action for entry in page} == {"unregistered.person.recorded", "certificates.certificate.issued"}


# --- Later registration -------------------------------------------------------------------


def test_registering_the_person_later_links_both_records(issued):
    person, certificate, _pdf = issued
    csv = (
        "cnss_number,cin,last_name,first_name,last_name_ar,first_name_ar,birth_date,sex,phone,registered_on,previous_cins,treaty_country\n"
        "101000001,JK123456,EL IDRISSI,NADIA,الإدريسي,نادية,1992-04-17,F,,2027-01-01,,\n"
    )
    result = import_registration_records(text=csv)
    person.refresh_from_db()
    assert person.status == "linked" and person.linked_insured_id == result.insured_ids[0]
    entry = AuditEntry.objects.get(action="unregistered.person.linked")
    assert entry.insured_id == result.insured_ids[0]
    # The certificate stays what it was: a snapshot of the day it was issued.
    certificate.refresh_from_db()
    assert certificate.state_on(certificate.issued_on) == "valid" and certificate.insured is None


def test_a_first_declaration_by_an_employer_links_both_records(client, issued, agent):
    from declarations.services import import_ebds
    from tests.declarations.ebds_testkit import make_declaration, make_line, write

    person, _certificate, _pdf = issued
    hire = make_line("101000002", "EL IDRISSI NADIA", is_new=True, cin="JK123456")
    import_ebds(text=write(make_declaration("202501", [hire])), filename="DS_202501.txt")
    person.refresh_from_db()
    insured = Insured.objects.get(cnss_number="101000002")
    assert person.status == "linked" and person.linked_insured == insured and person.linked_at is not None
    # The record page of the insured person links back.
    verified_login(client, agent)
    page = client.get(reverse("backoffice:insured", args=[insured.pk])).content.decode()
    assert reverse("unregistered:person", args=[person.pk]) in page


def test_the_sweep_links_a_person_found_under_an_earlier_cin(issued, registry):
    person, _certificate, _pdf = issued
    PreviousCin.objects.create(insured=registry["amina"], cin="JK123456")
    assert services.unregistered_link_all(dry_run=True) == 1
    assert services.unregistered_link_all() == 1
    person.refresh_from_db()
    assert person.linked_insured == registry["amina"]
    assert services.unregistered_link_all() == 0


# --- Pages and permissions, role by role --------------------------------------------------


def test_an_agent_records_a_person_and_issues_from_the_pages(client, registry, agent):
    verified_login(client, agent)
    response = client.post(reverse("unregistered:new"), form())
    person = UnregisteredPerson.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("unregistered:person", args=[person.pk])
    page = client.get(response["Location"])
    assert "Issue the non-affiliation certificate" in page.content.decode()
    client.post(reverse("unregistered:issue", args=[person.pk]))
    certificate = Certificate.objects.get()
    download = client.get(reverse("backoffice:certificate_download", args=[certificate.public_id]))
    assert download.status_code == 200 and bytes(download.content).startswith(b"%PDF")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"cin": "123"}, "cin"),
        ({"cin": "JK١٢٣٤٥٦٧٨٩"}, "cin"),
        ({"last_name_ar": "IDRISSI"}, "last_name_ar"),
        ({"first_name": "N4DIA"}, "first_name"),
        ({"birth_date": "2999-01-01"}, "birth_date"),
        ({"birth_date": "17/13/1992"}, "birth_date"),
        ({"id_checked": ""}, "id_checked"),
        ({"last_name": "x" * 61}, "last_name"),
    ],
)
def test_bad_input_gets_a_clear_error_and_records_nothing(client, registry, agent, changes, field):
    verified_login(client, agent)
    response = client.post(reverse("unregistered:new"), form(**changes))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not UnregisteredPerson.objects.exists() and not AuditEntry.objects.exists()


def test_a_supervisor_decides_from_the_page_and_the_recorder_is_told_to_wait(client, registry, agent, supervisor):
    person = record(agent, **HOMONYM)
    verified_login(client, agent)
    page = client.get(reverse("unregistered:person", args=[person.pk])).content.decode()
    assert "CHRAIBI SALMA" in page and "another supervisor" in page
    refused = client.post(reverse("unregistered:decide", args=[person.pk]), {"decision": "none", "note": "x"})
    assert refused.status_code == 400 and "Only a supervisor" in refused.content.decode()
    person.refresh_from_db()
    assert person.status == "review"  # refused: an agent
    verified_login(client, supervisor)
    client.post(
        reverse("unregistered:decide", args=[person.pk]),
        {"decision": str(registry["salma"].pk), "note": "Même personne"},
    )
    person.refresh_from_db()
    assert person.status == "same_person" and person.decided_by == supervisor


@pytest.fixture
def urls(registry, agent):
    person = record(agent)
    return [
        reverse(f"unregistered:{p.name}", kwargs={"pk": person.pk} if p.pattern.converters else {}) for p in urlpatterns
    ]


def test_the_walk_covers_every_url(urls):
    assert len(urls) == len(urlpatterns) == 5


def test_anonymous_visitors_are_sent_to_the_staff_login(client, urls):
    for url in urls:
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code == 302 and response["Location"].startswith("/staff/login/"), url


def test_insured_accounts_get_404(client, urls, registry, django_user_model):
    user = django_user_model.objects.create_user(username="100234561", password="x" * 16, insured=registry["amina"])
    client.force_login(user)
    for url in urls:
        assert client.get(url).status_code == 404, url
        assert client.post(url).status_code == 404, url


def test_staff_outside_the_agency_groups_get_403_and_change_nothing(client, urls):
    verified_login(client, make_staff("it.support"))
    for url in urls:
        assert client.get(url).status_code in (403, 405), url
        assert client.post(url, form(cin="ZZ1")).status_code in (403, 405), url
    assert UnregisteredPerson.objects.count() == 1 and not Certificate.objects.exists()


def test_staff_without_a_verified_second_factor_are_sent_to_the_login(client, urls, agent):
    client.force_login(agent, backend="accounts.backends.StaffBackend")
    for url in urls:
        assert client.get(url).status_code == 302, url


HOSTILE_TEXT = st.one_of(
    st.text(max_size=80),
    st.sampled_from(
        ["", " ", "\x00", "=1+1", "<script>", "١٢٣٤", "ＡＢ１２３", "JK 123 456", "9999-12-31", "0001-01-01"]
    ),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.fixed_dictionaries({name: HOSTILE_TEXT for name in [*services.IDENTITY, "id_checked"]}))
def test_hostile_values_get_an_answer_never_a_500_and_a_refusal_writes_nothing(client, registry, agent, values):
    verified_login(client, agent)
    before = (UnregisteredPerson.objects.count(), AuditEntry.objects.count())
    response = client.post(reverse("unregistered:new"), values)
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert (UnregisteredPerson.objects.count(), AuditEntry.objects.count()) == before
    else:
        assert UnregisteredPerson.objects.count() == before[0] + 1
        assert AuditEntry.objects.filter(action="unregistered.person.recorded").count() == before[0] + 1


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    values=st.fixed_dictionaries({name: HOSTILE_TEXT for name in ["actor", "action", "date_from", "date_to", "person"]})
)
def test_hostile_audit_filters_get_an_answer_never_a_500(client, supervisor, values):
    verified_login(client, supervisor)
    # 400: a NUL byte in the query string is refused before any view (damane.middleware).
    assert client.get(reverse("audit:trail"), values).status_code in (200, 400)
    assert client.post(reverse("audit:export"), values).status_code in (200, 400)


def test_the_agency_pages_read_in_arabic_right_to_left_with_codes_kept_left_to_right(
    client, registry, agent, supervisor
):
    person = record(agent, **HOMONYM)
    verified_login(client, supervisor)
    client.cookies["django_language"] = "ar"
    page = client.get(reverse("unregistered:person", args=[person.pk])).content.decode()
    assert 'dir="rtl"' in page and "تطابقات محتملة في السجل" in page
    assert f'<bdi dir="ltr">{person.reference}</bdi>' in page
    trail = client.get(reverse("audit:trail")).content.decode()
    assert "عوامل التصفية" in trail or "تصدير" in trail
