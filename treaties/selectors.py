"""What the insured sees of their treaty requests: where each stands, and the certificate once issued."""

from __future__ import annotations

from dataclasses import dataclass

from casework.models import Case, CaseKind, CaseStatus
from certificates.models import Certificate
from treaties.models import ForeignPeriodVersion

RECEIVED = "received"  # no foreign periods recorded yet
CHECKING = "checking"  # periods recorded, waiting for the second officer or for issuance
ISSUED = "issued"
CLOSED = "closed"  # rejected, or closed without a certificate


@dataclass(frozen=True)
class TreatyProgress:
    case: Case
    stage: str
    certificate: Certificate | None


def treaty_progress(cases) -> list[TreatyProgress]:
    cases = [c for c in cases if c.kind == CaseKind.TREATY]
    if not cases:
        return []
    versions: dict[int, list[ForeignPeriodVersion]] = {}
    for version in ForeignPeriodVersion.objects.filter(case__in=cases).select_related("certificate"):
        versions.setdefault(version.case_id, []).append(version)
    progress = []
    for case in cases:
        mine = versions.get(case.pk, [])
        issued = [v.certificate for v in mine if v.certificate is not None]
        certificate = max(issued, key=lambda c: c.issued_at) if issued else None
        if certificate is not None:
            stage = ISSUED
        elif case.status in (CaseStatus.DONE, CaseStatus.REJECTED):
            stage = CLOSED
        elif mine:
            stage = CHECKING
        else:
            stage = RECEIVED
        progress.append(TreatyProgress(case=case, stage=stage, certificate=certificate))
    return progress


def treaty_progress_for(insured) -> list[TreatyProgress]:
    return treaty_progress(Case.objects.filter(insured=insured, kind=CaseKind.TREATY).order_by("-created_at"))
