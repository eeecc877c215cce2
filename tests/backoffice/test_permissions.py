"""Every back-office URL, walked as anonymous, as an insured account, as staff without TOTP and as staff outside
the agent and supervisor groups (docs/security.md §11-12)."""

from datetime import date

import pytest
from django.urls import reverse

from accounts.models import User
from backoffice import services
from backoffice.urls import urlpatterns
from casework.models import CaseKind
from casework.services import case_create
from certificates.models import Certificate, CertificateFile
from registry.models import Insured
from tests.backoffice.conftest import STAFF_PASSWORD, make_staff, pdf_upload, verified_login

pytestmark = pytest.mark.django_db

# The login steps are the only back-office pages open before logging in.
LOGIN_NAMES = {"login", "token", "logout"}


@pytest.fixture
def objects(agent, media):
    insured = Insured.objects.create(
        cnss_number="100234561", cin="BE123456", last_name="BENNANI", registered_on=date(2011, 3, 1)
    )
    change = services.identity_change_propose(
        insured=insured, actor=agent, values={"first_name": "AMINA"}, reason="CIN", document=pdf_upload()
    )
    case = case_create(insured=insured, kind=CaseKind.TREATY, details={"country": "FR"})
    certificate = Certificate.objects.create(
        kind="affiliation",
        number="AF-2025-00000001",
        public_id="p" * 32,
        verification_code="v" * 26,
        insured=insured,
        issued_on=date(2025, 1, 2),
        valid_until=date(2025, 4, 2),
        request_fingerprint="f" * 64,
        snapshot={},
        pdf_sha256="0" * 64,
        pdf_size=9,
        signing_key_id="k",
    )
    CertificateFile.objects.create(certificate=certificate, issued_on=certificate.issued_on, data=b"%PDF-1.7\n")
    return {"pk": insured.pk, "change": change.pk, "reference": case.reference, "public_id": certificate.public_id}


def staff_urls(objects):
    """Every back-office URL except the login steps, with real objects in it."""
    urls = []
    for pattern in urlpatterns:
        if pattern.name in LOGIN_NAMES:
            continue
        kwargs = {}
        for name in pattern.pattern.converters:
            if name == "pk" and str(pattern.pattern).startswith("identity-changes/"):
                kwargs[name] = objects["change"]
            else:
                kwargs[name] = objects[name]
        urls.append(reverse(f"backoffice:{pattern.name}", kwargs=kwargs))
    return urls


def test_the_walk_covers_every_back_office_view(objects):
    urls = staff_urls(objects)
    assert len(urls) == len(urlpatterns) - len(LOGIN_NAMES) == 16


def test_anonymous_visitors_are_sent_to_the_staff_login_everywhere(client, objects):
    for url in staff_urls(objects):
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code == 302, url
            assert response["Location"].startswith("/staff/login/?next="), url


def test_insured_accounts_get_404_everywhere(client, objects):
    user = User.objects.create_user(username="100234561", password=STAFF_PASSWORD, insured_id=objects["pk"])
    client.force_login(user)
    for url in staff_urls(objects):
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"reason": "x", "note": "x", "status": "done"}).status_code == 404, url


def test_staff_without_a_verified_totp_device_are_sent_to_the_staff_login(client, objects, agent):
    client.force_login(agent, backend="accounts.backends.StaffBackend")
    for url in staff_urls(objects):
        response = client.post(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/staff/login/"), url


def test_staff_outside_the_agent_and_supervisor_groups_get_403_on_personal_data(client, objects):
    verified_login(client, make_staff("it.support"))
    assert "neither the agent nor the supervisor group" in client.get("/staff/").content.decode()
    for url in staff_urls(objects):
        if url == "/staff/":
            continue
        assert client.get(url).status_code == 403, url
        assert client.post(url, {"reason": "x", "note": "x", "status": "done"}).status_code == 403, url
    certificate = Certificate.objects.get()
    assert certificate.revoked_at is None


def test_verified_agents_reach_every_page(client, objects, agent):
    verified_login(client, agent)
    for url in staff_urls(objects):
        response = client.get(url)
        # Action URLs only take POST.
        assert response.status_code in (200, 405), (url, response.status_code)


def test_state_changing_urls_refuse_get(client, objects, agent):
    verified_login(client, agent)
    for name, kwargs in [
        ("identity_change_approve", {"pk": objects["change"]}),
        ("identity_change_reject", {"pk": objects["change"]}),
        ("request_take", {"reference": objects["reference"]}),
        ("request_close", {"reference": objects["reference"]}),
    ]:
        assert client.get(reverse(f"backoffice:{name}", kwargs=kwargs)).status_code == 405


def test_the_staff_login_with_totp_leads_to_the_search(client, agent):
    from tests.backoffice.conftest import current_token

    client.post("/staff/login/", {"username": "agent.casa", "password": STAFF_PASSWORD})
    client.post("/staff/login/code/", {"token": current_token(agent)})
    html = client.get("/staff/").content.decode()
    assert 'action="/staff/search/"' in html
    assert client.get("/staff/search/", {"q": "BENNANI"}).status_code == 200
