"""Recording audit entries. Call inside the transaction of the change itself.

Every action is declared once, with its label, in its app's ``audit_actions.py``
(``audit/actions.py``); an undeclared one is refused before anything is written.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from audit.actions import actions
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
    actions.get(action)  # UndeclaredAuditAction for a name no app declared
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


def audit_export_record(*, actor, filters: dict[str, Any], entries, ip_address: str | None = None):
    """Record an export of ``entries`` (a queryset) by ``actor``; return the export and the rows it covers.

    One transaction: the export row and its audit entry. The rows are the
    entries as they stand now, without the export's own entry.
    """
    from django.db import transaction

    from audit.models import AuditExport

    with transaction.atomic():
        last = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
        covered = entries.filter(id__lte=last)
        export = AuditExport.objects.create(actor=actor, filters=filters, rows=covered.count(), last_entry_id=last)
        audit_record(
            action="audit.trail.exported",
            obj=export,
            actor=actor,
            after={"filters": filters, "rows": export.rows},
            ip_address=ip_address,
        )
    return export, covered
