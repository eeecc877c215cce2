"""Form fuzzing through the real views (issue 8, docs/security.md §21).

Hypothesis fills every form a person or an agent posts with hostile and
plausible values, and posts it as the browser would. Each answer must be a
clear error or a success, never a 500; a refused post writes nothing (the rows
of every table the portal writes to are counted before and after); an accepted
one leaves its audit entry with the rows it wrote.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import User
from declarations.status import status_for_employer
from tests.backoffice.conftest import STAFF_PASSWORD, make_staff, verified_login
from tests.factories import seed_personas

pytestmark = pytest.mark.django_db

NUL = "\x00"
HOSTILE = [
    "",
    " ",
    NUL,
    "A" * 5000,
    "١٠٠٢٣٤٥٦١",
    "१००२३४५६१",
    "\u202egnp.exe",
    "😀🇲🇦",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "%00%ff",
    "-1",
    "9" * 40,
    "2026-02-30",
    "\ud7ff\ufffe",
]
PASSWORD = "ciel bleu sur la corniche"
# Tables a refused post must leave alone: every app's models, counted row by row.
WRITTEN_APPS = ("accounts", "registry", "casework", "certificates", "backoffice", "audit", "declarations")
# What a refusal is meant to write: the failure counters behind lockouts (docs/security.md §3, 8).
REFUSAL_COUNTERS = {"accounts.Throttle"}
EXAMPLES = settings(
    max_examples=15,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


def text(*plausible: str):
    """Hostile strings, plausible ones, and whatever Hypothesis makes of text."""
    return st.one_of(st.sampled_from(HOSTILE), st.sampled_from(plausible or ["x"]), st.text(max_size=80))


def counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for name in WRITTEN_APPS
        for model in apps.get_app_config(name).get_models()
    }


def post_and_check(client, url, data, *, files=None):
    """Post ``data`` to ``url``; return the response after checking the invariants."""
    before = counts()
    payload = {**data, **(files or {})}
    response = client.post(url, payload)
    assert response.status_code < 500, f"{url} answered {response.status_code} to {data!r}"
    after = counts()
    changed = {label for label in after if after[label] != before[label]} - REFUSAL_COUNTERS
    if response.status_code != 302:
        # A refusal (the form again, 400, 403, 404, 429) writes nothing.
        assert not changed, f"{url} refused {data!r} but wrote to {sorted(changed)}"
    elif changed - {"audit.AuditEntry", "accounts.SmsMessage", "accounts.OneTimeCode", "accounts.OutboundEmail"}:
        # Every write that matters is audited (the SMS and e-mail outboxes and codes are their own record).
        assert "audit.AuditEntry" in changed or changed <= {"accounts.Registration", "accounts.User"}, (
            f"{url} wrote {sorted(changed)} without an audit entry"
        )
    return response


@pytest.fixture(autouse=True)
def _open_limits(settings):
    settings.SMS_BACKEND = "locmem"
    settings.DAMANE_ACCOUNT_POSTS_PER_MINUTE = 10**6
    settings.DAMANE_LOGIN_POSTS_PER_MINUTE = 10**6
    settings.DAMANE_IDENTITY_MISMATCHES_PER_HOUR = 10**6
    settings.DAMANE_VERIFY_LOOKUPS_PER_MINUTE = 10**6
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def people():
    return seed_personas("amina", "fatima", today=timezone.localdate())


@pytest.fixture
def insured_client(people):
    amina = people["amina"]
    user = User.objects.create_user(
        username=amina.cnss_number, password=PASSWORD, insured=amina, email="amina@example.ma"
    )
    user.activated_at = timezone.now()
    user.save()
    client = Client(raise_request_exception=False)
    client.force_login(user, backend="accounts.backends.InsuredBackend")
    return client


def fresh_client():
    return Client(raise_request_exception=False, REMOTE_ADDR=f"10.{uuid.uuid4().int % 250}.0.1")


# --- Anonymous forms ------------------------------------------------------------------------


@EXAMPLES
@given(
    data=st.fixed_dictionaries(
        {
            "cnss_number": text("100234561", "100567894", "123"),
            "cin": text("BE123456", "L345678", "be 123456"),
            "email": text("amina@example.ma", "not-an-email", "a@b"),
            "password": text(PASSWORD, "short"),
        }
    )
)
def test_registration_never_fails_and_a_refusal_writes_nothing(people, data):
    post_and_check(fresh_client(), "/register/", data)


@EXAMPLES
@given(code=text("123456", "000000", "١٢٣٤٥٦"))
def test_activation_never_fails_and_a_wrong_code_writes_nothing_but_its_count(people, code):
    client = fresh_client()
    registered = client.post(
        "/register/", {"cnss_number": "100234561", "cin": "BE123456", "email": "a@example.ma", "password": PASSWORD}
    )
    assert registered.status_code == 302
    response = client.post("/register/activate/", {"code": code})
    assert response.status_code < 500


@EXAMPLES
@given(data=st.fixed_dictionaries({"identifier": text("100234561", "amina@example.ma"), "password": text(PASSWORD)}))
def test_login_never_fails(insured_client, data):
    response = fresh_client().post("/login/", data)
    assert response.status_code in (200, 302, 429)


@EXAMPLES
@given(email=text("amina@example.ma", "nobody@example.ma"))
def test_password_reset_never_fails_and_writes_nothing(people, email):
    response = post_and_check(fresh_client(), "/password-reset/", {"email": email})
    assert response.status_code in (200, 302)


# --- The insured person's forms -------------------------------------------------------------------


@EXAMPLES
@given(
    data=st.fixed_dictionaries(
        {"email": text("amina.new@example.ma", "amina@example.ma"), "current_password": text(PASSWORD)}
    )
)
def test_email_change_never_fails(insured_client, data):
    post_and_check(insured_client, "/me/email/", data)


@EXAMPLES
@given(
    data=st.fixed_dictionaries(
        {
            "old_password": text(PASSWORD),
            "new_password1": text("un autre ciel sur rabat"),
            "new_password2": text("un autre ciel sur rabat"),
        }
    )
)
def test_password_change_never_fails(insured_client, data):
    post_and_check(insured_client, "/me/password/", data)


@EXAMPLES
@given(
    kind=st.sampled_from(
        ["employment", "affiliation", "non_affiliation", "annual_salary", "declared_days", "deregistration"]
    ),
    data=st.fixed_dictionaries({"employer": text("1", "999999"), "last_declared_period": text("on", "1")}),
)
def test_certificate_request_never_fails(insured_client, kind, data):
    post_and_check(insured_client, f"/certificates/new/{kind}/", data)


def _id_copy():
    return SimpleUploadedFile("cin.pdf", b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", "application/pdf")


@EXAMPLES
@given(
    data=st.fixed_dictionaries(
        {
            "last_name": text("BENNANI"),
            "first_name": text("AMINA"),
            "last_name_ar": text("بناني"),
            "first_name_ar": text("أمينة"),
            "message": text("merci"),
        }
    ),
    with_file=st.booleans(),
)
def test_name_correction_never_fails(insured_client, data, with_file):
    post_and_check(
        insured_client, "/requests/name-correction/", data, files={"id_copy": _id_copy()} if with_file else {}
    )


@EXAMPLES
@given(
    data=st.fixed_dictionaries(
        {
            "country": text("FR", "BE", "ZZ"),
            "foreign_number": text("1 84 05 75 123 456", "١٢٣"),
            "periods": text("2001-2005 Renault Flins"),
            "message": text("merci"),
        }
    )
)
def test_treaty_request_never_fails(insured_client, data):
    post_and_check(insured_client, "/requests/treaty/", data)


@EXAMPLES
@given(
    data=st.fixed_dictionaries(
        {
            "new_cin": text("BE765432", "be ٧٦٥٤٣٢"),
            "agency": text("casa-anfa", "nowhere"),
            "preferred_date": text((timezone.localdate() + timedelta(days=7)).isoformat(), "2020-01-01"),
        }
    )
)
def test_id_update_request_never_fails(insured_client, data):
    post_and_check(insured_client, "/requests/id-update/", data)


@EXAMPLES
@given(kind=text("employer_notice", "arrears_report"), message=text("merci"))
def test_employer_cases_never_fail(people, kind, message):
    fatima = people["fatima"]
    user = User.objects.filter(insured=fatima).first() or User.objects.create_user(
        username=fatima.cnss_number, password=PASSWORD, insured=fatima
    )
    client = Client(raise_request_exception=False)
    client.force_login(user, backend="accounts.backends.InsuredBackend")
    employer = fatima.employments.first().employer
    assert status_for_employer(employer, today=timezone.localdate()).state
    post_and_check(client, f"/requests/employer/{kind}/{employer.pk}/", {"message": message})


# --- Staff forms ------------------------------------------------------------------------------


@pytest.fixture
def agent(db):
    return make_staff("agent.fuzz", "agent")


@pytest.fixture
def supervisor(db):
    return make_staff("chef.fuzz", "agent", "supervisor")


@EXAMPLES
@given(data=st.fixed_dictionaries({"username": text("agent.fuzz"), "password": text(STAFF_PASSWORD)}))
def test_staff_login_and_code_never_fail(agent, data):
    client = fresh_client()
    post_and_check(client, "/staff/login/", data)
    post_and_check(client, "/staff/login/code/", {"token": data["password"][:12]})


@EXAMPLES
@given(q=text("100234561", "BK654321", "ben"))
def test_staff_search_never_fails(agent, people, q):
    client = verified_login(Client(raise_request_exception=False), agent)
    assert client.get("/staff/search/", {"q": q}).status_code < 500


@EXAMPLES
@given(
    data=st.fixed_dictionaries(
        {
            "last_name": text("BENNANI"),
            "first_name": text("AMINA"),
            "last_name_ar": text("بناني"),
            "first_name_ar": text("أمينة"),
            "cin": text("BE123456", "BE٦٥٤٣٢١"),
            "birth_date": text("1984-05-14", "14/05/1984"),
            "sex": text("F", "M", "X"),
            "phone": text("+212612345601", "0612345601", "+٢١٢٦١٢٣٤٥٦٠١"),
            "reason": text("Copie CIN présentée au guichet"),
        }
    ),
    with_file=st.booleans(),
)
def test_identity_change_never_fails(agent, people, data, with_file):
    client = verified_login(Client(raise_request_exception=False), agent)
    amina = people["amina"]
    post_and_check(
        client, f"/staff/insured/{amina.pk}/identity/", data, files={"document": _id_copy()} if with_file else {}
    )


@EXAMPLES
@given(note=text("Vu la CIN"), approve=st.booleans())
def test_identity_change_decisions_never_fail(agent, supervisor, people, note, approve):
    from backoffice.models import IdentityChange
    from backoffice.services import identity_change_propose

    amina = people["amina"]
    change = IdentityChange.objects.filter(insured=amina, decided_at__isnull=True).first()
    if change is None:
        amina.refresh_from_db()
        change = identity_change_propose(
            insured=amina,
            actor=agent,
            values={"last_name": "BENNANI" if amina.last_name != "BENNANI" else "BENNANI ALAMI"},
            reason="Copie CIN présentée",
            document=_id_copy(),
        )
    client = verified_login(Client(raise_request_exception=False), supervisor)
    action = "approve" if approve else "reject"
    post_and_check(client, f"/staff/identity-changes/{change.pk}/{action}/", {"note": note})


@EXAMPLES
@given(
    data=st.fixed_dictionaries(
        {
            "kind": text("employment", "affiliation", "nope"),
            "employer": text("", "1", "99999"),
            "last_declared_period": text("on"),
            "locale": text("fr", "ar", "xx"),
        }
    )
)
def test_agency_certificate_never_fails(agent, people, data):
    client = verified_login(Client(raise_request_exception=False), agent)
    post_and_check(client, f"/staff/insured/{people['amina'].pk}/certificates/new/", data)


@pytest.fixture
def certificate(people):
    from certificates.services import certificate_issue

    return certificate_issue(insured=people["amina"], kind="declared_days")


@EXAMPLES
@given(reason=text("Délivré sur un mauvais employeur"))
def test_revocation_never_fails(agent, certificate, reason):
    """The first accepted reason revokes it; every later post meets an already revoked certificate."""
    client = verified_login(Client(raise_request_exception=False), agent)
    post_and_check(client, f"/staff/certificates/{certificate.public_id}/revoke/", {"reason": reason})


@EXAMPLES
@given(status=text("done", "rejected", "open"), note=text("Traité"))
def test_request_close_never_fails(agent, people, status, note):
    from casework.models import Case, CaseKind
    from casework.services import case_create

    case = Case.objects.exclude(status__in=["done", "rejected"]).first() or case_create(
        insured=people["amina"], kind=CaseKind.TREATY, details={"country": "FR"}, message=""
    )
    client = verified_login(Client(raise_request_exception=False), agent)
    post_and_check(client, f"/staff/requests/{case.reference}/take/", {})
    post_and_check(client, f"/staff/requests/{case.reference}/close/", {"status": status, "note": note})
