"""OpenAPI 3.1 description of the verification API, served at /api/v1/openapi.json."""

from django.conf import settings

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

_RESULT = {
    "oneOf": [
        {
            "type": "object",
            "title": "Genuine certificate",
            "properties": {
                "genuine": {"const": True},
                "state": {"enum": ["valid", "expired", "revoked", "replaced"]},
                "type": {
                    "enum": [
                        "employment",
                        "affiliation",
                        "non_affiliation",
                        "annual_salary",
                        "declared_days",
                        "deregistration",
                    ]
                },
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


def _responses():
    return {
        "200": {"description": "The verdict", "content": {"application/json": {"schema": _RESULT}}},
        "400": {
            "description": "Neither code nor token given, or not as text",
            "content": {"application/json": {"schema": _ERROR}},
        },
        "429": {
            "description": "Too many look-ups from this address (30 a minute)",
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
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _LOOKUP}},
                },
                "responses": _responses(),
            },
        }
    },
}
