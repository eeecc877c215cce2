"""Error reports to Sentry, when ``SENTRY_DSN`` is set, without personal data.

No request bodies, cookies, headers, user ids or local variables are sent
(``send_default_pii`` off, ``include_local_variables`` off), and every event is
passed through the log redaction (damane/logging.py) before it leaves.
"""

from __future__ import annotations

import json

import sentry_sdk
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.django import DjangoIntegration

from damane.logging import redact


def scrub(event: dict, hint: dict | None = None) -> dict:
    """The event with request data dropped and personal data redacted everywhere else."""
    request = event.get("request")
    if isinstance(request, dict):
        event["request"] = {key: request[key] for key in ("method", "url") if key in request}
        if "url" in event["request"]:
            # Paths may carry identifiers or a reset token: keep the route shape only.
            event["request"]["url"] = redact(event["request"]["url"].split("?")[0])
    event.pop("user", None)
    return json.loads(redact(json.dumps(event, default=str)))


def init_sentry(*, dsn: str, environment: str, traces_sample_rate: float) -> None:
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        send_default_pii=False,
        include_local_variables=False,
        max_request_body_size="never",
        traces_sample_rate=traces_sample_rate,
        before_send=scrub,
        before_send_transaction=scrub,
    )
