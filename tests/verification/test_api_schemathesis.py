"""Property-based fuzzing of the JSON API from its own OpenAPI document (issue 8).

Schemathesis reads /api/v1/openapi.json as the portal serves it, generates valid
and invalid requests from it, sends them to the WSGI application in-process,
and checks each answer: never a 500, and status, headers, content type and body
as the document describes them.

(Schemathesis's own pytest integration, ``schema.parametrize()``, does not run
under pytest 9 yet: the operations are drawn with Hypothesis here instead.)
"""

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.generation import GenerationMode

from certificates.services import certificate_issue

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_schema(settings, amina):
    """The document as served, a real certificate to find, and no rate limit in the way."""
    settings.DAMANE_VERIFY_LOOKUPS_PER_MINUTE = 10**6
    certificate_issue(insured=amina, kind="employment")
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())
    return [result.ok() for result in schema.get_all_operations()]


def test_the_document_describes_both_ways_to_call_the_api(api_schema):
    assert {(op.method.upper(), op.path) for op in api_schema} == {
        ("GET", "/api/v1/verify"),
        ("POST", "/api/v1/verify"),
    }


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda m: m.value)
def test_the_api_conforms_to_its_openapi_document_and_never_answers_500(api_schema, mode):
    strategy = st.one_of([operation.as_strategy(generation_mode=mode) for operation in api_schema])

    @given(case=strategy)
    @settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check(case):
        case.call_and_validate()

    check()
