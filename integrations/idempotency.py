"""The ``Idempotency-Key`` header of the integrator API (docs/integrators.md, "Retries").

A look-up sent again with the same ``Idempotency-Key`` by the same API key gets
the first answer again, byte for byte, and records nothing a second time (no
second line in the holder's log, no second share-code use). Only an answer that
was given (2xx) is kept, for ``DAMANE_API_IDEMPOTENCY_HOURS``; after an error the
same key may be sent again and is run afresh.

Stored in the default cache (Redis in production, shared by every web process),
under the API key's id and a SHA-256 of the header, never the header itself:

* while the first request runs: ``{"fp": <fingerprint>, "pending": true}``, for at
  most ``PENDING_SECONDS`` (longer than any request may run), so a retry sent
  while the first is still running answers 409 rather than running twice;
* afterwards: ``{"fp", "status", "content_type", "body"}``.

The fingerprint is a SHA-256 of the method, the path, the query string, the
body and the ``Accept`` header: the same header with another request answers
409 ``idempotency_key_reused`` (the IETF draft draft-ietf-httpapi-idempotency-key-header
says 422, Stripe 400; 409 because the request is well formed and only conflicts with
what the key asked before, and both drafts' callers treat a 4xx as "do not retry").
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse

HEADER = "HTTP_IDEMPOTENCY_KEY"
PENDING_SECONDS = 120
REPLAYED_HEADER = "Idempotent-Replayed"


def header_value(request) -> str | None:
    """The header's value, or None when absent or empty. Any text is a key (the OpenAPI document
    promises no more): it is hashed, never stored or logged as sent."""
    return request.META.get(HEADER, "").strip() or None


def fingerprint(request) -> str:
    digest = hashlib.sha256()
    for part in (
        request.method,
        request.path_info,
        request.META.get("QUERY_STRING", ""),
        request.META.get("HTTP_ACCEPT", ""),
    ):
        digest.update(part.encode("utf-8", "surrogateescape") + b"\x00")
    digest.update(request.body)
    return digest.hexdigest()


def _cache_key(api_key_id: int, value: str) -> str:
    return f"idem:{api_key_id}:{hashlib.sha256(value.encode('utf-8', 'surrogateescape')).hexdigest()}"


@dataclass(frozen=True)
class Outcome:
    """``run``: go ahead and call ``finish``; else ``response`` is the answer (a replay, 409 or 422)."""

    run: bool
    response: HttpResponse | None = None
    cache_key: str = ""
    fp: str = ""


def begin(request, *, api_key_id: int, value: str, conflict, reused) -> Outcome:
    """Claim ``value`` for this request, or the answer to give instead.

    ``conflict()`` and ``reused()`` build the 409 and 422 answers (the caller's error shape).
    """
    key = _cache_key(api_key_id, value)
    fp = fingerprint(request)
    if cache.add(key, {"fp": fp, "pending": True}, timeout=PENDING_SECONDS):
        return Outcome(run=True, cache_key=key, fp=fp)
    stored = cache.get(key)
    if stored is None:  # it expired between the two calls: claim it again
        cache.add(key, {"fp": fp, "pending": True}, timeout=PENDING_SECONDS)
        return Outcome(run=True, cache_key=key, fp=fp)
    if stored.get("fp") != fp:
        return Outcome(run=False, response=reused())
    if stored.get("pending"):
        return Outcome(run=False, response=conflict())
    response = HttpResponse(
        base64.b64decode(stored["body"]), status=stored["status"], content_type=stored["content_type"]
    )
    response["Cache-Control"] = "no-store"
    response["Access-Control-Allow-Origin"] = "*"
    response[REPLAYED_HEADER] = "true"
    return Outcome(run=False, response=response)


def finish(outcome: Outcome, response: HttpResponse) -> None:
    """Keep a given answer for the retries to come; forget the claim of a failed one."""
    if 200 <= response.status_code < 300:
        cache.set(
            outcome.cache_key,
            {
                "fp": outcome.fp,
                "status": response.status_code,
                "content_type": response["Content-Type"],
                "body": base64.b64encode(response.content).decode("ascii"),
            },
            timeout=settings.DAMANE_API_IDEMPOTENCY_HOURS * 3600,
        )
    else:
        cache.delete(outcome.cache_key)
