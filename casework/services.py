"""Requests the insured file with the agency, and what the agency decides."""

from __future__ import annotations

import logging

from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from audit.services import audit_record
from casework.models import Case, CaseDocument, CaseKind, CaseStatus
from casework.uploads import check_upload, random_name, safe_display_name
from damane.storage import removed_on_failure, store

logger = logging.getLogger(__name__)

# One open request of a kind (and employer) at a time: a second click returns it.
SINGLE_OPEN_KINDS = {CaseKind.EMPLOYER_NOTICE, CaseKind.ARREARS_REPORT, CaseKind.ID_UPDATE, CaseKind.NAME_CORRECTION}


class CaseError(Exception):
    pass


def _next_reference(year: int) -> str:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval('case_reference_seq')")
            value = cursor.fetchone()[0]
    else:
        value = (Case.objects.select_for_update().count() or 0) + 1
    return f"DEM-{year}-{value:07d}"


def case_create(
    *,
    insured,
    kind: str,
    employer=None,
    details: dict | None = None,
    message: str = "",
    documents=(),
    actor=None,
    ip_address: str | None = None,
) -> Case:
    """Record a request; supporting documents are validated before anything is written."""
    checked = [(upload, *check_upload(upload)) for upload in documents]
    # A file stored here is deleted again if anything below fails (damane/storage.py).
    with removed_on_failure() as stored, transaction.atomic():
        type(insured).objects.select_for_update().filter(pk=insured.pk).first()
        if kind in SINGLE_OPEN_KINDS:
            existing = Case.objects.filter(
                insured=insured, kind=kind, employer=employer, status__in=[CaseStatus.SUBMITTED, CaseStatus.IN_PROGRESS]
            ).first()
            if existing is not None:
                return existing
        case = Case.objects.create(
            reference=_next_reference(timezone.localdate().year),
            kind=kind,
            insured=insured,
            employer=employer,
            details=details or {},
            message=message,
            created_by=actor,
        )
        for upload, content_type, extension, sha256 in checked:
            document = CaseDocument(
                case=case,
                original_name=safe_display_name(upload.name),
                content_type=content_type,
                size=upload.size,
                sha256=sha256,
            )
            store(document.file, random_name(extension), upload, stored)
            document.save()
        if kind == CaseKind.NAME_CORRECTION:
            insured.identity_under_correction = True
            insured.save(update_fields=["identity_under_correction"])
        audit_record(
            action=f"casework.case.{kind}.submitted",
            obj=case,
            actor=actor,
            insured=insured,
            after={"reference": case.reference, "kind": kind, "details": case.details},
            ip_address=ip_address,
        )
        if kind == CaseKind.EMPLOYER_NOTICE and employer is not None and employer.email:
            _queue_employer_notice(case, employer)
    return case


def _queue_employer_notice(case: Case, employer) -> None:
    from accounts.notifications import send_notice

    send_notice(
        to=employer.email,
        template="employer_notice",
        context={
            "name": case.insured.full_name,
            "cnss": case.insured.cnss_number,
            "periods": ", ".join(case.details.get("missing_periods", [])),
            "reference": case.reference,
        },
        language=translation.get_language() or "",
    )


def case_decide(
    *, case: Case, actor, status: str, note: str, ip_address: str | None = None, notify: bool = True
) -> Case:
    """Set a request in progress or close it; the insured person is told by e-mail (``notify``)."""
    if status not in (CaseStatus.IN_PROGRESS, CaseStatus.DONE, CaseStatus.REJECTED):
        raise CaseError(_("Unknown decision."))
    if status in (CaseStatus.DONE, CaseStatus.REJECTED) and not note.strip():
        raise CaseError(_("Explain the decision in a note."))
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        if not case.is_open:
            raise CaseError(_("This request is already closed."))
        before = {"status": case.status}
        case.status = status
        case.decision_note = note.strip()
        case.handled_by = actor
        case.handled_at = timezone.now()
        case.save(update_fields=["status", "decision_note", "handled_by", "handled_at"])
        if case.kind == CaseKind.NAME_CORRECTION and not case.is_open:
            still_open = Case.objects.filter(
                insured=case.insured,
                kind=CaseKind.NAME_CORRECTION,
                status__in=[CaseStatus.SUBMITTED, CaseStatus.IN_PROGRESS],
            ).exists()
            if not still_open:
                case.insured.identity_under_correction = False
                case.insured.save(update_fields=["identity_under_correction"])
        audit_record(
            action=f"casework.case.{status}",
            obj=case,
            actor=actor,
            insured=case.insured,
            before=before,
            after={"status": status},
            reason=note,
            ip_address=ip_address,
        )
        if notify and before["status"] != status:
            from accounts.insured_notices import insured_notify

            insured_notify(insured=case.insured, event="request_status", reference=case.reference, status=status)
    return case
