"""What becomes a webhook event, and the data each carries (docs/integrators.md, "Events").

- ``certificate.revoked``: the certificates app's ``certificate_revoked`` signal
  (this app listens; the lower app never imports it), for every organisation
  that found that certificate with a key.
- ``share_code.revoked``: ``integrations.services.share_code_revoke``; and
  ``share_code.expired``: the watch job; for every organisation that used the code.
- ``api_key.expiring``: the watch job, when a key has 30, 7 or 1 days left
  (once per threshold, the smallest that applies).
- ``quota.threshold``: the API, on the look-up that reaches 80 % of a key's
  daily quota (once a day per key). The minute quota is not reported: its window
  ends before a delivery could help.

No event carries personal data: certificates by number and type, share codes
by their recipient and last four symbols, keys by prefix and label.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from django.utils import timezone

from integrations.webhooks.models import EventType
from integrations.webhooks.services import endpoints_disable_failing, event_record

EXPIRY_NOTICE_DAYS = (1, 7, 30)
QUOTA_THRESHOLD_PERCENT = 80
# How far back the watch looks for share codes that expired (it runs hourly).
EXPIRED_LOOKBACK = timedelta(days=7)


def on_certificate_revoked(sender, certificate, **kwargs) -> None:
    from integrations.models import IntegratorVerification

    organisations = (
        IntegratorVerification.objects.filter(certificate=certificate)
        .values_list("organisation_id", flat=True)
        .distinct()
    )
    data = {
        "certificate": {
            "number": certificate.number,
            "type": certificate.kind,
            "revoked_at": certificate.revoked_at.replace(microsecond=0).isoformat(),
        }
    }
    for organisation_id in organisations:
        event_record(
            organisation_id=organisation_id,
            event_type=EventType.CERTIFICATE_REVOKED,
            dedupe_key=f"certificate.revoked:{certificate.pk}",
            data=data,
        )


def _share_data(share) -> dict:
    return {
        "share_code": {
            "recipient": share.recipient,
            "last_symbols": share.hint,
            "expires_at": share.expires_at.replace(microsecond=0).isoformat(),
            "revoked_at": share.revoked_at.replace(microsecond=0).isoformat() if share.revoked_at else None,
        }
    }


def _share_users(share) -> list[int]:
    return list(share.uses.filter(organisation__isnull=False).values_list("organisation_id", flat=True).distinct())


def share_code_revoked(share) -> None:
    for organisation_id in _share_users(share):
        event_record(
            organisation_id=organisation_id,
            event_type=EventType.SHARE_CODE_REVOKED,
            dedupe_key=f"share_code.ended:{share.pk}",
            data=_share_data(share),
        )


def quota_reached(key, *, used: int, limit: int, day_slot: int) -> None:
    """Called on each keyed look-up with the day's count: an event on the one that reaches the threshold."""
    if used != math.ceil(limit * QUOTA_THRESHOLD_PERCENT / 100):
        return
    event_record(
        organisation_id=key.organisation_id,
        event_type=EventType.QUOTA_THRESHOLD,
        dedupe_key=f"quota.threshold:{key.pk}:{day_slot}",
        data={
            "api_key": {"prefix": key.prefix, "label": key.label},
            "window": "day",
            "limit": limit,
            "used": used,
            "percent": QUOTA_THRESHOLD_PERCENT,
        },
    )


def watch(now: datetime | None = None) -> dict[str, int]:
    """The hourly job: keys about to expire, share codes that expired, endpoints failing too long."""
    from integrations.models import ApiKey, ShareCode

    now = now or timezone.now()
    counts = {"api_key.expiring": 0, "share_code.expired": 0, "disabled": 0}
    horizon = now + timedelta(days=max(EXPIRY_NOTICE_DAYS))
    keys = ApiKey.objects.usable(now).filter(expires_at__lte=horizon, replaced_by__isnull=True)
    for key in keys:
        left = key.expires_at - now
        days = next(d for d in EXPIRY_NOTICE_DAYS if left <= timedelta(days=d))
        counts["api_key.expiring"] += len(
            event_record(
                organisation_id=key.organisation_id,
                event_type=EventType.API_KEY_EXPIRING,
                dedupe_key=f"api_key.expiring:{key.pk}:{days}",
                data={
                    "api_key": {
                        "prefix": key.prefix,
                        "label": key.label,
                        "expires_at": key.expires_at.replace(microsecond=0).isoformat(),
                    },
                    "days": days,
                },
            )
        )
    expired = ShareCode.objects.filter(
        revoked_at__isnull=True,
        expires_at__lte=now,
        expires_at__gt=now - EXPIRED_LOOKBACK,
        uses__organisation__isnull=False,
    ).distinct()
    for share in expired:
        for organisation_id in _share_users(share):
            counts["share_code.expired"] += len(
                event_record(
                    organisation_id=organisation_id,
                    event_type=EventType.SHARE_CODE_EXPIRED,
                    dedupe_key=f"share_code.ended:{share.pk}",
                    data=_share_data(share),
                )
            )
    counts["disabled"] = endpoints_disable_failing(now)
    return counts
