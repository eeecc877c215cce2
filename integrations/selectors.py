"""Reads: what a share code shows as of now, and what the holder sees of every use."""

from __future__ import annotations

from django.utils import timezone

from declarations.models import DeclarationLine
from declarations.status import status_for_employer
from integrations.models import IntegratorVerification, ShareCode, ShareCodeUse


def share_facts(share: ShareCode, *, today=None) -> dict:
    """Only the facts the holder chose, computed now (never copied when the code was made).

    ``employment``: whether the holder is still employed by the chosen employer;
    ``employer_status``: that employer's declaration status today;
    ``last_declared_period``: the last period that employer declared the holder (YYYYMM).
    """
    today = today or timezone.localdate()
    facts: dict = {}
    if share.show_employment:
        active = share.insured.employments.filter(employer=share.employer, end_date__isnull=True).first()
        facts["employment"] = {
            "active": active is not None,
            "employer": share.employer.name,
            "since": active.start_date.isoformat() if active else None,
        }
    if share.show_employer_status:
        status = status_for_employer(share.employer, today=today)
        facts["employer_status"] = {
            "employer": share.employer.name,
            "state": status.state,
            "label": str(status.label),
        }
    if share.show_last_period:
        last = (
            DeclarationLine.objects.filter(insured=share.insured, employer=share.employer, is_current=True)
            .order_by("-period")
            .values_list("period", flat=True)
            .first()
        )
        facts["last_declared_period"] = last
    return facts


def share_answer(share: ShareCode) -> dict:
    """The JSON answer for a usable code: the holder's name, the recipient it was made for, the chosen facts."""
    insured = share.insured
    return {
        "valid": True,
        "recipient": share.recipient,
        "holder": {"name": insured.full_name, "name_ar": insured.full_name_ar or ""},
        "as_of": timezone.now().replace(microsecond=0).isoformat(),
        "expires_at": share.expires_at.replace(microsecond=0).isoformat(),
        "facts": share_facts(share),
    }


def checks_for_holder(insured, *, limit: int = 10) -> list[dict]:
    """The latest integrator look-ups and share code uses of ``insured``, newest first."""
    verifications = (
        IntegratorVerification.objects.filter(insured=insured)
        .select_related("organisation", "certificate")
        .order_by("-at")[:limit]
    )
    uses = (
        ShareCodeUse.objects.filter(share_code__insured=insured)
        .select_related("share_code", "organisation")
        .order_by("-at")[:limit]
    )
    items = [
        {"kind": "verification", "at": v.at, "who": v.organisation.name, "certificate": v.certificate}
        for v in verifications
    ] + [
        {
            "kind": "share",
            "at": u.at,
            "who": u.organisation.name if u.organisation_id else None,
            "recipient": u.share_code.recipient,
            "channel": u.channel,
        }
        for u in uses
    ]
    return sorted(items, key=lambda item: item["at"], reverse=True)[:limit]
