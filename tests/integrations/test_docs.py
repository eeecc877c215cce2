"""docs/integrators.md is what integrators code against: its answers must have the shape the API gives."""

import json
import re
from pathlib import Path

import pytest
from django.conf import settings

from integrations import services
from tests.integrations.conftest import bearer, current_employer

pytestmark = pytest.mark.django_db

DOC = (Path(settings.BASE_DIR) / "docs" / "integrators.md").read_text()


def documented(first_key: str) -> dict:
    for block in re.findall(r"```json\n(.*?)\n```", DOC, re.S):
        data = json.loads(block)
        if first_key in data:
            return data
    raise AssertionError(f"no JSON example with {first_key!r}")


def shape(data):
    if isinstance(data, dict):
        return {key: shape(value) for key, value in data.items() if value is not None}
    return type(data).__name__


def test_the_documented_answers_have_the_shape_of_the_real_ones(client, amina, key, certificate):
    real = client.get("/api/v1/verify", {"code": certificate.verification_code}, **bearer(key[1])).json()
    assert shape(documented("genuine")) == shape(real)
    _share, code = services.share_code_create(
        insured=amina,
        employer=current_employer(amina),
        recipient="Banque Populaire",
        valid_days=14,
        show_employment=True,
        show_employer_status=False,
        show_last_period=True,
        actor=None,
    )
    real = client.post("/api/v1/share", {"code": code}, content_type="application/json", **bearer(key[1])).json()
    assert shape(documented("valid")) == shape(real)


def test_the_doc_names_the_routes_and_the_schema_url():
    for route in ("/api/v1/verify", "/api/v1/share", "/api/v1/schemas/certificate.json", "/share/", "/me/sharing/"):
        assert route in DOC
    assert "Authorization: Bearer" in DOC
