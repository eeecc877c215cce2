"""JSON verification API for integrators (banks, embassies): docs/verification.md, OpenAPI at /api/v1/openapi.json.

Same privacy and rate limit as the pages, except for integrators sending their
API key (``Authorization: Bearer``): their key's quotas apply instead, and each
certificate they find is recorded for its holder (integrations/api.py). Unknown, malformed and forged inputs
all get the same answer: ``200 {"genuine": false}``; the caller learns nothing
about which it was.
"""

import json

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from damane.api import problem, read_json_object
from damane.replica import replica_reads
from integrations import api as integrator_api
from integrations import sandbox
from integrations import services as integrator_services
from verification import services
from verification.openapi import document as openapi_document
from verification.presenters import present

NOT_GENUINE = {"genuine": False}


def _json(data, status=200):
    # safe=False: a batch answers a JSON array.
    response = JsonResponse(data, status=status, safe=False, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "no-store"
    response["Access-Control-Allow-Origin"] = "*"
    return response


def certificate_json(certificate) -> dict:
    view = present(certificate, today=timezone.localdate())
    return {
        "genuine": True,
        "state": "replaced" if view["state"] == "valid" and view["superseded"] else view["state"],
        "type": certificate.kind,
        "number": certificate.number,
        "holder": {
            "name": view["holder_name"],
            "name_ar": view["holder_name_ar"],
            "cin_masked": view["cin_masked"],
            "cnss_number_masked": view["cnss_masked"],
        },
        "issued_on": certificate.issued_on.isoformat(),
        "valid_until": certificate.valid_until.isoformat(),
        "revoked_on": timezone.localtime(certificate.revoked_at).date().isoformat() if certificate.revoked_at else None,
        "facts": view["facts"],
    }


# What the OpenAPI document promises for code and token (verification/openapi.py): in a JSON
# body, text without NUL; in an address, printable ASCII that fits a request line.
MAX_PARAMETER_LENGTH = 4096
QUERY_PARAMETER_LENGTHS = {"code": 200, "token": 2400}


def _is_text(value) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_PARAMETER_LENGTH and "\x00" not in value


def _is_query_text(name: str, value: str) -> bool:
    return 0 < len(value) <= QUERY_PARAMETER_LENGTHS[name] and value.isascii() and value.isprintable()


def _lookup(given: dict):
    """The certificate ``code`` or ``token`` names, or None; both already checked as text."""
    code, token = given.get("code"), given.get("token")
    if code:
        return services.by_code_fast(code)
    return services.by_token(token)


def _answer(certificate, key) -> dict:
    if certificate is None:
        return NOT_GENUINE
    if key is not None:
        integrator_services.verification_record(key=key, certificate=certificate)
    return certificate_json(certificate)


@csrf_exempt  # a public, read-only API without cookies
@never_cache
@require_http_methods(["GET", "POST"])
@integrator_api.api_endpoint(scope="verify", anonymous=True)
@replica_reads
def verify(request):
    """Without a key, the per-address limit; with one, its quotas (docs/integrators.md)."""
    if request.method == "POST":
        params, refused = read_json_object(request, detail="send a JSON object with code or token")
        if refused:
            return refused
    else:
        params = request.GET
    given = {name: params[name] for name in ("code", "token") if name in params}
    if request.method == "GET" and not all(_is_query_text(name, value) for name, value in given.items()):
        return problem(
            400, "invalid_parameter", "in the address, code (up to 200) and token (up to 2400) are printable ASCII"
        )
    if not all(_is_text(value) for value in given.values()):
        return problem(400, "invalid_parameter", "code and token are non-empty text")
    if not (given.get("code") or given.get("token")):
        return problem(400, "missing_parameter", "give code or token")
    if sandbox.is_sandbox(request.api_key):
        return _json(sandbox.verify(given))
    return _json(_answer(_lookup(given), request.api_key))


def _batch_size(request) -> int:
    """How many look-ups a batch counts in the quotas: its items, or 1 for a body the view will refuse."""
    try:
        items = json.loads(request.body.decode("utf-8") or "{}").get("items")
    except (ValueError, UnicodeDecodeError, RecursionError, AttributeError):
        return 1
    if isinstance(items, list) and 1 <= len(items) <= settings.DAMANE_API_BATCH_MAX:
        return len(items)
    return 1


@csrf_exempt  # as above
@never_cache
@require_http_methods(["POST"])
@integrator_api.api_endpoint(scope="batch", cost=_batch_size)
@replica_reads
def verify_batch(request):
    """Up to DAMANE_API_BATCH_MAX look-ups in one request, each counted in the quotas, answered in order.

    Each item is ``{"code": …}`` or ``{"token": …}``; the whole batch is refused (400,
    naming the first bad item) before anything is looked up or recorded.
    """
    params, refused = read_json_object(request, detail="send a JSON object with items, a list of look-ups")
    if refused:
        return refused
    items = params.get("items")
    limit = settings.DAMANE_API_BATCH_MAX
    if not isinstance(items, list) or not 1 <= len(items) <= limit:
        return problem(400, "invalid_parameter", f"items is a list of 1 to {limit} look-ups")
    lookups = []
    for index, item in enumerate(items):
        given = item if isinstance(item, dict) and set(item) in ({"code"}, {"token"}) else {}
        if not given or not all(_is_text(value) for value in given.values()):
            detail = f"items[{index}] is an object with one of code or token, non-empty text"
            return problem(400, "invalid_parameter", detail)
        lookups.append(given)
    if sandbox.is_sandbox(request.api_key):
        return _json([sandbox.verify(given) for given in lookups])
    return _json([_answer(_lookup(given), request.api_key) for given in lookups])


@csrf_exempt  # no cookies under /api/: another method than GET answers 405, not a CSRF 403
@require_http_methods(["GET"])
def openapi(request):
    response = JsonResponse(openapi_document(), json_dumps_params={"ensure_ascii": False})
    response["Access-Control-Allow-Origin"] = "*"
    return response


@csrf_exempt  # as above
@require_http_methods(["GET"])
def certificate_schema(request):
    """The JSON Schema of the ``certificate.json`` file embedded in every certificate PDF (stable URL)."""
    from certificates.machine_readable import schema_bytes

    response = HttpResponse(schema_bytes(), content_type="application/schema+json")
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = "public, max-age=86400"
    return response
