"""docs/integrators.md is what integrators code against: its answers must have the shape the API gives."""

import json
import re
import uuid
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


# --- The curl examples, run against the portal under gunicorn -----------------------------

SH_BLOCKS = re.findall(r"```sh\n(.*?)\n```", DOC, re.S)
VARIABLES = ("SITE", "KEY", "CODE", "QR_TEXT", "SHARE_CODE")


@pytest.fixture
def docs_server(tmp_path, settings):
    """The portal under gunicorn on this test's database, with this process's secret and QR keys,
    so that the share code and the QR text made here are the server's too."""
    import signal
    import subprocess
    import sys

    import requests

    from tests.servers import free_port
    from tests.test_deployment import production_env
    from tests.workers import wait_for

    database = settings.DATABASES["default"]
    port = free_port()
    env = production_env(
        DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_SECRET_KEY=settings.SECRET_KEY,
        DAMANE_QR_KEYS_DIR=str(settings.DAMANE_QR_KEYS_DIR),
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS="1",
        GUNICORN_THREADS="2",
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        # A cache namespace of its own: API keys' ids repeat from one run to the next, and an
        # Idempotency-Key record a day old from an earlier run would answer this run's look-up.
        DAMANE_CACHE_PREFIX=f"test-docs-{uuid.uuid4().hex}",
        DATABASE_URL=(
            f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}"
            f"/{database['NAME']}"
        ),
    )
    log = (tmp_path / "gunicorn.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "docker/gunicorn.conf.py", "damane.wsgi:application"],
        cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"

    def up():
        try:
            return requests.get(f"{base}/health/live/", timeout=5).status_code == 200
        except requests.ConnectionError:
            return False

    try:
        wait_for(up, timeout=90)
        yield base
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        log.close()


@pytest.mark.django_db(transaction=True)  # committed, for the server to find them
def test_every_curl_example_of_the_doc_runs_against_the_live_portal(docs_server, amina, key, certificate):
    import subprocess

    from tests.integrations.test_api_platform import qr_text_of

    _share, share_code = services.share_code_create(
        insured=amina,
        employer=current_employer(amina),
        recipient="Banque Populaire",
        valid_days=14,
        show_employment=True,
        show_employer_status=False,
        show_last_period=True,
        actor=None,
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "SITE": docs_server,
        "KEY": key[1],
        "CODE": certificate.verification_code,
        "QR_TEXT": qr_text_of(certificate),
        "SHARE_CODE": share_code,
    }
    assignment = re.compile(rf"^({'|'.join(VARIABLES)})=.*$", re.M)
    outputs = {}
    for block in SH_BLOCKS:
        script = assignment.sub("", block)
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script], env=env, capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 0, (block, result.stderr)
        outputs[block.strip().splitlines()[0]] = result.stdout
    answers = list(outputs.values())
    assert len(SH_BLOCKS) >= 4
    joined = "\n".join(answers)
    first = next(out for head, out in outputs.items() if head.startswith("SITE=") or "# 1." in head)
    assert json.loads(first)["genuine"] is True and json.loads(first)["number"] == certificate.number
    second = next(out for head, out in outputs.items() if "# 2." in head)
    verdict, end = json.JSONDecoder().raw_decode(second)  # curl -s prints no newline between answers
    shared = json.loads(second[end:])
    assert verdict["genuine"] is True and verdict["number"] == certificate.number
    assert shared["valid"] is True and shared["recipient"] == "Banque Populaire"
    assert "HTTP/1.1 200" in joined and '"error": "invalid_key"' in joined
    receipt = next(out for head, out in outputs.items() if "# 5." in head)
    assert "content-type: application/jose" in receipt.lower() and 'ratelimit: "minute";r=' in receipt.lower()
    batch = next(out for out in answers if out.startswith("["))
    assert [item["number"] for item in json.loads(batch)] == [certificate.number, certificate.number]
