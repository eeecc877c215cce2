"""Every JSON endpoint x hostile bodies: a JSON answer the OpenAPI document describes (issue 19, item 4).

The endpoints come from the URL resolver (every route under /api/), so a route
added later is covered without editing this file; each must be described in the
document served at /api/v1/openapi.json. Each is called with every documented
method and with POST, anonymously and with an integrator's key, with bodies an
attacker or a careless integrator sends: JSON nested thousands of levels deep,
bodies over the limit, a wrong type in each field, bytes that are not UTF-8, an
empty body, a wrong Content-Type, JSON that is not an object. Each answer must
be a status the document lists for that operation, ``application/json``, and a
body valid against the document's schema for that status.
"""

from __future__ import annotations

import io
import json
import logging
import logging.config

import pytest
from django.test import Client
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from damane.logging import logging_config
from tests.servers import free_port
from tests.test_hostile_sweep import all_routes

pytestmark = pytest.mark.django_db

DOCUMENT_URI = "urn:damane:openapi"
# The document does not describe itself.
UNDESCRIBED = {"/api/v1/openapi.json"}

NESTED = 3000  # about 6 KB of brackets: Python's parser gives up near 1,000 levels
HOSTILE_BODIES: dict[str, tuple[bytes, str]] = {
    "nested arrays": (b"[" * NESTED + b"]" * NESTED, "application/json"),
    "nested objects": (b'{"code":' * NESTED + b'"x"' + b"}" * NESTED, "application/json"),
    "nested in a field": (b'{"code": ' + b"[" * NESTED + b"]" * NESTED + b"}", "application/json"),
    "over the API limit": (b'{"code": "' + b"A" * (200 * 1024) + b'"}', "application/json"),
    "over Django's upload limit": (b'{"code": "' + b"A" * (7 * 1024 * 1024) + b'"}', "application/json"),
    "not UTF-8": (b'{"code": "\xff\xfe\xc0\xaf"}', "application/json"),
    "UTF-16 junk": (b"\xff\xfe{\x00", "application/json"),
    "empty": (b"", "application/json"),
    "not JSON": (b"{code: 'x'", "application/json"),
    "a list": (b'[{"code": "K7QM-3XH9"}]', "application/json"),
    "a string": (b'"K7QM-3XH9-RT4P-8WZN-C2VD-6JEB"', "application/json"),
    "a number": (b"42", "application/json"),
    "null": (b"null", "application/json"),
    "NaN": (b"NaN", "application/json"),
    "a 5,000-digit number": (b'{"code": ' + b"9" * 5000 + b"}", "application/json"),
    "form-encoded": (b"code=K7QM-3XH9-RT4P-8WZN-C2VD-6JEB", "application/x-www-form-urlencoded"),
    "JSON as text/plain": (b'{"code": "K7QM-3XH9-RT4P-8WZN-C2VD-6JEB"}', "text/plain"),
    "multipart": (
        b"--x\r\nContent-Disposition: form-data; name=code\r\n\r\nA\r\n--x--\r\n",
        "multipart/form-data; boundary=x",
    ),
    "bad media type": (b"{}", "application/"),
}
WRONG_TYPES = {
    "integer": 1,
    "float": 1.5,
    "true": True,
    "null": None,
    "list": ["K7QM-3XH9-RT4P-8WZN-C2VD-6JEB"],
    "object": {"code": "K7QM-3XH9-RT4P-8WZN-C2VD-6JEB"},
    "empty text": "",
    "text over 4,096": "A" * 5000,
    "NUL": "K7QM\x00",
    "lone surrogate": "\ud800\udfff\ud800",
    "right-to-left override": "\u202eK7QM-3XH9",
}


# --- The document, as served -------------------------------------------------------------------


@pytest.fixture
def document(client):
    return client.get("/api/v1/openapi.json").json()


class Answers:
    """The answers the document promises, looked up by path, method and status."""

    def __init__(self, document):
        self.document = document
        self.registry = Registry().with_resource(
            DOCUMENT_URI, Resource.from_contents(document, default_specification=DRAFT202012)
        )

    def operation(self, path: str, method: str) -> dict | None:
        return self.document["paths"].get(path, {}).get(method.lower())

    def pointer(self, path: str, method: str, status: int) -> str | None:
        """The JSON pointer of the answer's schema, or None when the document does not list that status."""
        operation = self.operation(path, method)
        if operation is None:
            # A method or an address the document does not list: the answers any address may give.
            name = {404: "NotFound", 405: "MethodNotAllowed", 413: "PayloadTooLarge", 503: "ServiceUnavailable"}
            return f"/components/responses/{name[status]}" if status in name else None
        if str(status) not in operation["responses"]:
            return None
        escaped = path.replace("~", "~0").replace("/", "~1")
        return f"/paths/{escaped}/{method.lower()}/responses/{status}"

    def check(self, path: str, method: str, response) -> list[str]:
        """What is wrong with the answer, by the document; empty when it conforms."""
        label = f"{method} {path} -> {response.status_code}"
        pointer = self.pointer(path, method, response.status_code)
        if pointer is None:
            return [f"{label}: status not in the document: {response.content[:200]!r}"]
        answer = self.registry.resolver(DOCUMENT_URI).lookup("#" + pointer).contents
        while "$ref" in answer:
            pointer = answer["$ref"].lstrip("#")
            answer = self.registry.resolver(DOCUMENT_URI).lookup("#" + pointer).contents
        # A Django test response or a requests one: both have status_code, headers and content.
        media_type = response.headers.get("Content-Type", "").split(";")[0]
        if media_type not in answer.get("content", {}):
            return [f"{label}: Content-Type {media_type!r}, not in {list(answer.get('content', {}))}"]
        schema = {"$ref": f"{DOCUMENT_URI}#{pointer}/content/{media_type.replace('/', '~1')}/schema"}
        try:
            body = json.loads(response.content)
        except ValueError:
            return [f"{label}: not JSON: {response.content[:200]!r}"]
        errors = [
            f"{label}: {error.message}"
            for error in Draft202012Validator(schema, registry=self.registry).iter_errors(body)
        ]
        for header in answer.get("headers", {}):
            if header not in response.headers:
                errors.append(f"{label}: no {header} header")
        return errors


@pytest.fixture
def answers(document):
    return Answers(document)


@pytest.fixture
def api_key(amina, django_user_model):
    """An integrator's key with quotas out of the way."""
    from integrations import services

    staff = django_user_model.objects.create_user("chef.errors", password="x" * 20, is_staff=True)
    bank = services.organisation_register(name="BANQUE ERREURS", kind="bank", contact_email="a@b.example", actor=staff)
    _key, plaintext = services.api_key_issue(
        organisation=bank, label="errors", valid_days=1, quota_per_minute=10**6, quota_per_day=10**6, actor=staff
    )
    return plaintext


def api_paths() -> list[str]:
    return sorted({route.template for route in all_routes() if route.template.startswith("/api/")})


# --- The tests ---------------------------------------------------------------------------------


def test_every_route_under_api_is_described_by_the_document(document):
    paths = api_paths()
    assert "/api/v1/verify" in paths and "/api/v1/share" in paths
    assert [path for path in paths if path not in document["paths"] and path not in UNDESCRIBED] == []
    error = document["components"]["schemas"]["Error"]
    assert error["required"] == ["error", "detail"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            statuses = set(operation["responses"])
            # Whatever went wrong, the document says what comes back.
            assert {"400", "405", "413", "500", "503"} <= statuses, (method, path, statuses)
            if "requestBody" in operation:
                assert "415" in statuses, (method, path)


def _calls(document, paths, with_key):
    """(method, path, label, body, content type) for every route, documented method and POST."""
    for path in paths:
        # The document itself (GET) is not in the document: there, only methods it refuses.
        methods = {method.upper() for method in document["paths"].get(path, {})} | {"POST", "PUT"}
        for method in sorted(methods):
            for label, (body, content_type) in HOSTILE_BODIES.items():
                yield method, path, label, body, content_type
            operation = document["paths"].get(path, {}).get(method.lower()) or {}
            schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            for field in schema.get("properties", {}):
                for kind, value in WRONG_TYPES.items():
                    body = json.dumps({field: value}).encode()
                    yield method, path, f"{field} as {kind}", body, "application/json"
            yield method, path, "an unknown field", b'{"unknown": "x"}', "application/json"


@pytest.mark.parametrize("with_key", [False, True], ids=["anonymous", "integrator"])
def test_every_json_endpoint_answers_hostile_bodies_with_json_from_its_document(
    settings, answers, document, api_key, with_key
):
    settings.DAMANE_VERIFY_LOOKUPS_PER_MINUTE = 10**6
    headers = {"Authorization": f"Bearer {api_key}"} if with_key else {}
    # CSRF checks on, as in production (the test client turns them off by default).
    client = Client(raise_request_exception=False, enforce_csrf_checks=True, headers=headers)
    failures, statuses = [], set()
    for method, path, label, body, content_type in _calls(document, api_paths(), with_key):
        response = client.generic(method, path, body, content_type=content_type)
        statuses.add(response.status_code)
        failures += [f"[{label}] {failure}" for failure in answers.check(path, method, response)]
        if response.status_code >= 500:
            failures.append(f"[{label}] {method} {path}: {response.status_code}")
    assert failures == []
    # The matrix reached the refusals it is about, not only one of them.
    assert {400, 405, 413, 415} <= statuses, statuses


def test_the_refusals_say_what_was_wrong(api_key):
    client = Client(raise_request_exception=False)
    keyed = Client(raise_request_exception=False, headers={"Authorization": f"Bearer {api_key}"})
    nested, _ = HOSTILE_BODIES["nested arrays"]
    for caller, path in ((client, "/api/v1/verify"), (keyed, "/api/v1/share")):
        response = caller.post(path, nested, content_type="application/json")
        assert response.status_code == 400, path
        assert response.json()["error"] == "invalid_body"
        assert response.json()["detail"].startswith("send a JSON object with code")
        huge, _ = HOSTILE_BODIES["over the API limit"]
        response = caller.post(path, huge, content_type="application/json")
        assert response.status_code == 413 and response.json()["error"] == "payload_too_large"
        response = caller.post(path, "code=x", content_type="application/x-www-form-urlencoded")
        assert response.status_code == 415 and response.json()["error"] == "unsupported_media_type"
        response = caller.put(path, b"{}", content_type="application/json")
        assert response.status_code == 405 and response.json()["error"] == "method_not_allowed"
        assert "POST" in response["Allow"]
        assert response["Cache-Control"] == "no-store"
    # In an address: printable ASCII that fits a request line, a QR text up to 2,400 characters.
    assert client.get("/api/v1/verify", {"token": "DMN1." + "A" * 2395}).json() == {"genuine": False}
    for params in ({"code": "K7QM-٣XH9"}, {"code": "A" * 201}, {"token": "A" * 2401}, {"code": "AB\tC"}):
        response = client.get("/api/v1/verify", params)
        assert response.status_code == 400 and response.json()["error"] == "invalid_parameter", params
    # A JSON content type with a charset is JSON.
    response = client.post("/api/v1/verify", b'{"code": "ABCD"}', content_type="application/json; charset=utf-8")
    assert response.status_code == 200 and response.json() == {"genuine": False}


def test_past_the_limit_the_429_is_the_document_s(settings, answers):
    settings.DAMANE_VERIFY_LOOKUPS_PER_MINUTE = 1
    client = Client()
    assert client.get("/api/v1/verify", {"code": "ABCD"}).status_code == 200
    response = client.post("/api/v1/verify", b'{"code": "ABCD"}', content_type="application/json")
    assert response.status_code == 429
    assert answers.check("/api/v1/verify", "POST", response) == []
    assert response.json()["retry_after"] == int(response["Retry-After"])


def test_an_unknown_address_under_api_answers_json_404_and_pages_keep_their_html(answers):
    client = Client(raise_request_exception=False)
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert answers.check("/api/v1/nothing-here", "GET", response) == []
    assert response.json()["error"] == "not_found"
    page = client.get("/nothing-here/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")


def test_a_500_under_api_is_json_as_a_last_resort(answers, monkeypatch):
    from verification import services

    def broken(code):
        raise RuntimeError("a bug")

    monkeypatch.setattr(services, "by_code_fast", broken)
    client = Client(raise_request_exception=False)
    response = client.get("/api/v1/verify", {"code": "ABCD"})
    assert response.status_code == 500
    assert answers.check("/api/v1/verify", "GET", response) == []
    assert "a bug" not in response.content.decode()


@pytest.mark.parametrize("with_key", [False, True], ids=["anonymous", "integrator"])
def test_when_redis_is_down_the_api_answers_json_503_with_retry_after(settings, answers, api_key, with_key):
    """The cache (rate limits, key quotas) on a closed port: refused at once, nothing counted."""
    caches = {alias: dict(config) for alias, config in settings.CACHES.items()}
    caches["default"] = {**caches["default"], "LOCATION": f"redis://127.0.0.1:{free_port()}/0"}
    settings.CACHES = caches
    headers = {"Authorization": f"Bearer {api_key}"} if with_key else {}
    client = Client(raise_request_exception=False, headers=headers)
    calls = [("GET", "/api/v1/verify", None), ("POST", "/api/v1/verify", b'{"code": "ABCD-EFGH"}')]
    if with_key:
        calls.append(("POST", "/api/v1/share", b'{"code": "ABCDE-FGHJK-MNPQR"}'))
    for method, path, body in calls:
        if method == "GET":
            response = client.get(path, {"code": "ABCD-EFGH"})
        else:
            response = client.post(path, body, content_type="application/json")
        assert response.status_code == 503, (method, path, response.content[:200])
        assert answers.check(path, method, response) == []
        assert response.json()["retry_after"] == int(response["Retry-After"]) == 30
        assert "nothing was checked or recorded" in response.json()["detail"]
    from integrations.models import ApiKey

    assert not ApiKey.objects.filter(last_used_at__isnull=False).exists()


# --- Logs: a client's refusal is one line ------------------------------------------------------


@pytest.fixture
def log_lines():
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    logging.config.dictConfig(logging_config(json=True, level="INFO"))
    buffer = io.StringIO()
    for handler in root.handlers:
        handler.setStream(buffer)
    yield buffer
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)


def test_a_403_is_logged_on_one_line_without_a_traceback_and_a_500_keeps_its_traceback(log_lines, monkeypatch):
    from django.core.exceptions import PermissionDenied

    from tests.backoffice.conftest import make_staff, verified_login
    from verification import services

    # Staff without an agency role, at the agency's search: the back office refuses (PermissionDenied).
    staff = verified_login(Client(raise_request_exception=False), make_staff("no.role"))
    assert staff.get("/staff/search/").status_code == 403

    # And one under /api/ (no API view refuses that way today: a later one may).
    def refuse(code):
        raise PermissionDenied

    monkeypatch.setattr(services, "by_code_fast", refuse)
    response = Client(raise_request_exception=False).get("/api/v1/verify", {"code": "ABCD"})
    assert response.status_code == 403 and response.json()["error"] == "forbidden"
    records = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    forbidden = [r for r in records if r["logger"] == "django.request" and r.get("status_code") == 403]
    assert len(forbidden) == 2, records
    for record in forbidden:
        assert record["level"] == "WARNING" and record["message"].startswith("Forbidden")
        assert "exc_info" not in record and "Traceback" not in json.dumps(record), record

    def broken(code):
        raise RuntimeError("a real bug")

    monkeypatch.setattr(services, "by_code_fast", broken)
    assert Client(raise_request_exception=False).get("/api/v1/verify", {"code": "ABCD"}).status_code == 500
    records = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    errors = [r for r in records if r["logger"] == "django.request" and r.get("status_code") == 500]
    assert errors and "Traceback" in errors[-1]["exc_info"]


# --- Through HTTP, under production settings (gunicorn, DEBUG off) ------------------------------


@pytest.fixture
def production_api(tmp_path, settings):
    """The portal under gunicorn with production settings, on this test's database and a Redis it may stop."""
    import signal
    import subprocess
    import sys
    from pathlib import Path

    import requests

    from tests.servers import throwaway_redis
    from tests.test_deployment import production_env
    from tests.workers import wait_for

    root = Path(__file__).resolve().parents[2]
    database = settings.DATABASES["default"]
    database_url = (
        f"postgres://{database['USER']}@{database['HOST'] or '127.0.0.1'}:{database['PORT'] or 5432}/{database['NAME']}"
    )
    with throwaway_redis() as redis_server:
        port = free_port()
        env = production_env(
            DJANGO_SECURE_SSL_REDIRECT="false",
            DAMANE_VAR_DIR=str(tmp_path / "var"),
            GUNICORN_BIND=f"127.0.0.1:{port}",
            GUNICORN_WORKERS="1",
            GUNICORN_THREADS="2",
            DAMANE_VERIFY_LOOKUPS_PER_MINUTE="1000000",
        )
        env.update(DATABASE_URL=database_url, REDIS_URL=redis_server.url, DJANGO_ALLOWED_HOSTS="127.0.0.1")
        log = (tmp_path / "gunicorn.log").open("wb")
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "docker/gunicorn.conf.py", "damane.wsgi:application"],
            cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"

        def up():
            try:
                return requests.get(f"{base}/health/live/", timeout=5).status_code == 200
            except requests.ConnectionError:
                return False

        try:
            wait_for(up, timeout=90)
            yield base, redis_server, tmp_path / "gunicorn.log"
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
            log.close()


@pytest.mark.django_db(transaction=True)  # the key must be committed for the server to find it
def test_under_production_settings_every_api_error_is_json_from_the_document(
    production_api, answers, django_user_model
):
    import requests

    from integrations import services

    base, redis_server, log_path = production_api
    staff = django_user_model.objects.create_user("chef.http", password="x" * 20, is_staff=True)
    bank = services.organisation_register(name="BANQUE HTTP", kind="bank", contact_email="a@b.example", actor=staff)
    _key, api_key = services.api_key_issue(
        organisation=bank, label="http", valid_days=1, quota_per_minute=10**6, quota_per_day=10**6, actor=staff
    )
    nested, _ = HOSTILE_BODIES["nested arrays"]
    huge, _ = HOSTILE_BODIES["over Django's upload limit"]
    json_type = {"Content-Type": "application/json"}
    calls = [
        ("POST", "/api/v1/verify", nested, json_type, 400),
        ("POST", "/api/v1/verify", huge, json_type, 413),
        ("POST", "/api/v1/share", huge, {**json_type, "Authorization": "Bearer dmn_x_y"}, 413),
        ("POST", "/api/v1/share", nested, {**json_type, "Authorization": "Bearer dmn_x_y"}, 401),
        ("POST", "/api/v1/verify", b"code=ABCD", {"Content-Type": "application/x-www-form-urlencoded"}, 415),
        ("PUT", "/api/v1/verify", b"{}", json_type, 405),
        ("POST", "/api/v1/schemas/certificate.json", b"{}", json_type, 405),
        ("GET", "/api/v1/nothing-here", b"", {}, 404),
        ("GET", "/api/v1/verify?code=ABCD-EFGH", b"", {}, 200),
    ]
    failures = []
    for method, path, body, headers, expected in calls:
        response = requests.request(method, base + path, data=body, headers=headers, timeout=30)
        assert response.status_code == expected, (method, path, response.status_code, response.text[:300])
        failures += answers.check(path.split("?")[0], method, response)
    # Schemathesis's own run, every phase that needs no state and every check, over HTTP.
    result = run_schemathesis(base, api_key, log_path.parent)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    # Redis stops: the API's 503 is JSON too, with Retry-After.
    redis_server.stop()
    for method, path, body in (("GET", "/api/v1/verify?code=ABCD", b""), ("POST", "/api/v1/verify", b'{"code": "A"}')):
        response = requests.request(method, base + path, data=body, headers=json_type, timeout=30)
        assert response.status_code == 503, response.text[:300]
        assert response.headers["Retry-After"] == "30"
        failures += answers.check("/api/v1/verify", method, response)
    assert failures == []
    # No request under /api/ failed inside the application (HTML pages outside /api/, which the
    # run's probes reach, cannot render here: this server has no collected static files).
    log = log_path.read_text()
    assert "Error handling request /api/" not in log
    assert [line for line in log.splitlines() if "/api/" in line and '"status_code": 500' in line] == []


def run_schemathesis(base: str, api_key: str, workdir):
    """``st run`` against a live server: examples, coverage (boundary values, unsupported methods,
    malformed content types, missing headers) and fuzzing, with every check, response conformance
    included (status code documented, content type, headers, schema)."""
    import subprocess
    import sys
    from pathlib import Path

    st = Path(sys.executable).with_name("st")
    return subprocess.run(
        [
            str(st), "run", f"{base}/api/v1/openapi.json", "--url", base,
            "--checks", "all", "--phases", "examples,coverage,fuzzing",
            "--max-examples", "25", "--seed", "19", "--workers", "1", "--no-color",
            "--header", f"Authorization: Bearer {api_key}",
        ],
        capture_output=True, text=True, timeout=600, cwd=workdir,  # its cache, not in the checkout
    )  # fmt: skip
