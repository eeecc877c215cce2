"""The integrator side of the JSON API: API keys and their quotas, and share codes.

A request with ``Authorization: Bearer dmn_…`` is an integrator's: its key's
quotas apply instead of the per-address limit, and each genuine certificate it
finds is recorded for the holder. A request without the header is anonymous and
unchanged. A header that names no usable key (malformed, unknown, expired,
revoked, suspended organisation) gets one answer: 401 ``invalid_key``.
"""

from __future__ import annotations

import ipaddress
import time
from functools import wraps

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from damane.access import client_ip
from damane.api import problem, read_json_object
from damane.ratelimit import hit, peek
from integrations import idempotency, receipts, sandbox, selectors, services
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


def _unauthorized():
    response = problem(401, "invalid_key", "unknown, expired or revoked API key")
    response["WWW-Authenticate"] = 'Bearer realm="damane"'
    return response


# --- Scopes and source networks (docs/integrators.md, "Scopes and networks") ----------


def network_allows(networks: list[str], address: str) -> bool:
    """Whether ``address`` is in one of ``networks`` (CIDR); an empty list allows every address."""
    if not networks:
        return True
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for network in networks:
        try:
            if ip in ipaddress.ip_network(network, strict=False):
                return True
        except ValueError:
            continue
    return False


def restriction(key, *, scope: str, address: str):
    """The 403 answer for a key used outside its scopes or networks, or None."""
    if scope not in (key.scopes or []):
        allowed = ", ".join(key.scopes or []) or "none"
        return problem(
            403,
            "scope_not_allowed",
            f"this key may not call {scope}: its scopes are {allowed}; ask the fund to add the scope",
        )
    if not network_allows(key.allowed_networks or [], address):
        return problem(
            403,
            "network_not_allowed",
            f"this key may not be used from {address or 'this address'}: it is limited to the networks "
            "the fund registered for it",
        )
    return None


# --- Quotas you can see (draft-ietf-httpapi-ratelimit-headers) --------------------------


def _reset(window: int) -> int:
    return max(1, window - int(time.time()) % window)


def ratelimit_headers(response, policies) -> None:
    """``RateLimit-Policy`` and ``RateLimit`` for ``policies``: (name, quota, window, count so far)."""
    response["RateLimit-Policy"] = ", ".join(f'"{name}";q={quota};w={window}' for name, quota, window, _c in policies)
    response["RateLimit"] = ", ".join(
        f'"{name}";r={max(0, quota - count)};t={_reset(window)}' for name, quota, window, count in policies
    )


def _key_quotas(key, cost: int):
    """(policies, the 429 answer or None) after counting ``cost`` look-ups in both of the key's quotas.

    Once a quota refuses, the next is not counted (only read), so the headers still show both."""
    policies, refused = [], None
    for name, window, limit in (("minute", 60, key.quota_per_minute), ("day", DAY, key.quota_per_day)):
        counter = f"apikey:{key.pk}:{window}"
        if refused is not None:
            policies.append((name, limit, window, peek(counter, limit=limit, window=window).count))
            continue
        result = hit(counter, limit=limit, window=window, cost=cost)
        if window == DAY and result.allowed:
            # 80 % of the day's quota reached: the organisation's webhook, once a day (integrations/webhooks).
            webhook_events.quota_reached(key, used=result.count, limit=limit, day_slot=int(time.time() // DAY))
        # A refused batch was taken back: what is left is what was there before it.
        count = result.count - cost if (not result.allowed and cost > 1) else result.count
        policies.append((name, limit, window, count))
        if not result.allowed:
            detail = "beyond this key's quota a minute" if window == 60 else "beyond this key's quota a day"
            if cost > 1:
                detail = f"{cost} look-ups would go {detail}"
            refused = problem(
                429, "quota_exceeded", f"{detail}; wait Retry-After seconds", retry_after=result.retry_after
            )
    return policies, refused


def integrator(request, *, scope: str = "verify", cost: int = 1):
    """(key, None) for a usable key within its scopes, networks and quotas, else (None, the error response)."""
    key = services.authenticate(_bearer(request))
    if key is None:
        return None, _unauthorized()
    refused = restriction(key, scope=scope, address=client_ip(request))
    if refused:
        return None, refused
    policies, refused = _key_quotas(key, cost)
    request.ratelimit_policies = policies
    if refused:
        ratelimit_headers(refused, policies)
        return None, refused
    services.key_used(key)
    return key, None


def _idempotency_problem(status: int, error: str, detail: str):
    return lambda: problem(status, error, detail)


_CONFLICT = _idempotency_problem(
    409, "idempotency_key_in_use", "a request with this Idempotency-Key is still running; retry in a moment"
)
# 409 too (Stripe answers 400, the IETF draft 422): the request itself is well formed; it
# conflicts with what the key already asked under this Idempotency-Key.
_REUSED = _idempotency_problem(
    409,
    "idempotency_key_reused",
    "this Idempotency-Key was sent with another request; use a new key for each new look-up",
)


def api_endpoint(*, scope: str, anonymous: bool = False, cost=None):
    """The integrator API around a look-up view: who calls, within what, and retries.

    In order: without an ``Authorization`` header, the per-address limit when
    ``anonymous`` is allowed, else 401; with one, the key (401), its scope and
    networks (403), its quotas, counted ``cost(request)`` times (429); then, for a
    key sending ``Idempotency-Key``, the first answer again instead of a second run.
    Every answer past the quotas carries ``RateLimit-Policy`` and ``RateLimit``; a
    receipt is asked for with ``Accept: application/jose`` or ``?receipt=1``
    (integrations/receipts.py). The view finds the key as ``request.api_key``
    (None for an anonymous caller).
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            idempotency_value = idempotency.header_value(request)
            wants_receipt = receipts.wanted(request)
            request.api_key = None
            outcome = None
            if not has_key_header(request):
                if not anonymous:
                    return _unauthorized()
                per_minute = settings.DAMANE_VERIFY_LOOKUPS_PER_MINUTE
                limit = hit(f"verification:{client_ip(request)}", limit=per_minute, window=60)
                policies = [("address", per_minute, 60, limit.count)]
                if not limit.allowed:
                    response = problem(
                        429,
                        "rate_limited",
                        "more than the look-ups allowed a minute from this address; wait Retry-After seconds",
                        retry_after=limit.retry_after,
                    )
                    ratelimit_headers(response, policies)
                    return response
            else:
                key, refused = integrator(request, scope=scope, cost=cost(request) if cost else 1)
                if refused:
                    return refused
                request.api_key = key
                policies = request.ratelimit_policies
                if idempotency_value is not None:
                    outcome = idempotency.begin(
                        request, api_key_id=key.pk, value=idempotency_value, conflict=_CONFLICT, reused=_REUSED
                    )
                    if not outcome.run:
                        ratelimit_headers(outcome.response, policies)
                        return outcome.response
            try:
                response = view(request, *args, **kwargs)
                if wants_receipt and response.status_code == 200:
                    response = receipts.as_receipt(request, response)
            except BaseException:
                if outcome is not None:
                    idempotency.finish(outcome, HttpResponse(status=500))
                raise
            if outcome is not None:
                idempotency.finish(outcome, response)
            ratelimit_headers(response, policies)
            return response

        return wrapper

    return decorator


def _is_text(value) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_PARAMETER_LENGTH and "\x00" not in value


@csrf_exempt  # a read-only API authenticated by its header, without cookies
@never_cache
@require_http_methods(["POST"])
@api_endpoint(scope="share")
def share(request):
    """What a share code shows as of now; the code travels in the body, never in an address."""
    key = request.api_key
    params, refused = read_json_object(request, detail="send a JSON object with code")
    if refused:
        return refused
    if "code" not in params:
        return problem(400, "missing_parameter", "give code")
    if not _is_text(params["code"]):
        return problem(400, "invalid_parameter", "code is non-empty text")
    if sandbox.is_sandbox(key):
        return json_response(sandbox.share(params["code"]))
    shared = services.share_code_use(
        raw=params["code"], channel=ShareCodeUse.Channel.API, organisation=key.organisation
    )
    return json_response(selectors.share_answer(shared) if shared else NOT_VALID)
