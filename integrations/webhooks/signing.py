"""The ``Damane-Signature`` header of a webhook delivery, v1.

``Damane-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>`` where the HMAC is
keyed with the endpoint's secret (``whsec_`` and 43 URL-safe characters, 256
random bits) over the ASCII timestamp, a full stop, and the raw request body,
byte for byte. Each attempt is signed afresh (its own ``t``). A receiver
recomputes the HMAC, compares it in constant time, and refuses a ``t`` more
than ``TOLERANCE_SECONDS`` from its clock (the replay window); it keeps the
body's ``id`` to drop a delivery it already took (a retry or a replay repeats
it). docs/integrators.md, "Verifying a delivery", has the recipe and a client.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

HEADER = "Damane-Signature"
SECRET_PREFIX = "whsec_"  # noqa: S105  (a public marker, not a secret)
TOLERANCE_SECONDS = 300


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def header(secret: str, body: bytes, *, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify(
    secret: str, body: bytes, value: str, *, tolerance: int = TOLERANCE_SECONDS, now: float | None = None
) -> bool:
    """Whether ``value`` (the header) signs ``body`` with ``secret`` within the replay window."""
    parts = dict(item.split("=", 1) for item in value.split(",") if "=" in item)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), parts.get("v1", ""))
