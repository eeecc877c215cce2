"""Recording audit entries. Call inside the transaction of the change itself."""

from __future__ import annotations

from typing import Any

from django.db import models

from audit.models import AuditEntry


def audit_record(
    *,
    action: str,
    obj: models.Model,
    actor=None,
    insured=None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
    ip_address: str | None = None,
) -> AuditEntry:
    return AuditEntry.objects.create(
        action=action,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=actor.get_username() if getattr(actor, "pk", None) else "system",
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        insured=insured,
        before=before,
        after=after,
        reason=reason,
        ip_address=ip_address,
    )


def model_values(obj: models.Model, fields: list[str]) -> dict[str, Any]:
    """The named fields of ``obj`` as JSON-friendly values, for before/after."""
    values = {}
    for name in fields:
        value = getattr(obj, name)
        values[name] = value.isoformat() if hasattr(value, "isoformat") else value
    return values
