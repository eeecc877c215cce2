"""Prometheus metrics of the portal's own work (django-prometheus adds requests, database, cache).

Served at ``/metrics`` to holders of ``DAMANE_METRICS_TOKEN`` (``Authorization:
Bearer …``); with no token set, only in DEBUG. Labels never carry personal data:
a certificate kind, an outcome.
"""

from __future__ import annotations

import functools
import hmac
import time

from django.conf import settings
from django.http import Http404
from django_prometheus.exports import ExportToDjangoView
from prometheus_client import Counter, Histogram

CERTIFICATES_ISSUED = Counter(
    "damane_certificates_issued_total", "Certificate requests by kind and outcome", ["kind", "outcome"]
)
CERTIFICATE_ISSUE_SECONDS = Histogram(
    "damane_certificate_issue_seconds",
    "Time to issue a certificate (rules, PDF, signature, storage), by kind",
    ["kind"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10),
)
SMS_SENDS = Counter("damane_sms_sends_total", "SMS send attempts by outcome", ["outcome"])
EMAIL_SENDS = Counter("damane_email_sends_total", "Notice e-mail send attempts by outcome", ["outcome"])
EBDS_IMPORTS = Counter("damane_ebds_imports_total", "e-BDS file imports by outcome", ["outcome"])


def _outcome(exc: BaseException | None) -> str:
    return "ok" if exc is None else type(exc).__name__


def certificate_issue_measured(service):
    """Count ``certificate_issue`` calls by kind and outcome, and time the ones that issue."""

    @functools.wraps(service)
    def wrapper(*args, **kwargs):
        kind = str(kwargs.get("kind", ""))
        started = time.perf_counter()
        try:
            certificate = service(*args, **kwargs)
        except Exception as exc:
            CERTIFICATES_ISSUED.labels(kind=kind, outcome=_outcome(exc)).inc()
            raise
        CERTIFICATES_ISSUED.labels(kind=kind, outcome="issued").inc()
        CERTIFICATE_ISSUE_SECONDS.labels(kind=kind).observe(time.perf_counter() - started)
        return certificate

    return wrapper


def import_measured(service):
    """Count ``import_ebds`` calls by outcome (``ok`` or the refusal's class)."""

    @functools.wraps(service)
    def wrapper(*args, **kwargs):
        try:
            result = service(*args, **kwargs)
        except Exception as exc:
            EBDS_IMPORTS.labels(outcome=_outcome(exc)).inc()
            raise
        EBDS_IMPORTS.labels(outcome="ok").inc()
        return result

    return wrapper


def metrics_view(request):
    token = settings.DAMANE_METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise Http404
    elif not settings.DEBUG:
        raise Http404
    return ExportToDjangoView(request)
