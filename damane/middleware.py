"""Answer 503, not 500, when the database is unreachable (SECURITY.md 19).

Views raise through ``process_exception``; errors raised in other middleware
(sessions, authentication) reach ``server_error``, Django's ``handler500``.
The page is rendered without context processors: they would query the
database again.
"""

import logging
import sys
from urllib.parse import unquote

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseServerError, JsonResponse
from django.template.loader import render_to_string
from django.utils.cache import add_never_cache_headers
from django.views.decorators.csrf import requires_csrf_token

logger = logging.getLogger(__name__)

# Errors that mean "the database is not there", not "the query was wrong".
OUTAGE_ERRORS = (OperationalError, InterfaceError)


def database_unavailable_response() -> HttpResponse:
    response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = "30"
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, OUTAGE_ERRORS):
            logger.error("database unavailable: %s", exception)
            return database_unavailable_response()
        return None


@requires_csrf_token
def server_error(request):
    exception = sys.exc_info()[1]
    if isinstance(exception, OUTAGE_ERRORS):
        logger.error("database unavailable: %s", exception)
        return database_unavailable_response()
    return HttpResponseServerError(render_to_string("500.html"))


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
            if request.path_info.startswith("/api/"):
                # The API answers JSON, errors included (its OpenAPI document says so).
                return JsonResponse({"error": "bad_request", "detail": "NUL bytes are refused"}, status=400)
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
