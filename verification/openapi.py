"""OpenAPI 3.1 description of the verification API, served at /api/v1/openapi.json."""

import copy

from django.conf import settings

from certificates import registry
from integrations.webhooks import openapi as webhooks_openapi

_HOLDER = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "description": "Holder's name in Latin script, as printed"},
        "name_ar": {"type": "string", "description": "Holder's name in Arabic script, as printed"},
        "cin_masked": {"type": "string", "example": "••••••56"},
        "cnss_number_masked": {"type": "string", "example": "••••••561"},
    },
    "required": ["name", "cin_masked", "cnss_number_masked"],
}

# The kinds of certificate: filled from certificates.registry in document().
_KIND = {"type": "string", "description": "The kind of certificate (certificate.json's kind)"}

# The API's key facts of each kind (its folder's presenter.present), typed. A kind without an
# entry here (one added later) is described as an object; document() fills anyOf from the registry.
_DATE = {"type": ["string", "null"], "format": "date"}
_PERIOD = {"type": ["string", "null"], "pattern": "^[0-9]{6}$", "description": "YYYYMM"}
_DAYS = {"type": ["integer", "null"], "minimum": 0}
_NAME = {"type": ["string", "null"]}
FACTS_BY_KIND = {
    "employment": {"employer": _NAME, "start_date": _DATE, "reference_period": _PERIOD, "days": _DAYS},
    "affiliation": {"registered_on": _DATE, "employers": {"type": "integer", "minimum": 0}},
    "non_affiliation": {"from_period": _PERIOD, "to_period": _PERIOD},
    "annual_salary": {
        "from_period": _PERIOD,
        "to_period": _PERIOD,
        "total_real_salary": {"type": ["integer", "null"], "description": "centimes of dirham"},
        "total_days": _DAYS,
    },
    "declared_days": {"total_days": _DAYS, "threshold_reached": {"type": ["boolean", "null"]}, "as_of": _DATE},
    "deregistration": {"employer": _NAME, "start_date": _DATE, "end_date": _DATE},
    "treaty_periods": {
        "country": {"type": ["string", "null"], "description": "ISO 3166-1 alpha-2"},
        "moroccan_days": _DAYS,
        "foreign_counted_days": _DAYS,
        "total_days": _DAYS,
    },
}
_FACTS = {
    "type": "object",
    "description": "Key facts of the certificate's type (type), as the verify page shows them: one of the "
    "shapes below, by type",
}


def _facts_shapes(kinds) -> list[dict]:
    shapes = []
    for kind in kinds:
        properties = FACTS_BY_KIND.get(kind)
        if properties is None:
            shapes.append({"title": kind, "type": "object"})
        else:
            shapes.append(
                {
                    "title": kind,
                    "type": "object",
                    "properties": properties,
                    "required": list(properties),
                    "additionalProperties": False,
                }
            )
    return shapes


_RESULT = {
    "oneOf": [
        {
            "type": "object",
            "title": "Genuine certificate",
            "properties": {
                "genuine": {"const": True},
                "state": {"enum": ["valid", "expired", "revoked", "replaced"]},
                "type": _KIND,
                "number": {"type": "string", "example": "AT-2026-00000042"},
                "holder": _HOLDER,
                "issued_on": {"type": "string", "format": "date"},
                "valid_until": {"type": "string", "format": "date"},
                "revoked_on": {"type": ["string", "null"], "format": "date"},
                "facts": _FACTS,
            },
            "required": ["genuine", "state", "type", "number", "holder", "issued_on", "valid_until"],
        },
        {
            "type": "object",
            "title": "No such certificate",
            "description": "Unknown, malformed and forged inputs all get this same answer.",
            "properties": {"genuine": {"const": False}},
            "required": ["genuine"],
            "additionalProperties": False,
        },
    ]
}

# Every error answer under /api/ has this shape, whatever went wrong and whichever layer
# answered (the views, or damane/api.py for unknown addresses, methods, sizes and outages).
_ERROR_SCHEMA = {
    "type": "object",
    "title": "Error",
    "properties": {
        "error": {
            "type": "string",
            "description": "A stable code: invalid_body, invalid_parameter, missing_parameter, invalid_key, "
            "quota_exceeded, rate_limited, not_found, method_not_allowed, payload_too_large, "
            "unsupported_media_type, unavailable, server_error, ...",
            "example": "invalid_body",
        },
        "detail": {"type": "string", "description": "What to do about it, in English, for the integrator"},
        "retry_after": {"type": "integer", "minimum": 1, "description": "Seconds to wait (429 and 503)"},
    },
    "required": ["error", "detail"],
}
_ERROR = {"$ref": "#/components/schemas/Error"}


def _error(description: str, **headers) -> dict:
    answer = {"description": description, "content": {"application/json": {"schema": _ERROR}}}
    if headers:
        answer["headers"] = {name: {"schema": schema} for name, schema in headers.items()}
    return answer


_RETRY_AFTER = {"type": "integer", "minimum": 1}

# The answers any address of the API may give (components.responses), referenced by each operation.
_ERROR_RESPONSES = {
    "BadRequest": _error("The parameters or the body are malformed: see error and detail"),
    "Unauthorized": _error(
        "An Authorization header that names no usable API key (malformed, unknown, expired or revoked)",
        **{"WWW-Authenticate": {"type": "string"}},
    ),
    "Forbidden": _error(
        "The API key may not make this call: error scope_not_allowed (the key lacks the scope: verify, share or "
        "batch) or network_not_allowed (the call comes from outside the networks registered for the key); "
        "detail says which"
    ),
    "Conflict": _error(
        "The Idempotency-Key conflicts: error idempotency_key_in_use (a request with it is still running; retry "
        "in a moment) or idempotency_key_reused (it was sent before with another request; use a new one)"
    ),
    "NotFound": _error("No such address in the API"),
    "MethodNotAllowed": _error(
        "Another method than the ones this document lists for the address", Allow={"type": "string"}
    ),
    "PayloadTooLarge": _error("A body over 128 KB, refused before it is read"),
    "UnsupportedMediaType": _error("A body sent with another Content-Type than application/json"),
    "TooManyRequests": _error(
        "Too many look-ups: from this address (30 a minute) without a key, "
        "or beyond the key's quotas (a minute, a day) with one",
        **{"Retry-After": _RETRY_AFTER, "RateLimit-Policy": {"type": "string"}, "RateLimit": {"type": "string"}},
    ),
    "ServerError": _error("A failure on the portal's side (last resort; nothing was recorded)"),
    "ServiceUnavailable": _error(
        "A service the portal needs (database, Redis) is not answering; nothing was checked or recorded. "
        "Try again after Retry-After seconds",
        **{"Retry-After": _RETRY_AFTER},
    ),
}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/responses/{name}"}


def _errors(*, body: bool = False, authenticated: bool = False, limited: bool = False) -> dict:
    """The error answers of one operation: those of every address, and those of its kind."""
    answers = {"400": _ref("BadRequest")}
    if authenticated:
        answers["401"] = _ref("Unauthorized")
        answers["403"] = _ref("Forbidden")
    answers["405"] = _ref("MethodNotAllowed")
    if authenticated:
        answers["409"] = _ref("Conflict")
    answers["413"] = _ref("PayloadTooLarge")
    if body:
        answers["415"] = _ref("UnsupportedMediaType")
    if limited:
        answers["429"] = _ref("TooManyRequests")
    answers["500"] = _ref("ServerError")
    answers["503"] = _ref("ServiceUnavailable")
    return answers


# Text without NUL bytes: the portal refuses those anywhere (400).
_TEXT = {"type": "string", "minLength": 1, "maxLength": 4096, "pattern": "^[^\\x00]*$"}

_LOOKUP = {
    "type": "object",
    "properties": {
        "code": {
            **_TEXT,
            "example": "K7QM-3XH9-RT4P-8WZN-C2VD-6JEB",
            "description": "Verification code printed under the QR code (case, spaces, dashes ignored)",
        },
        "token": {
            **_TEXT,
            "description": "The QR code's payload (DMN1...) or its whole text; the address and the payload "
            "must name the same certificate",
        },
    },
    "anyOf": [{"required": ["code"]}, {"required": ["token"]}],
}

# In an address (GET): printable ASCII, as a code and a QR text are; a code of at most 200
# characters (one has 29), a QR text of at most 2,400 (a token is at most 2,048, its address
# about 50 more): both, even if every character is percent-encoded, fit the request line the
# server reads (gunicorn's limit_request_line, 8,190 bytes; a longer one is refused before
# the portal sees it). verification/api.py QUERY_PARAMETER_LENGTHS.
_QUERY_TEXT = {"type": "string", "minLength": 1, "pattern": "^[\\x20-\\x7e]*$"}


def _no_nul(depth: int) -> dict:
    """Any value without a NUL byte, nested keys included: a fuzzer's object or array value
    arrives exploded (``x[k][0]=v``), its keys in the address too (refused with 400 there)."""
    schema = {"pattern": "^[^\\x00]*$"}
    if depth:
        schema.update(
            propertyNames={"pattern": "^[^\\x00]*$"}, additionalProperties=_no_nul(depth - 1), items=_no_nul(depth - 1)
        )
    return schema


_QUERY_LENGTHS = {"code": 200, "token": 2400}
_LOOKUP_QUERY = {
    **_LOOKUP,
    "properties": {
        **{
            name: {**schema, **_QUERY_TEXT, "maxLength": _QUERY_LENGTHS[name]}
            for name, schema in _LOOKUP["properties"].items()
        },
        # No type or enum: every value of a query string is text, so a fuzzer's "wrong type" 1 arrives
        # as the text "1"; any value but 1 means no receipt.
        "receipt": {"description": "1: answer with a signed receipt; any other value: the JSON answer", **_no_nul(4)},
    },
    # Other parameters are ignored, but no NUL byte anywhere in an address (400 before any view).
    # receipt=1: the answer as a signed receipt (application/jose), as with Accept: application/jose.
    # No "type": every value of a query string is text, so a type could only be violated on paper
    # (a fuzzer's "wrong type" -2255 arrives as the text "-2255", rightly accepted).
    "propertyNames": {"pattern": "^[^\\x00]*$"},
    "additionalProperties": _no_nul(4),
}


# An integrator's key (docs/integrators.md): optional on /verify, required on /share.
_SECURITY_SCHEMES = {
    "integratorKey": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "dmn_<prefix>_<secret>",
        "description": "An API key of an integrator organisation, registered by the fund's back office. "
        "Shown once when issued; rotatable, revocable and expiring. Its quotas replace the per-address limit, "
        "and every certificate it finds is shown to the holder.",
    }
}

_SHARE_FACTS = {
    "type": "object",
    "description": "Only the facts the holder chose to share, computed at the time of the request",
    "properties": {
        "employment": {
            "type": "object",
            "properties": {
                "active": {"type": "boolean"},
                "employer": {"type": "string"},
                "since": {"type": ["string", "null"], "format": "date"},
            },
            "required": ["active", "employer", "since"],
        },
        "employer_status": {
            "type": "object",
            "properties": {
                "employer": {"type": "string"},
                "state": {"enum": ["up_to_date", "one_behind", "in_arrears"]},
                "label": {"type": "string"},
            },
            "required": ["employer", "state", "label"],
        },
        "last_declared_period": {"type": ["string", "null"], "pattern": "^[0-9]{6}$", "example": "202610"},
    },
    "additionalProperties": False,
}

_SHARE_RESULT = {
    "oneOf": [
        {
            "type": "object",
            "title": "A usable share code",
            "properties": {
                "valid": {"const": True},
                "recipient": {"type": "string", "description": "Whom the holder made the code for"},
                "holder": {
                    "type": "object",
                    "properties": {"name": {"type": "string"}, "name_ar": {"type": "string"}},
                    "required": ["name", "name_ar"],
                },
                "as_of": {"type": "string", "format": "date-time"},
                "expires_at": {"type": "string", "format": "date-time"},
                "facts": _SHARE_FACTS,
            },
            "required": ["valid", "recipient", "holder", "as_of", "expires_at", "facts"],
        },
        {
            "type": "object",
            "title": "No usable share code",
            "description": "Unknown, malformed, expired and revoked codes all get this same answer.",
            "properties": {"valid": {"const": False}},
            "required": ["valid"],
            "additionalProperties": False,
        },
    ]
}


# What every look-up answer says about the caller's quotas (draft-ietf-httpapi-ratelimit-headers).
_RATELIMIT_HEADERS = {
    "RateLimit-Policy": {
        "description": 'The quotas that apply: \'"minute";q=600;w=60, "day";q=50000;w=86400\' with a key, '
        "'\"address\";q=30;w=60' without",
        "schema": {"type": "string"},
    },
    "RateLimit": {
        "description": 'What is left of each and the seconds until it starts again: \'"minute";r=599;t=42, '
        '"day";r=49999;t=50000\'',
        "schema": {"type": "string"},
    },
}

_RECEIPT = {
    "type": "string",
    "description": "A signed receipt: a JWS in compact serialisation (RFC 7515), ES256, kid the published key id "
    "of /verify/keys.json; its payload holds iss, iat, req (method, path, params), res (the JSON answer), and org "
    "and key with an API key (docs/integrators.md, 'Signed receipts'). Asked for with Accept: application/jose, "
    "or ?receipt=1 in the address (GET and POST)",
    "pattern": "^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$",
}

_IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "With an API key: a retry with the same value answers the first answer again, with the "
    "header Idempotent-Replayed: true, and records nothing twice (kept 24 hours). Any value is a key (a UUID is "
    "the usual choice); an empty one is none. Without an API key it is ignored (nothing is recorded).",
    # No type: a header is text, so a fuzzer's "wrong type" 0 arrives as the text "0", rightly accepted.
    "schema": {"description": "Any text; a UUID is the usual choice"},
    "example": "3f0c2a9e-5d1b-4c55-9a57-1b8c2f7d6e10",
}

# ?receipt=1 also works on the POST operations; it is described there in words only (the
# operations' description and _RECEIPT), not as a parameter: a fuzzer's object value for it is
# exploded into unnamed parameters the portal rightly ignores, which no schema can say.


def _ok(description: str, schema: dict, example=None) -> dict:
    json_content = {"schema": schema}
    if example is not None:
        json_content["example"] = example
    return {
        "description": description,
        "headers": _RATELIMIT_HEADERS,
        "content": {"application/json": json_content, "application/jose": {"schema": _RECEIPT}},
    }


_GENUINE_EXAMPLE = {
    "genuine": True,
    "state": "valid",
    "type": "employment",
    "number": "AT-2026-00000042",
    "holder": {
        "name": "BENNANI AMINA",
        "name_ar": "بناني أمينة",
        "cin_masked": "••••••56",
        "cnss_number_masked": "••••••561",
    },
    "issued_on": "2026-11-29",
    "valid_until": "2027-02-28",
    "revoked_on": None,
    "facts": {
        "employer": "MAROC DIGITAL SERVICES SA",
        "start_date": "2016-09-01",
        "reference_period": "202610",
        "days": 26,
    },
}


def _responses(*, body: bool):
    return {
        "200": _ok("The verdict", _RESULT, _GENUINE_EXAMPLE),
        **_errors(body=body, authenticated=True, limited=True),
    }


_BATCH_MAX = settings.DAMANE_API_BATCH_MAX
_BATCH_ITEM = {
    "type": "object",
    "properties": {"code": _TEXT, "token": _TEXT},
    "minProperties": 1,
    "maxProperties": 1,
    "additionalProperties": False,
}
_BATCH = {
    "type": "object",
    "properties": {"items": {"type": "array", "minItems": 1, "maxItems": _BATCH_MAX, "items": _BATCH_ITEM}},
    "required": ["items"],
    "example": {"items": [{"code": "K7QM-3XH9-RT4P-8WZN-C2VD-6JEB"}, {"token": "https://…/verify/…#DMN2…"}]},
}


OPENAPI = {
    "openapi": "3.1.0",
    "info": {
        "title": "Damane certificate verification",
        "version": "1.0.0",
        "description": (
            "Check that a CNSS certificate is genuine, current and unrevoked, from the verification code printed "
            "on it or from the payload of its QR code. Offline verifiers use the published keys "
            "(/verify/keys.json) and revocation list (/verify/revocations.json) instead: docs/verification.md. "
            "Every answer under /api/ is JSON: the errors, whatever went wrong and at any address (an unknown "
            "one answers 404), follow the Error schema, with Retry-After on 429 and 503."
        ),
    },
    "servers": [{"url": settings.SITE_URL}],
    "paths": {
        "/api/v1/verify": {
            "get": {
                "summary": "Verify a certificate",
                "operationId": "verifyCertificate",
                "security": [{}, {"integratorKey": []}],
                "parameters": [
                    {
                        # One object exploded into the query string (?code=... or ?token=...): the only
                        # way OpenAPI can say that one of the two is required.
                        "name": "lookup",
                        "in": "query",
                        "required": True,
                        "style": "form",
                        "explode": True,
                        "schema": _LOOKUP_QUERY,
                    },
                    _IDEMPOTENCY_KEY,
                ],
                "responses": _responses(body=False),
            },
            "post": {
                "summary": "Verify a certificate (JSON body)",
                "operationId": "verifyCertificatePost",
                "security": [{}, {"integratorKey": []}],
                "parameters": [_IDEMPOTENCY_KEY],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _LOOKUP}},
                },
                "responses": _responses(body=True),
            },
        },
        "/api/v1/verify/batch": {
            "post": {
                "summary": f"Verify up to {_BATCH_MAX} certificates in one request",
                "operationId": "verifyBatch",
                "description": "Each item is a code or a QR text, as for /api/v1/verify; the answer is one JSON "
                "array of the same verdicts in the same order. Each item counts as one look-up in the key's "
                "quotas; a batch larger than what is left of a quota is refused whole (429) and not counted in it. "
                "Needs a key with the batch scope.",
                "security": [{"integratorKey": []}],
                "parameters": [_IDEMPOTENCY_KEY],
                "requestBody": {"required": True, "content": {"application/json": {"schema": _BATCH}}},
                "responses": {
                    "200": _ok(
                        "The verdicts, in the order of the items",
                        {"type": "array", "items": _RESULT},
                        [_GENUINE_EXAMPLE, {"genuine": False}],
                    ),
                    **_errors(body=True, authenticated=True, limited=True),
                },
            }
        },
        "/api/v1/share": {
            "post": {
                "summary": "Read what a live share code shows, as of now",
                "operationId": "readShareCode",
                "description": "The code is the one the holder gave you (XXXXX-XXXXX-XXXXX; case, spaces and "
                "dashes ignored). Every use is recorded and shown to the holder.",
                "security": [{"integratorKey": []}],
                "parameters": [_IDEMPOTENCY_KEY],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {"code": {**_TEXT, "example": "K7QM3-XH9RT-4P8WZ"}},
                                "required": ["code"],
                            }
                        }
                    },
                },
                "responses": {
                    "200": _ok("The facts", _SHARE_RESULT),
                    **_errors(body=True, authenticated=True, limited=True),
                },
            }
        },
        "/api/v1/schemas/certificate.json": {
            "get": {
                "summary": "The JSON Schema of certificate.json, the facts embedded in every certificate PDF",
                "operationId": "certificateSchema",
                "security": [{}],
                "responses": {
                    "200": {
                        "description": "JSON Schema draft 2020-12 (docs/certificates.md)",
                        "content": {"application/schema+json": {"schema": {"type": "object"}}},
                    },
                    **_errors(),
                },
            }
        },
    },
    "components": {
        "schemas": {"Error": _ERROR_SCHEMA},
        "responses": _ERROR_RESPONSES,
        "securitySchemes": _SECURITY_SCHEMES,
    },
}


# Functions that add to the document what the apps above this one describe (the
# integrations app's webhooks), registered from their AppConfig.ready.
def document() -> dict:
    """The OpenAPI document, with the kinds registered now (certificates.registry) and the webhooks."""
    memo: dict = {}
    result = copy.deepcopy(OPENAPI, memo)
    # deepcopy copies the shared _KIND once; memo maps it to that copy.
    values = [kind.value for kind in registry.kinds()]
    memo[id(_KIND)]["enum"] = values
    memo[id(_FACTS)]["anyOf"] = _facts_shapes(values)
    # The integrators' webhooks (an app below this one): their events and payloads.
    webhooks_openapi.extend(result)
    return result
