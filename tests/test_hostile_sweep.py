"""Every route, as an attacker would call it: no 500 and no traceback (docs/security.md §21).

The routes come from the URL resolver, so a route added later is swept without
editing this file. Each path parameter is replaced by hostile values; each
route is called as anonymous, insured, agent and supervisor; hostile cookies
and headers are sent on top. A failure names the route, the value, the role,
the status and the traceback.
"""

from __future__ import annotations

import logging
import re
import traceback
from dataclasses import dataclass
from datetime import date
from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from registry.models import Insured
from tests.backoffice.conftest import make_staff, verified_login

pytestmark = pytest.mark.django_db

NUL = "\x00"
# Each is percent-encoded into the path, except where noted: the server sees the decoded text.
HOSTILE_VALUES = {
    "nul": NUL,
    "nul-in-text": "AT" + NUL + "2026",
    "long": "A" * 10_000,
    "dot-dot": "../../etc/passwd",
    "rtl-override": "\u202ecod.exe\u202c",
    "emoji": "😀🇲🇦",
    "quotes": "'\"<script>--",
    "arabic-digits": "١٠٠٧٨٩٠١٦",
    "huge-number": "9" * 30,
    "zero": "0",
}
# Sent as is, not percent-encoded again: undecodable bytes and double encoding.
RAW_VALUES = {"percent-junk": "%ff%fe%C0%AF%25%00", "double-encoded": "%252e%252e%252f"}
# GET with every value; POST (the writing path) with these few: keeps the sweep under a minute.
POST_VALUES = ("nul", "long", "percent-junk", "huge-number")
ROLES = ("anonymous", "insured", "agent", "supervisor", "superuser")
# A hostile query string on every GET, with the names views read (no NUL: that one is refused before any view).
HOSTILE_QUERY = "&".join(
    f"{name}={quote(value, safe='')}"
    for name, value in {
        "next": "//evil.example/" + "x" * 3000,
        "q": "١٠٠٧٨٩٠١٦\u202e'\"<>",
        "page": "-1",
        "o": "99.-5",
        "p": "9" * 30,
        "e": "1",
        "all": "😀",
        "code": "A" * 5000,
        "token": "https://x/verify/" + "a" * 30 + "#DMN1." + "." * 3000,
        "_changelist_filters": "%ff%fe",
        "status": "../",
        "kind": "'",
    }.items()
)


@dataclass(frozen=True)
class Route:
    name: str
    template: str  # "/certificates/c/{public_id}/"
    params: tuple[str, ...]


_GROUP_RE = re.compile(r"\(\?P<(?P<name>\w+)>[^)]*\)")
_ROUTE_PARAM_RE = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>\w+)>")


def _segment(pattern) -> tuple[str, tuple[str, ...]]:
    """One resolver pattern as a ``str.format`` template and its parameter names."""
    if isinstance(pattern, RoutePattern):
        text = str(pattern._route)
        names = tuple(m.group("name") for m in _ROUTE_PARAM_RE.finditer(text))
        return _ROUTE_PARAM_RE.sub(
            lambda m: "{" + m.group("name") + "}", text.replace("{", "{{").replace("}", "}}")
        ), names
    if isinstance(pattern, RegexPattern):
        text = pattern._regex
        names = tuple(m.group("name") for m in _GROUP_RE.finditer(text))
        text = _GROUP_RE.sub(lambda m: "\x01" + m.group("name") + "\x02", text)
        text = text.lstrip("^").rstrip("$").replace("\\", "")
        text = text.replace("{", "{{").replace("}", "}}").replace("\x01", "{").replace("\x02", "}")
        return text, names
    return str(pattern), ()


def all_routes() -> list[Route]:
    """Every route of the project, logouts last (they would end the session the sweep runs in)."""
    return sorted(_routes_under(get_resolver()), key=lambda route: "logout" in route.name)


def _routes_under(resolver: URLResolver, prefix: str = "/", params=(), names=()) -> list[Route]:
    routes = []
    for entry in resolver.url_patterns:
        segment, found = _segment(entry.pattern)
        if isinstance(entry, URLResolver):
            namespace = (*names, entry.namespace) if entry.namespace else names
            routes += _routes_under(entry, prefix + segment, (*params, *found), namespace)
        elif isinstance(entry, URLPattern):
            name = ":".join((*names, entry.name or entry.lookup_str))
            routes.append(Route(name=name, template=prefix + segment, params=(*params, *found)))
    return routes


def _paths(route: Route, values: dict[str, str]) -> list[tuple[str, str]]:
    """(value label, path): each value in every parameter at once and, where a route has
    several, in each one alone (the others "1", which every converter accepts) so that
    a value an earlier parameter's converter refuses still reaches the later ones."""
    if not route.params:
        return [("-", route.template)]
    paths = []
    for label, value in values.items():
        encoded = value if label in RAW_VALUES else quote(value, safe="")
        paths.append((label, route.template.format(**dict.fromkeys(route.params, encoded))))
        if len(route.params) > 1:
            for param in route.params:
                filled = {**dict.fromkeys(route.params, "1"), param: encoded}
                paths.append((f"{label} in {param}", route.template.format(**filled)))
    return paths


def _values_for(role: str, route: Route, index: int) -> dict[str, str]:
    """Every hostile value, except where the admin's permission check answers before any
    view code runs (anonymous, insured, and staff without admin permissions): there a few,
    a different few for each route, keep the sweep fast while the superuser gets them all."""
    values = {**HOSTILE_VALUES, **RAW_VALUES}
    if route.name.startswith("admin:") and role != "superuser":
        labels = list(values)
        return {label: values[label] for label in (labels[(index + k) % len(labels)] for k in range(3))}
    return values


class TracebackCatcher(logging.Handler):
    """Keeps every ERROR record that carries a traceback, from any logger."""

    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        if record.exc_info:
            self.records.append(record)


@pytest.fixture
def tracebacks():
    catcher = TracebackCatcher()
    loggers = [logging.getLogger(), logging.getLogger("django.request")]
    for logger in loggers:
        logger.addHandler(catcher)
    yield catcher
    for logger in loggers:
        logger.removeHandler(catcher)


def _client(role: str) -> Client:
    client = Client(raise_request_exception=False, headers={"accept-language": "en"})
    if role == "insured":
        insured, _created = Insured.objects.get_or_create(
            cnss_number="100234561",
            defaults=dict(
                cin="BE123456",
                last_name="BENNANI",
                first_name="AMINA",
                birth_date=date(1984, 5, 14),
                phone="+212612345601",
                registered_on=date(2011, 3, 1),
            ),
        )
        user = User.objects.filter(insured=insured).first() or User.objects.create_user(
            username="100234561", password="x" * 20, insured=insured
        )
        client.force_login(user, backend="accounts.backends.InsuredBackend")
    elif role == "agent":
        verified_login(
            client, User.objects.filter(username="agent.sweep").first() or make_staff("agent.sweep", "agent")
        )
    elif role == "superuser":
        user = User.objects.filter(username="root.sweep").first() or User.objects.create_superuser(
            "root.sweep", "root@example.org", "x" * 20
        )
        TOTPDevice.objects.get_or_create(user=user, name="default", confirmed=True)
        verified_login(client, user)
    elif role == "supervisor":
        supervisor = User.objects.filter(username="chef.sweep").first() or make_staff(
            "chef.sweep", "agent", "supervisor"
        )
        verified_login(client, supervisor)
    return client


def _describe(method, path, label, role, response, caught) -> str:
    shown = path if len(path) < 160 else path[:150] + f"…({len(path)} chars)"
    lines = [f"{method} {shown} value={label} role={role} -> {response.status_code}"]
    exc_info = getattr(response, "exc_info", None)
    if exc_info and exc_info[0] is not None:
        lines.append("".join(traceback.format_exception(*exc_info)))
    for record in caught:
        lines.append(f"logged by {record.name}: {record.getMessage()}")
        lines.append("".join(traceback.format_exception(*record.exc_info)))
    return "\n".join(lines)


def _sweep(client, role, tracebacks, requests) -> list[str]:
    failures = []
    for method, path, label, extra in requests:
        before = len(tracebacks.records)
        call = client.post if method == "POST" else client.get
        response = call(path, **extra)
        caught = tracebacks.records[before:]
        if response.status_code >= 500 or caught:
            failures.append(_describe(method, path, label, role, response, caught))
    return failures


def test_every_route_is_swept():
    """The sweep sees the routes of every app, the admin's and the staff's included."""
    names = {route.name for route in all_routes()}
    for expected in (
        "certificates:detail",
        "casework:detail",
        "verification:certificate",
        "api:verify",
        "backoffice:request",
        "admin:index",
        "accounts:password_reset_confirm",
    ):
        assert expected in names
    assert len([r for r in all_routes() if r.name.startswith("admin:")]) > 20


def _quiet_limits(settings):
    """The sweep is not a rate-limit test: let every request reach its view."""
    settings.DAMANE_VERIFY_LOOKUPS_PER_MINUTE = 10**6
    settings.DAMANE_ACCOUNT_POSTS_PER_MINUTE = 10**6
    settings.DAMANE_LOGIN_POSTS_PER_MINUTE = 10**6
    settings.DAMANE_IDENTITY_MISMATCHES_PER_HOUR = 10**6


def _still_logged_in(client, role) -> bool:
    return role == "anonymous" or "_auth_user_id" in client.session


HOSTILE_POST = {"x": NUL, "code": "A" * 10_000, "identifier": "١٠٠\u202e" + NUL, "token": "'\"<>"}


@pytest.mark.parametrize("role", ROLES)
def test_no_route_answers_500_to_hostile_path_parameters(role, tracebacks, settings):
    _quiet_limits(settings)
    client = _client(role)
    routes = all_routes()
    if role == "superuser":
        # The admin's own pages; every other route refuses a superuser as it refuses any staff.
        routes = [route for route in routes if route.name.startswith("admin:")]
    first_logout = next((i for i, route in enumerate(routes) if "logout" in route.name), len(routes))
    failures = []
    for phase in (routes[:first_logout], routes[first_logout:]):
        requests = []
        for index, route in enumerate(phase):
            values = _values_for(role, route, index)
            for label, path in _paths(route, values):
                requests.append(("GET", path, label, {}))
                if label == "-" or (label in POST_VALUES and (role != "superuser" or label == "nul")):
                    requests.append(("POST", path, label, {"data": HOSTILE_POST}))
            if not route.params:
                requests.append(("GET", f"{route.template}?{HOSTILE_QUERY}", "query", {}))
        # Every route but the logouts must have been called with the role's session.
        assert _still_logged_in(client, role), "a route ended the session before the sweep was done"
        failures += _sweep(client, role, tracebacks, requests)
    assert not failures, f"{len(failures)} hostile requests failed:\n\n" + "\n\n".join(failures)


SESSION_COOKIES = {
    "session-nul": NUL + "aaaaaaaaaa",
    "session-10kB": "a" * 10_240,
    # Cookies travel as bytes: UTF-8 bytes read as latin-1, as a WSGI server passes them.
    "session-utf8": "é😀\u202e".encode().decode("latin-1") * 4,
    "session-quotes": '"; DROP TABLE django_session; --',
}
CSRF_COOKIES = {
    "csrf-nul": NUL * 32,
    "csrf-10kB": "b" * 10_240,
    "csrf-short": "x",
    "csrf-utf8": "é".encode().decode("latin-1"),
}


def _plain_routes():
    """Routes without parameters: what the cookie and header sweeps call."""
    return [route for route in all_routes() if not route.params and "logout" not in route.name]


def test_no_route_answers_500_to_hostile_session_and_csrf_cookies(tracebacks, settings):
    """A hostile session cookie stands for any session, so this is every role; a bad
    CSRF cookie is checked on a POST with the CSRF check on, as a browser is."""
    _quiet_limits(settings)
    failures = []
    for label, value in SESSION_COOKIES.items():
        client = Client(raise_request_exception=False)
        client.cookies["sessionid"] = value
        client.cookies["django_language"] = "../../" + NUL
        failures += _sweep(client, "anonymous", tracebacks, [("GET", r.template, label, {}) for r in _plain_routes()])
    for label, value in CSRF_COOKIES.items():
        client = Client(enforce_csrf_checks=True, raise_request_exception=False)
        client.cookies["csrftoken"] = value
        data = {"csrfmiddlewaretoken": NUL + "z" * 63, **HOSTILE_POST}
        failures += _sweep(
            client, "anonymous+csrf", tracebacks, [("POST", r.template, label, {"data": data}) for r in _plain_routes()]
        )
    assert not failures, f"{len(failures)} hostile requests failed:\n\n" + "\n\n".join(failures)


# Read by middleware, the same for every route: sent to one route of each app.
MIDDLEWARE_HEADERS = {
    "host-evil": {"HTTP_HOST": "evil.example"},
    "host-nul": {"HTTP_HOST": "testserver" + NUL},
    "host-bad-port": {"HTTP_HOST": "testserver:99999999"},
    "host-ipv6-junk": {"HTTP_HOST": "[::1"},
    "host-long": {"HTTP_HOST": "a" * 5000},
    "proto-junk": {"HTTP_X_FORWARDED_PROTO": "https" + NUL},
    "https-referer-junk": {"HTTP_X_FORWARDED_PROTO": "https", "HTTP_REFERER": "http://[" + NUL},
    "accept-language-junk": {"HTTP_ACCEPT_LANGUAGE": "ar-" + "x" * 500 + ";q=abc," + NUL},
    "user-agent-long": {"HTTP_USER_AGENT": "😀".encode().decode("latin-1") * 5000},
}
# Read by views (client address for rate limits and audit rows): sent to every route.
VIEW_HEADERS = {
    "xff-garbage": {"HTTP_X_FORWARDED_FOR": "not-an-address" + NUL},
    "xff-out-of-range": {"HTTP_X_FORWARDED_FOR": "1.2.3.4, 999.999.999.999"},
    "xff-long": {"HTTP_X_FORWARDED_FOR": ", ".join(["x" * 50] * 200)},
}


@pytest.mark.parametrize("role", ["anonymous", "insured"])
def test_no_route_answers_500_to_hostile_headers_behind_a_proxy(role, tracebacks, settings):
    _quiet_limits(settings)
    settings.DAMANE_TRUSTED_PROXY_COUNT = 1
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    client = _client(role)
    routes = _plain_routes()
    one_per_app = list({route.name.split(":")[0]: route for route in routes}.values())
    requests = []
    for label, headers in MIDDLEWARE_HEADERS.items():
        for route in one_per_app:
            requests.append(("GET", route.template, label, headers))
            requests.append(("POST", route.template, label, {"data": HOSTILE_POST, **headers}))
    for label, headers in VIEW_HEADERS.items():
        # Views read the address when they count or record a post.
        requests += [("POST", route.template, label, {"data": HOSTILE_POST, **headers}) for route in routes]
    failures = _sweep(client, role, tracebacks, requests)
    assert not failures, f"{len(failures)} hostile requests failed:\n\n" + "\n\n".join(failures)


def test_a_refused_host_is_logged_on_one_line_without_a_traceback(client):
    import io

    # django.security.* propagates to the root logger's console handler (damane/logging.py).
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "console")
    stream, handler.stream = handler.stream, io.StringIO()
    try:
        response = client.get("/", HTTP_HOST="evil.example")
        written = handler.stream.getvalue()
    finally:
        handler.stream = stream
    assert response.status_code == 400
    assert "Invalid HTTP_HOST header: 'evil.example'" in written
    # One line from django.security (the request log adds its own line), no traceback.
    lines = written.splitlines()
    security = [line for line in lines if "django.security" in line]
    assert len(security) == 1 and "evil.example" in security[0]
    assert "Traceback" not in written and not any(line.startswith(" ") for line in lines)
