"""Answer 503, not 500, when the database or Redis is unreachable, or an upload cannot be stored
(docs/security.md §19, 24).

Rate limits and lockouts live in Redis: when it does not answer, the limit
check raises, the view never runs, and the person gets this clear 503 — a
limit is never skipped (fails closed) and nothing is recorded.

Views raise through ``process_exception``; errors raised in other middleware
(sessions, authentication) reach ``server_error``, Django's ``handler500``.
A database error that Django turned into a 400 on the way (saving the session
raises ``SessionInterrupted`` when the update fails) reaches ``bad_request``,
``handler400``, which answers the same 503: a database fault never blames the
person's request (issue 20). The page is rendered without context processors:
they would query the database again. Under ``/api/`` the 503 is JSON, in the
API's error shape (``{"error": ..., "detail": ...}``).
"""

import logging
import sys
import time
from urllib.parse import unquote

from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseServerError
from django.template.loader import render_to_string
from django.utils.cache import add_never_cache_headers
from django.views import defaults
from django.views.decorators.csrf import requires_csrf_token
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from damane.api import is_api_request, problem
from damane.storage import StorageUnavailable, StorageUnreadable

logger = logging.getLogger(__name__)

# Errors that mean "the database is not there", not "the query was wrong".
OUTAGE_ERRORS = (OperationalError, InterfaceError)
# Redis (rate limits, lockouts, the broker) not answering within its socket timeouts.
CACHE_OUTAGE_ERRORS = (RedisConnectionError, RedisTimeoutError)


def outage_error(exception: BaseException | None) -> BaseException | None:
    """The outage error (database, Redis, file storage) that ``exception`` is, or was raised while handling, if any."""
    seen = set()
    while exception is not None and id(exception) not in seen:
        if isinstance(exception, OUTAGE_ERRORS + CACHE_OUTAGE_ERRORS + (StorageUnavailable,)):
            return exception
        seen.add(id(exception))
        exception = exception.__cause__ or exception.__context__
    return None


def outage_response(exception: BaseException | None, request=None) -> HttpResponse | None:
    """The 503 for an outage error, logged once; None for any other error."""
    exception = outage_error(exception)
    if exception is None:
        return None
    if isinstance(exception, StorageUnreadable):
        # damane.storage logged the cause; nothing was sent before this answer.
        service = "storage_read"
    elif isinstance(exception, StorageUnavailable):
        # damane.storage logged the cause and removed what it had written.
        service = "storage"
    elif isinstance(exception, OUTAGE_ERRORS):
        service = "database"
        logger.error("database unavailable: %s", exception)
    else:
        service = "redis"
        logger.error("redis unavailable: %s", exception.__class__.__name__)
    return database_unavailable_response(service=service, request=request)


# The API's 503 (docs/verification.md): what failed, never a host or a query.
API_UNAVAILABLE_DETAIL = {
    "database": "the service cannot reach its database; nothing was checked or recorded, try again later",
    "redis": "the service cannot reach one of its services; nothing was checked or recorded, try again later",
    "storage": "the file could not be stored; nothing was recorded, try again later",
    "timestamp": "the trusted time service did not answer; no certificate was issued, try again in a minute",
    "storage_read": "the file cannot be read right now; try again later",
}


def database_unavailable_response(service: str = "database", request=None, retry_after: int = 30) -> HttpResponse:
    if request is not None and is_api_request(request):
        # The API answers JSON, this one too (damane/api.py, its OpenAPI document's 503).
        return problem(503, detail=API_UNAVAILABLE_DETAIL[service], retry_after=retry_after)
    response = HttpResponse(render_to_string("503.html", {"service": service}), status=503)
    response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        return outage_response(exception, request)


@requires_csrf_token
def server_error(request):
    response = outage_response(sys.exc_info()[1], request)
    if response is not None:
        return response
    if is_api_request(request):
        return problem(500)
    return HttpResponseServerError(render_to_string("500.html"))


@requires_csrf_token
def bad_request(request, exception):
    """Django's 400 (JSON under /api/, 413 for a body over the limit), unless the
    database or Redis failed underneath: then the outage's 503."""
    response = outage_response(exception, request)
    if response is not None:
        return response
    if is_api_request(request):
        return problem(413 if isinstance(exception, RequestDataTooBig) else 400)
    return defaults.bad_request(request, exception)


request_logger = logging.getLogger("damane.request")


class RequestLogMiddleware:
    """One log line a request: method, route pattern, status and duration.

    The route pattern (``certificates/c/<str:public_id>/``), never the path: paths
    carry identifiers and password-reset tokens. The request id is added by the
    log filter (django-guid).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.monotonic()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        request_logger.info(
            "%s %s %s",
            request.method,
            match.route if match is not None else "(unrouted)",
            response.status_code,
            extra={
                "method": request.method,
                "route": match.route if match is not None else "",
                "view": match.view_name if match is not None else "",
                "status": response.status_code,
                "duration_ms": round((time.monotonic() - started) * 1000, 1),
            },
        )
        return response


class RefuseNulBytesMiddleware:
    """400 for a NUL byte in the path or the query string, before any view or query sees it.

    No address of the portal has a use for one, and PostgreSQL refuses NUL in
    text: left through, it turned ``/certificates/c/%00/`` into a 500 (issue 8).
    Form fields refuse NUL on their own (Django's ProhibitNullCharactersValidator).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path_info or "\x00" in unquote(request.META.get("QUERY_STRING", "")):
            if is_api_request(request):
                # The API answers JSON, errors included (its OpenAPI document says so).
                return problem(400, "bad_request", "NUL bytes are refused")
            return HttpResponseBadRequest(render_to_string("400.html"))
        return self.get_response(request)


class NoStoreWhenSignedInMiddleware:
    """Every page answered to a signed-in user is ``Cache-Control: no-store``.

    Such pages show personal data (declarations, requests, certificates), which no
    browser or proxy cache may keep. Set here rather than view by view, so a page
    added later cannot forget it (issue 8: ``/requests/`` had).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and "no-store" not in response.get("Cache-Control", ""):
            add_never_cache_headers(response)
        return response
