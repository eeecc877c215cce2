"""What the console shows: an organisation's keys, their use per day, its endpoints and deliveries."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone

from damane.ratelimit import peek
from integrations.models import ApiKey, IntegratorVerification, ShareCodeUse
from integrations.webhooks.models import WebhookDelivery

USAGE_DAYS = 14
DELIVERIES_SHOWN = 50
DAY = 24 * 60 * 60


def keys(organisation) -> list[dict]:
    """Each key with its state and its look-ups counted today against the daily quota (the API's own counter)."""
    now = timezone.now()
    rows = []
    for key in ApiKey.objects.filter(organisation=organisation).select_related("replaced_by"):
        state = key.state(now)
        today = peek(f"apikey:{key.pk}:{DAY}", limit=key.quota_per_day, window=DAY).count if state == "active" else 0
        rows.append({"key": key, "state": state, "today": today, "scopes": _scopes(key)})
    return rows


def _scopes(key) -> list[str]:
    """The key's scopes where keys have some (issue 26 item 5), as a list whatever their stored form."""
    scopes = getattr(key, "scopes", None)
    if not scopes:
        return []
    if isinstance(scopes, str):
        return [part for part in scopes.replace(",", " ").split() if part]
    return [str(part) for part in scopes]


def usage_per_day(organisation, *, days: int = USAGE_DAYS) -> list[dict]:
    """Genuine certificates found and share codes read, per day (the fund's time zone), newest first."""
    today = timezone.localdate()
    since = today - timedelta(days=days - 1)
    checks = dict(
        IntegratorVerification.objects.filter(organisation=organisation, at__date__gte=since)
        .annotate(day=TruncDate("at"))
        .values("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    shares = dict(
        ShareCodeUse.objects.filter(organisation=organisation, at__date__gte=since)
        .annotate(day=TruncDate("at"))
        .values("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    return [
        {"day": day, "certificates": checks.get(day, 0), "share_codes": shares.get(day, 0)}
        for day in (today - timedelta(days=offset) for offset in range(days))
    ]


def deliveries(organisation, *, limit: int = DELIVERIES_SHOWN):
    return (
        WebhookDelivery.objects.filter(endpoint__organisation=organisation)
        .select_related("endpoint")
        .order_by("-created_at", "-pk")[:limit]
    )
