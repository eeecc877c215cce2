"""JSON verification API for integrators (banks, embassies): docs/verification.md, OpenAPI at /api/v1/openapi.json.

Same privacy and rate limit as the pages, except for integrators sending their
API key (``Authorization: Bearer``): their key's quotas apply instead, and each
certificate they find is recorded for its holder (integrations/api.py). Unknown, malformed and forged inputs
all get the same answer: ``200 {"genuine": false}``; the caller learns nothing
about which it was.
"""

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from damane.access import client_ip
from damane.api import problem, read_json_object
from damane.ratelimit import hit
from damane.replica import replica_reads
from integrations import api as integrator_api
from integrations import services as integrator_services
from verification import services
from verification.openapi import document as openapi_document
from verification.presenters import present

NOT_GENUINE = {"genuine": False}


def _json(data, status=200):
    response = JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})
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


@csrf_exempt  # a public, read-only API without cookies
@never_cache
@require_http_methods(["GET", "POST"])
@replica_reads
def verify(request):
    key = None
    if integrator_api.has_key_header(request):
        # An integrator: its key's quotas instead of the per-address limit (docs/integrators.md).
        key, refused = integrator_api.integrator(request)
        if refused:
            return refused
    else:
        limit = hit(f"verification:{client_ip(request)}", limit=settings.DAMANE_VERIFY_LOOKUPS_PER_MINUTE, window=60)
        if not limit.allowed:
            return problem(
                429,
                "rate_limited",
                "more than the look-ups allowed a minute from this address; wait Retry-After seconds",
                retry_after=limit.retry_after,
            )
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
    code, token = given.get("code"), given.get("token")
    if code:
        certificate = services.by_code_fast(code)
    elif token:
        certificate = services.by_token(token)
    else:
        return problem(400, "missing_parameter", "give code or token")
    if certificate is None:
        return _json(NOT_GENUINE)
    if key is not None:
        integrator_services.verification_record(key=key, certificate=certificate)
    return _json(certificate_json(certificate))


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
