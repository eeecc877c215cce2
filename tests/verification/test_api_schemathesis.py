"""Property-based fuzzing of the JSON API from its own OpenAPI document (issue 8).

Schemathesis reads /api/v1/openapi.json as the portal serves it, generates valid
and invalid requests from it, sends them to the WSGI application in-process,
and checks each answer with schemathesis's response conformance checks: never a
500, and status, headers, content type and body as the document describes them.
The same run over HTTP, under gunicorn with production settings and with every
phase and check of ``st run``, is in test_api_errors.py.

(Schemathesis's own pytest integration, ``schema.parametrize()``, does not run
under pytest 9 yet: the operations are drawn with Hypothesis here instead.)
"""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import checks
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode

from certificates.services import certificate_issue

pytestmark = pytest.mark.django_db


# Response conformance, named rather than left to the configuration's defaults: never a 5xx,
# a status the document lists for the operation, its content type, its headers (Retry-After,
# WWW-Authenticate, Allow), a body valid against its schema; and the document's own
# promises about input (data it forbids is refused, data it allows is accepted).
CONFORMANCE = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,
    checks.positive_data_acceptance,
]


@pytest.fixture
def api_schema(settings, amina, integrator_key):
    """The document as served, a real certificate to find, and no rate limit in the way.

    The WSGI handler closes the database connection at each request's start and
    end; Django's own test client stops that (the test's transaction lives on
    that connection), and so does this fixture: with an API key, every request
    reads the database.
    """
    settings.DAMANE_VERIFY_LOOKUPS_PER_MINUTE = 10**6
    certificate_issue(insured=amina, kind="employment")
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
        yield [result.ok() for result in schema.get_all_operations()]
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def integrator_key(amina, django_user_model):
    """An integrator's key with quotas out of the way, and a share code of Amina's to find."""
    from integrations import services

    staff = django_user_model.objects.create_user("chef.schema", password="x" * 20, is_staff=True)
    bank = services.organisation_register(name="BANQUE SCHEMA", kind="bank", contact_email="a@b.example", actor=staff)
    _key, plaintext = services.api_key_issue(
        organisation=bank, label="fuzz", valid_days=1, quota_per_minute=10**6, quota_per_day=10**6, actor=staff
    )
    services.share_code_create(
        insured=amina,
        employer=amina.employments.filter(end_date__isnull=True).first().employer,
        recipient="fuzz",
        valid_days=1,
        show_employment=True,
        show_employer_status=True,
        show_last_period=True,
        actor=None,
    )
    return plaintext


def test_the_document_describes_every_way_to_call_the_api(api_schema):
    assert {(op.method.upper(), op.path) for op in api_schema} == {
        ("GET", "/api/v1/verify"),
        ("POST", "/api/v1/verify"),
        ("POST", "/api/v1/verify/batch"),
        ("POST", "/api/v1/share"),
        ("GET", "/api/v1/schemas/certificate.json"),
    }


@pytest.mark.parametrize("with_key", [False, True], ids=["anonymous", "integrator"])
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
def test_the_api_conforms_to_its_openapi_document_and_never_answers_500(api_schema, integrator_key, mode, with_key):
    strategy = st.one_of([operation.as_strategy(generation_mode=mode) for operation in api_schema])
    headers = {"Authorization": f"Bearer {integrator_key}"} if with_key else {}

    @given(case=strategy)
    @settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check(case):
        # The document says that no NUL byte may appear anywhere in an address, other
        # parameters' names included (refused with 400 before any view: issue 8).
        case.call_and_validate(headers=headers, checks=CONFORMANCE)

    check()


def test_the_conformance_checks_catch_an_error_answer_that_is_not_the_document_s(api_schema, settings, monkeypatch):
    """The checks above fail on an HTML error page, as the API answered before issue 19."""
    from django.http import HttpResponseBadRequest

    from verification import api

    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if m != "damane.api.ApiJsonErrorsMiddleware"]
    monkeypatch.setattr(api, "read_json_object", lambda request, detail: (None, HttpResponseBadRequest("<p>no</p>")))
    operation = next(op for op in api_schema if (op.method.upper(), op.path) == ("POST", "/api/v1/verify"))
    case = operation.Case(body={"code": "ABCD"}, media_type="application/json")
    # A handler built after the change of MIDDLEWARE: without the net that rewrites errors as JSON.
    with pytest.raises(FailureGroup, match="Undocumented Content-Type"):
        case.call_and_validate(checks=CONFORMANCE, app=get_wsgi_application())
