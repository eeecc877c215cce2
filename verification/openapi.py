"""OpenAPI 3.1 description of the verification API, served at /api/v1/openapi.json."""

import copy

from django.conf import settings

from certificates import registry

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
                "facts": {"type": "object", "description": "Key facts of the certificate type, as printed"},
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

_ERROR = {
    "type": "object",
    "properties": {"error": {"type": "string"}, "detail": {"type": "string"}, "retry_after": {"type": "integer"}},
    "required": ["error"],
}


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


_UNAUTHORIZED = {
    "description": "An Authorization header that names no usable API key (malformed, unknown, expired or revoked)",
    "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
    "content": {"application/json": {"schema": _ERROR}},
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


def _responses():
    return {
        "200": {"description": "The verdict", "content": {"application/json": {"schema": _RESULT}}},
        "400": {
            "description": "Neither code nor token given, or not as text",
            "content": {"application/json": {"schema": _ERROR}},
        },
        "401": _UNAUTHORIZED,
        "429": {
            "description": "Too many look-ups: from this address (30 a minute) without a key, "
            "or beyond the key's quotas (a minute, a day) with one",
            "headers": {"Retry-After": {"schema": {"type": "integer"}}},
            "content": {"application/json": {"schema": _ERROR}},
        },
    }


OPENAPI = {
    "openapi": "3.1.0",
    "info": {
        "title": "Damane certificate verification",
        "version": "1.0.0",
        "description": (
            "Check that a CNSS certificate is genuine, current and unrevoked, from the verification code printed "
            "on it or from the payload of its QR code. Offline verifiers use the published keys "
            "(/verify/keys.json) and revocation list (/verify/revocations.json) instead: docs/verification.md."
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
                        "schema": _LOOKUP,
                    }
                ],
                "responses": _responses(),
            },
            "post": {
                "summary": "Verify a certificate (JSON body)",
                "operationId": "verifyCertificatePost",
                "security": [{}, {"integratorKey": []}],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _LOOKUP}},
                },
                "responses": _responses(),
            },
        },
        "/api/v1/share": {
            "post": {
                "summary": "Read what a live share code shows, as of now",
                "operationId": "readShareCode",
                "description": "The code is the one the holder gave you (XXXXX-XXXXX-XXXXX; case, spaces and "
                "dashes ignored). Every use is recorded and shown to the holder.",
                "security": [{"integratorKey": []}],
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
                    "200": {"description": "The facts", "content": {"application/json": {"schema": _SHARE_RESULT}}},
                    "400": {
                        "description": "No code given, or not as text",
                        "content": {"application/json": {"schema": _ERROR}},
                    },
                    "401": _UNAUTHORIZED,
                    "429": {
                        "description": "Beyond the key's quotas (a minute, a day)",
                        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
                        "content": {"application/json": {"schema": _ERROR}},
                    },
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
                    }
                },
            }
        },
    },
    "components": {"securitySchemes": _SECURITY_SCHEMES},
}


def document() -> dict:
    """The OpenAPI document, with the kinds registered now (certificates.registry)."""
    memo: dict = {}
    result = copy.deepcopy(OPENAPI, memo)
    # deepcopy copies the shared _KIND once; memo maps it to that copy.
    memo[id(_KIND)]["enum"] = [kind.value for kind in registry.kinds()]
    return result
