"""Every answer under ``/api/`` is JSON, whatever went wrong (issue 19, item 4).

The JSON API (verification/api.py, integrations/api.py) promises JSON in its
OpenAPI document (verification/openapi.py): its own answers, and the errors
Django or another middleware would otherwise render as an HTML page (an unknown
address, a method not allowed, a body too large, a Redis or database outage, a
last-resort 500). One shape for all of them, the document's ``Error`` schema::

    {"error": "payload_too_large", "detail": "the body is over 64 KB", "retry_after": 30}

Reuse it anywhere an error may be answered to an API client::

    from damane.api import is_api_request, problem
    if is_api_request(request):
        return problem(503, retry_after=30)

``ApiJsonErrorsMiddleware`` is the net under it: it refuses an oversized body
before anything reads it (413), and turns any error answer under ``/api/`` that
is not JSON yet into this shape, keeping its status and its ``Allow``,
``Retry-After`` and ``WWW-Authenticate`` headers.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.http import HttpResponse, JsonResponse

API_PREFIX = "/api/"

# The error code and the sentence an API client gets for each status, unless the view says more.
DEFAULT_PROBLEMS = {
    400: ("bad_request", "the request is malformed"),
    401: ("unauthorized", "send a usable API key"),
    403: ("forbidden", "this request is not allowed"),
    404: ("not_found", "no such address in the API; see /api/v1/openapi.json"),
    405: ("method_not_allowed", "this method is not allowed here; see the Allow header"),
    413: ("payload_too_large", "the body is too large"),
    415: ("unsupported_media_type", "send the body as Content-Type: application/json"),
    429: ("rate_limited", "too many requests; wait Retry-After seconds"),
    500: ("server_error", "the request failed on our side; nothing was recorded"),
    503: ("unavailable", "a service the portal needs is not answering; nothing was checked or recorded"),
}
# Headers an error answer keeps when it is rewritten as JSON.
KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")
JSON_MEDIA_TYPES = ("application/json",)


def is_api_request(request) -> bool:
    return request.path_info.startswith(API_PREFIX)


def problem(status: int, error: str | None = None, detail: str | None = None, *, retry_after: int | None = None):
    """The JSON error answer of the API: ``{"error", "detail"[, "retry_after"]}``, never cached."""
    default_error, default_detail = DEFAULT_PROBLEMS.get(status, ("error", "the request failed"))
    body = {"error": error or default_error, "detail": detail or default_detail}
    if retry_after is not None:
        body["retry_after"] = int(retry_after)
    response = JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "no-store"
    response["Access-Control-Allow-Origin"] = "*"
    if retry_after is not None:
        response["Retry-After"] = str(int(retry_after))
    return response


def is_json_media_type(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type in JSON_MEDIA_TYPES or (media_type.startswith("application/") and media_type.endswith("+json"))


def read_json_object(request, *, detail: str):
    """``(the body's JSON object, None)``, or ``(None, the 400 or 415 answer)``.

    Refused: a Content-Type other than JSON (415); a body that is not UTF-8 JSON,
    is nested past the parser's depth, or whose top level is not an object
    (400 ``invalid_body``, ``detail`` saying what to send). An empty body is an
    empty object: the view then says which field is missing.
    """
    content_type = request.META.get("CONTENT_TYPE", "")
    if content_type and not is_json_media_type(content_type):
        return None, problem(415)
    try:
        params = json.loads(request.body.decode("utf-8") or "{}")
    except (ValueError, UnicodeDecodeError, RecursionError):
        # RecursionError: JSON nested a few thousand levels deep (a 4 KB body) exhausts the parser.
        params = None
    if not isinstance(params, dict):
        return None, problem(400, "invalid_body", detail)
    return params, None


def _content_length(request) -> int | None:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None


def json_error_from(response: HttpResponse) -> HttpResponse:
    """The same error as ``problem()`` JSON, keeping its status and meaningful headers."""
    retry_after = response.get("Retry-After")
    rewritten = problem(
        response.status_code,
        retry_after=int(retry_after) if retry_after and retry_after.isdigit() else None,
    )
    for header in KEPT_HEADERS:
        if header in response and header not in rewritten:
            rewritten[header] = response[header]
    return rewritten


class ApiJsonErrorsMiddleware:
    """Under ``/api/``: 413 for a body over ``DAMANE_API_MAX_BODY_BYTES`` before any view reads it,
    and every error answer as JSON. Placed near the top of MIDDLEWARE, so that errors of the
    middleware below it (sessions, CSRF, outages) are rewritten too."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not is_api_request(request):
            return self.get_response(request)
        length = _content_length(request)
        if length is None:
            return problem(400, "bad_request", "the Content-Length header is not a number")
        limit = settings.DAMANE_API_MAX_BODY_BYTES
        if length > limit:
            return problem(413, detail=f"the body is over {limit // 1024} KB; a look-up needs a few hundred bytes")
        response = self.get_response(request)
        if response.status_code >= 400 and not is_json_media_type(response.get("Content-Type", "")):
            return json_error_from(response)
        return response
