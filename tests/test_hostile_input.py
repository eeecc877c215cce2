"""Hostile input named in issue 8: each answer is a clear refusal, never a 500 (docs/security.md §21)."""

from datetime import date

import pytest
from django.contrib.sessions.models import Session
from django.test import Client, RequestFactory

from accounts.models import User
from damane.access import client_ip
from registry.models import Insured

pytestmark = pytest.mark.django_db


@pytest.fixture
def insured_client():
    insured = Insured.objects.create(
        cnss_number="100234561",
        cin="BE123456",
        last_name="BENNANI",
        first_name="AMINA",
        birth_date=date(1984, 5, 14),
        registered_on=date(2011, 3, 1),
    )
    client = Client(raise_request_exception=False)
    client.force_login(User.objects.create_user(username="100234561", password="x" * 20, insured=insured))
    return client


@pytest.mark.parametrize("path", ["/certificates/c/%00/", "/certificates/c/%00/pdf/", "/requests/r/%00/"])
def test_a_nul_byte_in_an_address_is_refused_with_400_not_a_500(insured_client, path):
    response = insured_client.get(path)
    assert response.status_code == 400
    assert "Request not understood" in response.content.decode()


def test_a_nul_byte_in_the_query_string_is_refused_with_400(client):
    assert client.get("/verify/", {"code": "AB\x00"}).status_code == 400
    assert client.get("/login/?next=%2F%00").status_code == 400


@pytest.mark.parametrize("cookie", ["\x00aaaaaaaaaa", "a" * 10_240, "../../etc/passwd", "A" * 32])
def test_a_malformed_session_cookie_is_no_session_on_every_page(cookie):
    client = Client(raise_request_exception=False)
    client.cookies["sessionid"] = cookie
    for path in ("/health/", "/", "/login/", "/me/"):
        response = client.get(path)
        assert response.status_code in (200, 302), (path, response.status_code)
    assert client.get("/me/")["Location"].startswith("/login/")
    assert not Session.objects.exists()


def test_a_genuine_session_still_works_with_the_stricter_engine(insured_client):
    assert insured_client.get("/me/").status_code == 200


@pytest.mark.parametrize(
    ("forwarded", "remote", "expected"),
    [
        ("203.0.113.9", "10.0.0.1", "203.0.113.9"),
        ("garbage, 203.0.113.9", "10.0.0.1", "203.0.113.9"),
        ("203.0.113.9, not-an-address", "10.0.0.1", "10.0.0.1"),
        ("1.2.3.4\x00", "10.0.0.1", "10.0.0.1"),
        ("999.999.999.999", "10.0.0.1", "10.0.0.1"),
        ("", "10.0.0.1", "10.0.0.1"),
        ("2001:DB8::1", "10.0.0.1", "2001:db8::1"),
        ("", "junk", ""),
    ],
)
def test_the_client_address_is_always_a_valid_ip_or_empty(settings, forwarded, remote, expected):
    settings.DAMANE_TRUSTED_PROXY_COUNT = 1
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR=remote)
    assert client_ip(request) == expected


def test_a_garbage_forwarded_for_does_not_break_an_audited_change(settings, insured_client):
    """The address recorded in the audit trail is the real one, never what the client wrote in the header."""
    from audit.models import AuditEntry

    settings.DAMANE_TRUSTED_PROXY_COUNT = 1
    response = insured_client.post(
        "/me/email/",
        {"email": "amina.new@example.ma", "current_password": "x" * 20},
        HTTP_X_FORWARDED_FOR="not-an-address",
    )
    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="accounts.user.email_changed")
    assert entry.ip_address == "127.0.0.1"
