"""Issuing and revoking certificates. Each function is one transaction."""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import date

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record
from certificates import registry as kind_registry
from certificates import rules, signals
from certificates.documents import CertificateSnapshot, new_public_id, new_verification_code
from certificates.machine_readable import certificate_json_bytes
from certificates.models import Certificate, CertificateFile, CertificateNumberCounter, Channel
from certificates.qrpayload import payload_key_id, qr_claims, qr_url, sign_qr_payload
from certificates.rendering import render_certificate_pdf
from certificates.selectors import holder_of, insured_record
from certificates.signing import sign_pdf, signing_key_id
from damane.metrics import certificate_issue_measured
from registry.models import Employer, Insured

logger = logging.getLogger(__name__)


class CertificateBlocked(Exception):
    """Issuance refused by the rules; ``decision`` says why and the ways out."""

    def __init__(self, decision: rules.Blocked):
        super().__init__(decision.message)
        self.decision = decision


class CertificateError(Exception):
    """A certificate action refused for a reason the user can act on."""


def evaluate_record(record: rules.InsuredRecord, kind: str, options: rules.Options | None = None, *, today: date):
    """The rules' decision with the fund's numbers from settings."""
    return rules.evaluate(
        record,
        kind,
        options,
        today=today,
        max_days_per_quarter=settings.DAMANE_MAX_DAYS_PER_QUARTER,
        pension_days_threshold=settings.DAMANE_PENSION_DAYS_THRESHOLD,
        lookback_periods=settings.DAMANE_NON_AFFILIATION_LOOKBACK_PERIODS,
        salary_ceiling=settings.DAMANE_SALARY_CEILING_CENTIMES,
    )


def evaluate_for(insured: Insured, kind: str, options: rules.Options | None = None, *, today: date):
    """The rules' decision for this insured person today, read from the database."""
    return evaluate_record(insured_record(insured, today=today), kind, options, today=today)


def next_certificate_number(kind: str, year: int) -> str:
    """A number that never repeats, also across processes (docs/security.md §17)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT nextval('certificate_number_seq')")
            value = cursor.fetchone()[0]
    else:
        counter, _created = CertificateNumberCounter.objects.select_for_update().get_or_create(name="certificate")
        counter.value += 1
        counter.save(update_fields=["value"])
        value = counter.value
    return f"{kind_registry.get(kind).number_prefix}-{year}-{value:08d}"


def _fingerprint(kind: str, employer_id: int | None, facts: dict, holder: dict) -> str:
    payload = json.dumps(
        {"kind": kind, "employer": employer_id, "facts": facts, "holder": holder}, sort_keys=True, default=str
    )
    return hashlib.sha256(payload.encode()).hexdigest()


@certificate_issue_measured
def certificate_issue(
    *,
    insured: Insured,
    kind: str,
    options: rules.Options | None = None,
    actor=None,
    channel: str = Channel.ONLINE,
    locale: str = "fr",
    today: date | None = None,
    ip_address: str | None = None,
) -> Certificate:
    """Issue a certificate, or return the identical one already issued today.

    One transaction: the row, its number, its signed PDF and its audit entry
    exist together or not at all. The insured row is locked first, so a
    double-click or concurrent identical requests give one certificate.
    """
    today = today or timezone.localdate()
    if not kind_registry.is_online(kind):
        raise CertificateError(_("Unknown certificate type."))
    with transaction.atomic():
        insured = Insured.objects.select_for_update().get(pk=insured.pk)
        decision = evaluate_for(insured, kind, options, today=today)
        if not decision.allowed:
            raise CertificateBlocked(decision)

        certificate = certificate_store(
            insured=insured,
            kind=kind,
            facts=decision.facts,
            employer_id=decision.employer.id if decision.employer else None,
            actor=actor,
            channel=channel,
            locale=locale,
            today=today,
            ip_address=ip_address,
        )
    logger.info("certificate issued number=%s kind=%s channel=%s", certificate.number, kind, channel)
    return certificate


def holder_dict_of(insured: Insured) -> dict:
    holder = holder_of(insured)
    return {
        "cnss_number": holder.cnss_number,
        "cin": holder.cin,
        "last_name": holder.last_name,
        "first_name": holder.first_name,
        "last_name_ar": holder.last_name_ar,
        "first_name_ar": holder.first_name_ar,
        "birth_date": holder.birth_date.isoformat() if holder.birth_date else None,
    }


def certificate_store(
    *,
    insured: Insured | None,
    kind: str,
    facts: dict,
    employer_id: int | None = None,
    actor=None,
    channel: str = Channel.ONLINE,
    locale: str = "fr",
    today: date,
    ip_address: str | None = None,
    unregistered_person=None,
    holder: dict | None = None,
) -> Certificate:
    """Snapshot, number, render, sign, store and audit a certificate whose facts are decided.

    Call inside the caller's transaction, with the insured row locked. An
    identical certificate (same type, scope, facts, holder) issued the same day
    and not revoked is returned instead of a second one.
    """
    # The holder is an insured person, or a person the registry never knew
    # (unregistered.services), whose identity the agency recorded.
    owner = {"insured": insured} if insured is not None else {"unregistered_person": unregistered_person}
    holder_dict = holder if holder is not None else holder_dict_of(insured)
    fingerprint = _fingerprint(kind, employer_id, facts, holder_dict)
    existing = (
        Certificate.objects.filter(
            **owner, kind=kind, issued_on=today, request_fingerprint=fingerprint, revoked_at__isnull=True
        )
        .order_by("issued_at")
        .first()
    )
    if existing is not None:
        return existing

    snapshot = CertificateSnapshot.from_dict(
        {
            "kind": kind,
            "number": next_certificate_number(kind, today.year),
            "public_id": new_public_id(),
            "verification_code": new_verification_code(),
            "locale": locale,
            "issued_on": today.isoformat(),
            "valid_until": (today + relativedelta(months=settings.DAMANE_CERTIFICATE_VALIDITY_MONTHS)).isoformat(),
            "holder": holder_dict,
            "facts": facts,
        }
    )
    payload = sign_qr_payload(qr_claims(snapshot))
    pdf = sign_pdf(
        render_certificate_pdf(snapshot, qr_payload_url=qr_url(snapshot.public_id, payload)),
        embedded_json=certificate_json_bytes(snapshot),
    )
    certificate = Certificate.objects.create(
        kind=kind,
        number=snapshot.number,
        public_id=snapshot.public_id,
        verification_code=snapshot.verification_code,
        insured=insured,
        unregistered_person=unregistered_person,
        employer=Employer.objects.get(pk=employer_id) if employer_id else None,
        channel=channel,
        issued_by=actor if channel == Channel.AGENCY else None,
        locale=locale,
        issued_on=today,
        valid_until=snapshot.valid_until,
        request_fingerprint=fingerprint,
        snapshot=snapshot.to_dict(),
        pdf_sha256=hashlib.sha256(pdf).hexdigest(),
        pdf_size=len(pdf),
        signing_key_id=signing_key_id(),
        qr_key_id=payload_key_id(payload),
    )
    CertificateFile.objects.create(certificate=certificate, issued_on=certificate.issued_on, data=pdf)
    # A re-issued certificate of the same scope replaces the earlier ones:
    # they are never left silently valid (the verify page says so).
    Certificate.objects.filter(
        **owner, kind=kind, employer_id=employer_id, revoked_at__isnull=True, superseded_by__isnull=True
    ).exclude(pk=certificate.pk).update(superseded_by=certificate)
    after = {"number": certificate.number, "kind": kind, "channel": channel, "sha256": certificate.pdf_sha256}
    if unregistered_person is not None:
        after["unregistered_person"] = unregistered_person.pk
    audit_record(
        action="certificates.certificate.issued",
        obj=certificate,
        actor=actor,
        insured=insured,
        after=after,
        ip_address=ip_address,
    )
    return certificate


def certificate_revoke(*, certificate: Certificate, actor, reason: str, ip_address: str | None = None) -> Certificate:
    reason = (reason or "").strip()
    if not reason:
        raise CertificateError(_("A reason is required to revoke a certificate."))
    with transaction.atomic():
        certificate = Certificate.objects.select_for_update().get(pk=certificate.pk)
        if certificate.revoked_at is not None:
            raise CertificateError(_("This certificate is already revoked."))
        certificate.revoked_at = timezone.now()
        certificate.revoked_by = actor
        certificate.revocation_reason = reason
        certificate.save(update_fields=["revoked_at", "revoked_by", "revocation_reason"])
        audit_record(
            action="certificates.certificate.revoked",
            obj=certificate,
            actor=actor,
            insured=certificate.insured,
            before={"revoked_at": None},
            after={"revoked_at": certificate.revoked_at.isoformat()},
            reason=reason,
            ip_address=ip_address,
        )
        # In the transaction: the apps above (webhooks) record their outbox rows with it.
        signals.certificate_revoked.send(sender=Certificate, certificate=certificate)
    return certificate
