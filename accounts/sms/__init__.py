"""Sending SMS through a configurable backend, like Django's e-mail backends.

``settings.SMS_BACKEND`` names the backend: ``console`` (prints, for the demo),
``file`` (one file per message under ``settings.SMS_FILE_PATH``, so a person or
a browser test can read the code), ``locmem`` (kept in ``accounts.sms.outbox``
for tests) or ``twilio`` (the Twilio REST API, configured from the environment),
or a dotted path to a ``BaseSmsBackend`` subclass.

``send_sms`` records every message in the ``SmsMessage`` outbox with its status
and provider id. A provider failure never raises: the message is marked failed,
logged (without its text) and returned, and the caller decides what to tell the
person.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from accounts.sms.backends.base import BaseSmsBackend, SmsBackendError

__all__ = ["BaseSmsBackend", "SmsBackendError", "get_backend", "mask_phone", "outbox", "redact", "send_sms"]

logger = logging.getLogger("accounts.sms")

# Messages sent through the locmem backend, as (to, body) pairs: reset by tests.
outbox: list[tuple[str, str]] = []

BACKENDS = {
    "console": "accounts.sms.backends.console.ConsoleBackend",
    "file": "accounts.sms.backends.filebased.FileBackend",
    "locmem": "accounts.sms.backends.locmem.LocmemBackend",
    "twilio": "accounts.sms.backends.twilio.TwilioBackend",
}


def get_backend(name: str | None = None, **kwargs) -> BaseSmsBackend:
    name = name or settings.SMS_BACKEND
    return import_string(BACKENDS.get(name, name))(**kwargs)


def redact(body: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret:
            body = body.replace(secret, "•" * len(secret))
    return body


def mask_phone(phone: str) -> str:
    """``+212612345689`` -> ``+212 6•• ••• •89``: enough for a person to recognise their phone."""
    if phone.startswith("+212") and len(phone) == 13:
        national = phone[4:]
        return f"+212 {national[0]}•• ••• •{national[-2:]}"
    if len(phone) > 4:
        return "•" * (len(phone) - 2) + phone[-2:]
    return "•" * len(phone)


def send_sms(*, to: str, body: str, purpose: str, user=None, secrets: Iterable[str] = (), backend=None):
    """Send ``body`` to ``to`` (E.164) and record it in the outbox; return the ``SmsMessage``.

    ``secrets`` (the one-time code) are hidden in the stored text. Check the
    returned message's ``status``: ``sent`` or ``failed``.
    """
    from accounts.models import SmsMessage

    backend = backend or get_backend()
    message = SmsMessage.objects.create(
        to=to,
        body=redact(body, secrets),
        purpose=purpose,
        backend=backend.name,
        user=user if getattr(user, "pk", None) else None,
    )
    try:
        provider_id = backend.send(to=to, body=body)
    except SmsBackendError as exc:
        message.status = SmsMessage.Status.FAILED
        message.error = str(exc)[:2000]
        logger.warning("SMS %s (%s) failed: %s", message.pk, purpose, exc)
    else:
        message.status = SmsMessage.Status.SENT
        message.provider_id = provider_id or ""
        message.sent_at = timezone.now()
        logger.info("SMS %s (%s) sent, provider id %s", message.pk, purpose, provider_id)
    message.save(update_fields=["status", "error", "provider_id", "sent_at"])
    return message
