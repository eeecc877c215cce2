"""An organisation's webhook endpoints, and the outbox of deliveries to them.

Imported by ``integrations.models`` so Django and its migrations find them.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class EventType(models.TextChoices):
    CERTIFICATE_REVOKED = "certificate.revoked", _("a certificate the organisation checked was revoked")
    SHARE_CODE_REVOKED = "share_code.revoked", _("a share code the organisation used was revoked")
    SHARE_CODE_EXPIRED = "share_code.expired", _("a share code the organisation used expired")
    API_KEY_EXPIRING = "api_key.expiring", _("one of its keys expires in 30, 7 or 1 days")
    QUOTA_THRESHOLD = "quota.threshold", _("a key reached 80 percent of its daily quota")


class WebhookEndpoint(models.Model):
    """An HTTPS address of an organisation, the events it takes, and the secret its deliveries are signed with.

    The secret is kept in clear (the fund signs with it); it is shown in full
    once, when the endpoint is registered. ``failing_since`` is the first
    failed attempt since the last success: an endpoint failing for
    ``DAMANE_WEBHOOK_DISABLE_AFTER_HOURS`` is disabled and its contact told.
    """

    organisation = models.ForeignKey(
        "integrations.Organisation", on_delete=models.PROTECT, related_name="webhook_endpoints"
    )
    url = models.URLField(_("address"), max_length=500)
    events = models.JSONField(_("events"), default=list)
    secret = models.CharField(max_length=80)
    is_active = models.BooleanField(_("active"), default=True)
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)
    disabled_reason = models.CharField(_("why disabled"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"{self.organisation} → {self.url}"

    @property
    def event_labels(self) -> list[str]:
        labels = dict(EventType.choices)
        return [str(labels.get(event, event)) for event in self.events]


class WebhookDelivery(models.Model):
    """The outbox: one row per event sent to one endpoint (and per replay), the idempotency key of its task.

    ``queued`` when the event's transaction commits, ``sending`` while a worker
    waits for the endpoint, then ``delivered`` (a 2xx answer) or ``failed``
    (after the last attempt, or when the endpoint was disabled). ``event_id``
    names the event for the receiver (repeated by retries and replays);
    ``dedupe_key`` makes an event recorded twice (a job run twice) one delivery.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        SENDING = "sending", _("sending")
        DELIVERED = "delivered", _("delivered")
        FAILED = "failed", _("failed")

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.PROTECT, related_name="deliveries")
    event_id = models.UUIDField(_("event id"), default=uuid.uuid4)
    event_type = models.CharField(_("event"), max_length=40, choices=EventType.choices)
    dedupe_key = models.CharField(max_length=120)
    payload = models.JSONField(_("payload"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    claimed_at = models.DateTimeField(_("last attempt at"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(_("answer"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    replay_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="replays", verbose_name=_("replay of")
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "dedupe_key"], condition=Q(replay_of__isnull=True), name="webhook_event_once"
            ),
        ]
        indexes = [
            models.Index(
                fields=["status", "created_at"],
                condition=Q(status__in=["queued", "sending"]),
                name="webhook_delivery_unfinished",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint_id} {self.status}"
