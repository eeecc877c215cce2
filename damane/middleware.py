"""Answer 503, not 500, when the database is unreachable (SECURITY.md 19).

Views raise through ``process_exception``; errors raised in other middleware
(sessions, authentication) reach ``server_error``, Django's ``handler500``.
The page is rendered without context processors: they would query the
database again.
"""

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, HttpResponseServerError
from django.template.loader import render_to_string
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
