"""The integrator side of the JSON API: API keys and their quotas, and share codes.

A request with ``Authorization: Bearer dmn_…`` is an integrator's: its key's
quotas apply instead of the per-address limit, and each genuine certificate it
finds is recorded for the holder. A request without the header is anonymous and
unchanged. A header that names no usable key (malformed, unknown, expired,
revoked, suspended organisation) gets one answer: 401 ``invalid_key``.
"""

from __future__ import annotations

import time

from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from damane.api import problem, read_json_object
from damane.ratelimit import hit
from integrations import selectors, services
from integrations.models import ShareCodeUse
from integrations.webhooks import events as webhook_events

NOT_VALID = {"valid": False}
MAX_PARAMETER_LENGTH = 4096
DAY = 24 * 60 * 60


def json_response(data, status=200):
    response = JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "no-store"
    response["Access-Control-Allow-Origin"] = "*"
    return response


def has_key_header(request) -> bool:
    return "HTTP_AUTHORIZATION" in request.META


def _bearer(request) -> str:
    scheme, _sep, value = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def integrator(request):
    """(key, None) for a usable key within its quotas, else (None, the error response)."""
    key = services.authenticate(_bearer(request))
    if key is None:
        response = problem(401, "invalid_key", "unknown, expired or revoked API key")
        response["WWW-Authenticate"] = 'Bearer realm="damane"'
        return None, response
    for window, limit in ((60, key.quota_per_minute), (DAY, key.quota_per_day)):
        result = hit(f"apikey:{key.pk}:{window}", limit=limit, window=window)
        if window == DAY and result.allowed:
            webhook_events.quota_reached(key, used=result.count, limit=limit, day_slot=int(time.time() // DAY))
        if not result.allowed:
            detail = "beyond this key's quota a minute" if window == 60 else "beyond this key's quota a day"
            return None, problem(
                429, "quota_exceeded", f"{detail}; wait Retry-After seconds", retry_after=result.retry_after
            )
    services.key_used(key)
    return key, None


def _is_text(value) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_PARAMETER_LENGTH and "\x00" not in value


@csrf_exempt  # a read-only API authenticated by its header, without cookies
@never_cache
@require_http_methods(["POST"])
def share(request):
    """What a share code shows as of now; the code travels in the body, never in an address."""
    key, refused = integrator(request)
    if refused:
        return refused
    params, refused = read_json_object(request, detail="send a JSON object with code")
    if refused:
        return refused
    if "code" not in params:
        return problem(400, "missing_parameter", "give code")
    if not _is_text(params["code"]):
        return problem(400, "invalid_parameter", "code is non-empty text")
    shared = services.share_code_use(
        raw=params["code"], channel=ShareCodeUse.Channel.API, organisation=key.organisation
    )
    return json_response(selectors.share_answer(shared) if shared else NOT_VALID)
