"""The webhooks of the OpenAPI 3.1 document (its ``webhooks`` object): what an endpoint receives.

Added to the document served at /api/v1/openapi.json by
``verification.openapi.document``: verification sits above integrations in the
layers (docs/architecture.md), so it imports this module; this app never imports
verification.
"""

from __future__ import annotations

from integrations.webhooks import signing
from integrations.webhooks.models import EventType

_STAMP = {"type": "string", "format": "date-time"}
_KEY = {
    "type": "object",
    "properties": {"prefix": {"type": "string"}, "label": {"type": "string"}, "expires_at": _STAMP},
    "required": ["prefix", "label"],
}
_SHARE = {
    "type": "object",
    "properties": {
        "recipient": {"type": "string"},
        "last_symbols": {"type": "string", "minLength": 4, "maxLength": 4},
        "expires_at": _STAMP,
        "revoked_at": {"type": ["string", "null"], "format": "date-time"},
    },
    "required": ["recipient", "last_symbols", "expires_at", "revoked_at"],
}
DATA = {
    EventType.CERTIFICATE_REVOKED: {
        "type": "object",
        "properties": {
            "certificate": {
                "type": "object",
                "properties": {"number": {"type": "string"}, "type": {"type": "string"}, "revoked_at": _STAMP},
                "required": ["number", "type", "revoked_at"],
            }
        },
        "required": ["certificate"],
    },
    EventType.SHARE_CODE_REVOKED: {"type": "object", "properties": {"share_code": _SHARE}, "required": ["share_code"]},
    EventType.SHARE_CODE_EXPIRED: {"type": "object", "properties": {"share_code": _SHARE}, "required": ["share_code"]},
    EventType.API_KEY_EXPIRING: {
        "type": "object",
        "properties": {"api_key": _KEY, "days": {"type": "integer", "enum": [30, 7, 1]}},
        "required": ["api_key", "days"],
    },
    EventType.QUOTA_THRESHOLD: {
        "type": "object",
        "properties": {
            "api_key": _KEY,
            "window": {"type": "string", "enum": ["day"]},
            "limit": {"type": "integer"},
            "used": {"type": "integer"},
            "percent": {"type": "integer"},
        },
        "required": ["api_key", "window", "limit", "used", "percent"],
    },
}


def event_schema(event_type: str) -> dict:
    return {
        "type": "object",
        "properties": {
            "id": {"type": "string", "format": "uuid", "description": "The event; repeated by retries and replays."},
            "type": {"type": "string", "const": str(event_type)},
            "created": _STAMP,
            "data": DATA[event_type],
        },
        "required": ["id", "type", "created", "data"],
    }


def webhooks() -> dict:
    headers = {
        signing.HEADER: {
            "required": True,
            "description": "t=<unix seconds>,v1=<hex HMAC-SHA256 of t + '.' + body, keyed with the endpoint's "
            "secret>; refuse a t more than 300 s from your clock (docs/integrators.md).",
            "schema": {"type": "string", "pattern": r"^t=\d+,v1=[0-9a-f]{64}$"},
        },
        "Damane-Event": {"required": True, "schema": {"type": "string"}},
        "Damane-Delivery": {"required": True, "schema": {"type": "string"}},
    }
    return {
        str(event_type): {
            "post": {
                "summary": str(label),
                "operationId": "webhook_" + str(event_type).replace(".", "_"),
                "parameters": [{"name": name, "in": "header", **header} for name, header in headers.items()],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": event_schema(event_type)}},
                },
                "responses": {
                    "2XX": {"description": "Taken. Anything else (a redirect included) is retried with backoff."}
                },
            }
        }
        for event_type, label in EventType.choices
    }


def extend(document: dict) -> None:
    document["webhooks"] = webhooks()
