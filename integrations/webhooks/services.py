"""Webhook writes: registering endpoints, recording events, delivering, replaying, disabling.

An event is recorded in the transaction of what caused it: one ``WebhookDelivery``
row per active endpoint of the organisation that takes its type (the outbox),
and the ``deliver`` task is sent when that transaction commits
(``damane.background.enqueue``). The row is the idempotency key: a delivery is
claimed and locked before its request is made, a second message for it finds
it claimed and leaves it alone. A failed attempt is scheduled again in the row
(``next_attempt_at``, exponential backoff with jitter, capped) and sent by the
outbox sweep, up to ``DAMANE_WEBHOOK_MAX_ATTEMPTS``.
"""

from __future__ import annotations

import json
import logging
import random
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from audit.services import audit_record
from damane.background import enqueue, outbox_claim_stale
from integrations.webhooks import signing, transport
from integrations.webhooks.models import EventType, WebhookDelivery, WebhookEndpoint

logger = logging.getLogger("integrations.webhooks")

MAX_ENDPOINTS = 5


class WebhookError(Exception):
    """A refused change, with a message the person can act on."""


# --- Endpoints ---------------------------------------------------------------------------


def endpoint_register(*, organisation, url: str, events: list[str], actor, ip_address=None):
    """A new endpoint and its secret (returned and shown once); ``WebhookError`` for an address not allowed."""
    try:
        _scheme, host, _port = transport.check_url(url)
    except transport.Refused:
        raise WebhookError(_("Give an https:// address with a host name.")) from None
    if transport.literal_refused(host):
        raise WebhookError(_("This address is private or reserved: give the public address of your server."))
    events = [event for event in EventType.values if event in set(events)]
    if not events:
        raise WebhookError(_("Choose at least one event."))
    with transaction.atomic():
        if organisation.webhook_endpoints.filter(is_active=True).count() >= MAX_ENDPOINTS:
            raise WebhookError(_("An organisation has at most %(count)s active endpoints.") % {"count": MAX_ENDPOINTS})
        secret = signing.new_secret()
        endpoint = WebhookEndpoint.objects.create(
            organisation=organisation, url=url, events=events, secret=secret, created_by=actor
        )
        audit_record(
            action="integrations.webhook.registered",
            obj=endpoint,
            actor=actor,
            after={"organisation": organisation.pk, "url": url, "events": events},
            ip_address=ip_address,
        )
    return endpoint, secret


def endpoint_set_active(*, endpoint: WebhookEndpoint, active: bool, actor, ip_address=None) -> WebhookEndpoint:
    """Switch an endpoint off, or on again (its failures forgotten). Refused when it is so already."""
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        if endpoint.is_active == active:
            raise WebhookError(
                _("This endpoint is already active.") if active else _("This endpoint is already disabled.")
            )
        endpoint.is_active = active
        endpoint.failing_since = None
        endpoint.disabled_at = None if active else timezone.now()
        endpoint.disabled_reason = "" if active else "switched off"
        endpoint.save(update_fields=["is_active", "failing_since", "disabled_at", "disabled_reason"])
        audit_record(
            action="integrations.webhook.enabled" if active else "integrations.webhook.disabled",
            obj=endpoint,
            actor=actor,
            before={"is_active": not active},
            after={"is_active": active},
            ip_address=ip_address,
        )
    return endpoint


def _disable_failing(endpoint: WebhookEndpoint, now: datetime) -> None:
    """Disable an endpoint that failed since ``failing_since`` and tell the organisation's contact (locked row)."""
    from accounts.notifications import send_notice

    endpoint.is_active = False
    endpoint.disabled_at = now
    endpoint.disabled_reason = "failing since {}".format(endpoint.failing_since.isoformat(timespec="minutes"))
    endpoint.save(update_fields=["is_active", "disabled_at", "disabled_reason"])
    audit_record(
        action="integrations.webhook.disabled",
        obj=endpoint,
        before={"is_active": True},
        after={"is_active": False, "failing_since": endpoint.failing_since.isoformat()},
        reason=endpoint.disabled_reason,
    )
    send_notice(
        to=endpoint.organisation.contact_email,
        template="webhook_disabled",
        context={
            "organisation": endpoint.organisation.name,
            "url": endpoint.url,
            "failing_since": endpoint.failing_since.date().isoformat(),
            "hours": settings.DAMANE_WEBHOOK_DISABLE_AFTER_HOURS,
        },
    )
    logger.warning("webhook endpoint %s disabled: failing since %s", endpoint.pk, endpoint.failing_since)


def endpoints_disable_failing(now: datetime | None = None) -> int:
    """Disable every active endpoint failing for ``DAMANE_WEBHOOK_DISABLE_AFTER_HOURS`` (the watch job)."""
    now = now or timezone.now()
    cutoff = now - timedelta(hours=settings.DAMANE_WEBHOOK_DISABLE_AFTER_HOURS)
    count = 0
    for pk in WebhookEndpoint.objects.filter(is_active=True, failing_since__lte=cutoff).values_list("pk", flat=True):
        with transaction.atomic():
            endpoint = WebhookEndpoint.objects.select_for_update().select_related("organisation").get(pk=pk)
            if endpoint.is_active and endpoint.failing_since and endpoint.failing_since <= cutoff:
                _disable_failing(endpoint, now)
                count += 1
    return count


# --- Events ------------------------------------------------------------------------------


def event_record(*, organisation_id: int, event_type: str, dedupe_key: str, data: dict) -> list[WebhookDelivery]:
    """Record an event for every active endpoint of the organisation that takes it; once per ``dedupe_key``.

    Called inside the transaction of what caused the event; the deliveries are
    sent when it commits.
    """
    from integrations.webhooks import tasks

    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(organisation_id=organisation_id, is_active=True)
        if event_type in endpoint.events
    ]
    if not endpoints:
        return []
    event_id = uuid.uuid4()
    now = timezone.now()
    payload = {
        "id": str(event_id),
        "type": event_type,
        "created": now.replace(microsecond=0).isoformat(),
        "data": data,
    }
    deliveries = []
    for endpoint in endpoints:
        try:
            with transaction.atomic():
                delivery = WebhookDelivery.objects.create(
                    endpoint=endpoint,
                    event_id=event_id,
                    event_type=event_type,
                    dedupe_key=dedupe_key,
                    payload=payload,
                    created_at=now,
                )
        except IntegrityError:  # this event was recorded for this endpoint already
            continue
        enqueue(tasks.deliver, delivery.pk)
        deliveries.append(delivery)
    return deliveries


def delivery_replay(*, delivery: WebhookDelivery, actor, ip_address=None) -> WebhookDelivery:
    """Send an event again, as it was (same ``id``, signed afresh), to an endpoint that is active."""
    from integrations.webhooks import tasks

    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=delivery.endpoint_id)
        if not endpoint.is_active:
            raise WebhookError(_("This endpoint is disabled: enable it before sending again."))
        if delivery.status not in (WebhookDelivery.Status.DELIVERED, WebhookDelivery.Status.FAILED):
            raise WebhookError(_("This delivery is still being tried."))
        original = delivery.replay_of or delivery
        replay = WebhookDelivery.objects.create(
            endpoint=endpoint,
            event_id=original.event_id,
            event_type=original.event_type,
            dedupe_key=original.dedupe_key,
            payload=original.payload,
            replay_of=original,
        )
        audit_record(
            action="integrations.webhook.replayed",
            obj=replay,
            actor=actor,
            after={"replay_of": original.pk, "event_id": str(original.event_id), "endpoint": endpoint.pk},
            ip_address=ip_address,
        )
        enqueue(tasks.deliver, replay.pk)
    return replay


# --- Delivering --------------------------------------------------------------------------


def retry_delay(attempts: int, *, rng: random.Random | None = None) -> timedelta:
    """Wait before the next attempt, after ``attempts`` failed ones: doubling from the first delay, capped, jittered."""
    ceiling = min(
        settings.DAMANE_WEBHOOK_RETRY_SECONDS * 2 ** max(attempts - 1, 0), settings.DAMANE_WEBHOOK_RETRY_MAX_SECONDS
    )
    return timedelta(seconds=ceiling / 2 + (rng or random).uniform(0, ceiling / 2))


def body_of(delivery: WebhookDelivery) -> bytes:
    return json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":")).encode()


def deliver(*, delivery_id: int) -> str:
    """Make one attempt of the delivery ``delivery_id``; return its status afterwards.

    A delivery found ``sending`` is being made by another message of the task
    and is left alone, unless its claim is older than
    ``DAMANE_OUTBOX_STUCK_AFTER_SECONDS`` (that worker died): then it is tried
    again, since the receiver drops an ``id`` it already took.
    """
    now = timezone.now()
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().select_related("endpoint").filter(pk=delivery_id).first()
        if delivery is None:
            return "missing"
        if delivery.status == WebhookDelivery.Status.SENDING and not outbox_claim_stale(delivery.claimed_at, now):
            return delivery.status
        if delivery.status not in (WebhookDelivery.Status.QUEUED, WebhookDelivery.Status.SENDING):
            return delivery.status
        if not delivery.endpoint.is_active:
            delivery.status = WebhookDelivery.Status.FAILED
            delivery.error = "endpoint disabled"
            delivery.next_attempt_at = None
            delivery.save(update_fields=["status", "error", "next_attempt_at"])
            return delivery.status
        delivery.status = WebhookDelivery.Status.SENDING
        delivery.attempts += 1
        delivery.claimed_at = now
        delivery.next_attempt_at = None
        delivery.save(update_fields=["status", "attempts", "claimed_at", "next_attempt_at"])
    endpoint = delivery.endpoint
    body = body_of(delivery)
    headers = {
        signing.HEADER: signing.header(endpoint.secret, body),
        "Damane-Event": delivery.event_type,
        "Damane-Delivery": str(delivery.pk),
    }
    status, error = None, ""
    try:
        answer = transport.post(endpoint.url, body, headers)
        status = answer.status
        if not 200 <= status < 300:
            error = f"answered {status}"
    except transport.Refused as exc:
        error = f"refused: {exc}"
    except (OSError, ValueError) as exc:  # connection, TLS, timeout, malformed answer
        error = f"{type(exc).__name__}: {exc}"
    return _finish(delivery, status=status, error=error)


def _finish(delivery: WebhookDelivery, *, status: int | None, error: str) -> str:
    now = timezone.now()
    with transaction.atomic():
        endpoint = (
            WebhookEndpoint.objects.select_for_update().select_related("organisation").get(pk=delivery.endpoint_id)
        )
        delivery.response_status = status
        delivery.error = error[:300]
        if not error:
            delivery.status = WebhookDelivery.Status.DELIVERED
            delivery.delivered_at = now
            if endpoint.failing_since is not None:
                endpoint.failing_since = None
                endpoint.save(update_fields=["failing_since"])
        else:
            logger.info("webhook delivery %s, attempt %s: %s", delivery.pk, delivery.attempts, error)
            if endpoint.failing_since is None:
                endpoint.failing_since = now
                endpoint.save(update_fields=["failing_since"])
            elif endpoint.is_active and now - endpoint.failing_since >= timedelta(
                hours=settings.DAMANE_WEBHOOK_DISABLE_AFTER_HOURS
            ):
                _disable_failing(endpoint, now)
            if endpoint.is_active and delivery.attempts < settings.DAMANE_WEBHOOK_MAX_ATTEMPTS:
                delivery.status = WebhookDelivery.Status.QUEUED
                delivery.next_attempt_at = now + retry_delay(delivery.attempts)
            else:
                delivery.status = WebhookDelivery.Status.FAILED
        delivery.save(update_fields=["status", "response_status", "error", "delivered_at", "next_attempt_at"])
    return delivery.status


def deliveries_due(now: datetime) -> list[int]:
    """Deliveries whose task must be sent now (the outbox sweep): lost, due for a retry, or held by a dead worker."""
    queued_before = now - timedelta(seconds=settings.DAMANE_OUTBOX_REQUEUE_AFTER_SECONDS)
    stuck_before = now - timedelta(seconds=settings.DAMANE_OUTBOX_STUCK_AFTER_SECONDS)
    queued = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.QUEUED)
    lost = queued.filter(attempts=0, created_at__lt=queued_before)
    retries = queued.filter(attempts__gt=0, next_attempt_at__lte=now)
    stuck = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.SENDING, claimed_at__lt=stuck_before)
    ids: list[int] = []
    for rows in (lost, retries, stuck):
        ids.extend(rows.order_by("pk").values_list("pk", flat=True)[:1000])
    return ids
