"""Log formatting: one JSON object a line, with the request id, and no personal data.

The formatters redact, from the finished line (message, arguments and traceback
alike), anything shaped like a CNSS number, a CIN, a phone number, a one-time
code or an e-mail address (docs/security.md §23). Code should not log such values in
the first place; this is the net under it, for library messages too (a provider
error quoting the number it refused).
"""

from __future__ import annotations

import logging
import re

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

_PATTERNS = [
    re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),  # e-mail address
    re.compile(r"\+\d{8,15}\b"),  # phone number, E.164
    re.compile(r"\b0[5-7]\d{8}\b"),  # phone number, national format
    re.compile(r"\b\d{9}\b"),  # CNSS number
    re.compile(r"\b\d{6}\b"),  # one-time code
    re.compile(r"\b[A-Z]{1,2}\d{4,6}\b"),  # CIN
]
MASK = "[redacted]"


def redact(text: str) -> str:
    for pattern in _PATTERNS:
        text = pattern.sub(MASK, text)
    return text


class RedactingJsonFormatter(JsonFormatter):
    def __init__(self, *args, **kwargs):
        # django.request attaches the request, whose text is the full path and
        # query string (a verification code, a reset token): never written out.
        kwargs.setdefault("reserved_attrs", [*RESERVED_ATTRS, "request", "server_time"])
        super().__init__(*args, **kwargs)

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class NoSecurityTraceback(logging.Filter):
    """Refusals a client causes are written on one line, without a traceback.

    Refused suspicious requests (a Host not in ALLOWED_HOSTS, a redirect over
    16 kB, a body over the upload limit, ...) are logged by Django on
    ``django.security.*`` at ERROR, and every other 4xx answer to an exception
    (403 for a permission refused, 400, 404) on ``django.request`` at WARNING,
    each with the exception's traceback. Any client can cause them, so a
    traceback each would let anyone fill the logs and hide real errors: the
    line stays (logger, status, the message), the traceback goes. A 5xx keeps
    its traceback: that one is ours to fix."""

    def filter(self, record: logging.LogRecord) -> bool:
        client_error = record.name == "django.request" and 400 <= getattr(record, "status_code", 0) < 500
        if record.name.startswith("django.security") or client_error:
            record.exc_info = None
            record.exc_text = None
            record.stack_info = None
        return True


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def logging_config(*, json: bool, level: str) -> dict:
    """The LOGGING setting: JSON (production) or plain lines (the demo), both redacted, with the request id."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "request_id": {"()": "django_guid.log_filters.CorrelationId", "correlation_id_field": "request_id"},
            "no_security_traceback": {"()": "damane.logging.NoSecurityTraceback"},
        },
        "formatters": {
            "json": {
                "()": "damane.logging.RedactingJsonFormatter",
                "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            },
            "plain": {
                "()": "damane.logging.RedactingFormatter",
                "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
            },
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json" if json else "plain",
                "filters": ["request_id", "no_security_traceback"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            # The request log (damane.middleware.RequestLogMiddleware) says it once, without the path.
            "django.server": {"level": "WARNING"},
            "django_guid": {"level": "WARNING"},
        },
    }
