"""Writes: organisations, API keys (issue, rotate, revoke), share codes (create,
revoke, use) and the record of integrator look-ups. One transaction each, audited."""

from __future__ import annotations

import ipaddress
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext_lazy as _

from audit.services import audit_record
from integrations import tokens
from integrations.models import SCOPES, ApiKey, IntegratorVerification, Organisation, ShareCode, ShareCodeUse
from integrations.webhooks import events as webhook_events
from unregistered.models import UnregisteredPerson


class IntegrationError(Exception):
    """A refused change, with a message the person can act on."""


# --- Organisations and API keys (staff) ------------------------------------------


def organisation_register(*, name: str, kind: str, contact_email: str, actor, ip_address=None) -> Organisation:
    """A new organisation; its name is unique whatever the case (a database constraint: two
    registrations at once cannot both pass the check)."""
    taken = IntegrationError(_("An organisation with this name is already registered."))
    try:
        with transaction.atomic():
            if Organisation.objects.filter(name__iexact=name).exists():
                raise taken
            organisation = Organisation.objects.create(
                name=name, kind=kind, contact_email=contact_email, created_by=actor
            )
            audit_record(
                action="integrations.organisation.registered",
                obj=organisation,
                actor=actor,
                after={"name": name, "kind": kind, "contact_email": contact_email},
                ip_address=ip_address,
            )
    except IntegrityError:  # the constraint organisation_name_unique_any_case: another registration won
        raise taken from None
    return organisation


def organisation_set_active(*, organisation: Organisation, active: bool, actor, reason: str, ip_address=None):
    """Suspend an organisation (all its keys stop at once) or reinstate it.

    Refused when it is so already: someone else decided meanwhile, and nothing is written."""
    with transaction.atomic():
        organisation = Organisation.objects.select_for_update().get(pk=organisation.pk)
        if organisation.is_active == active:
            raise IntegrationError(
                _("This organisation is already active.") if active else _("This organisation is already suspended.")
            )
        organisation.is_active = active
        organisation.save(update_fields=["is_active"])
        audit_record(
            action="integrations.organisation.reinstated" if active else "integrations.organisation.suspended",
            obj=organisation,
            actor=actor,
            before={"is_active": not active},
            after={"is_active": active},
            reason=reason,
            ip_address=ip_address,
        )
    return organisation


MAX_NETWORKS = 20


def clean_scopes(scopes) -> list[str]:
    """The scopes in their canonical order; IntegrationError for none or an unknown one."""
    scopes = list(scopes)
    unknown = [scope for scope in scopes if scope not in SCOPES]
    if unknown or not scopes:
        raise IntegrationError(_("Choose at least one scope among: %(scopes)s.") % {"scopes": ", ".join(SCOPES)})
    return [scope for scope in SCOPES if scope in scopes]


def clean_networks(networks) -> list[str]:
    """The networks as canonical CIDR (``10.20.0.0/16``, ``2001:db8::/32``); IntegrationError for a bad one."""
    cleaned = []
    for text in networks:
        try:
            network = ipaddress.ip_network(str(text).strip(), strict=False)
        except ValueError:
            raise IntegrationError(
                _("“%(network)s” is not a network: write it as 10.20.0.0/16 or 2001:db8::/32.") % {"network": text}
            ) from None
        if str(network) not in cleaned:
            cleaned.append(str(network))
    if len(cleaned) > MAX_NETWORKS:
        raise IntegrationError(_("At most %(count)s networks per key.") % {"count": MAX_NETWORKS})
    return cleaned


def _new_key(
    *,
    organisation,
    label,
    valid_days,
    quota_per_minute,
    quota_per_day,
    actor,
    scopes=SCOPES,
    allowed_networks=(),
    sandbox=False,
) -> tuple[ApiKey, str]:
    for _attempt in range(5):
        prefix, plaintext = tokens.new_api_key(sandbox=sandbox)
        try:
            with transaction.atomic():
                key = ApiKey.objects.create(
                    organisation=organisation,
                    label=label,
                    prefix=prefix,
                    secret_sha256=tokens.sha256(plaintext),
                    quota_per_minute=quota_per_minute,
                    quota_per_day=quota_per_day,
                    created_by=actor,
                    expires_at=timezone.now() + timedelta(days=valid_days),
                    scopes=list(scopes),
                    allowed_networks=list(allowed_networks),
                )
            return key, plaintext
        except IntegrityError:  # the 40-bit prefix was taken: draw again
            continue
    raise IntegrationError(_("No key could be created; try again."))


def _key_values(key: ApiKey) -> dict:
    return {
        "prefix": key.prefix,
        "label": key.label,
        "quota_per_minute": key.quota_per_minute,
        "quota_per_day": key.quota_per_day,
        "expires_at": key.expires_at.isoformat(),
        "scopes": list(key.scopes),
        "allowed_networks": list(key.allowed_networks),
    }


def _lock_active(organisation_id: int) -> Organisation:
    """The organisation, locked against a suspension until the transaction ends; refused when suspended."""
    organisation = Organisation.objects.select_for_update().get(pk=organisation_id)
    if not organisation.is_active:
        raise IntegrationError(_("This organisation is suspended: it cannot get new keys."))
    return organisation


def api_key_issue(
    *,
    organisation: Organisation,
    label: str,
    valid_days: int,
    quota_per_minute: int,
    quota_per_day: int,
    actor,
    scopes=SCOPES,
    allowed_networks=(),
    ip_address=None,
) -> tuple[ApiKey, str]:
    """A new key; the plain text is returned once and never stored. IntegrationError for a suspended organisation,
    no scope or an unknown one, or a network that is not CIDR."""
    scopes = clean_scopes(scopes)
    allowed_networks = clean_networks(allowed_networks)
    if not 1 <= valid_days <= settings.DAMANE_API_KEY_MAX_VALID_DAYS:
        raise IntegrationError(
            _("A key is valid for at most %(days)s days.") % {"days": settings.DAMANE_API_KEY_MAX_VALID_DAYS}
        )
    with transaction.atomic():
        _lock_active(organisation.pk)
        key, plaintext = _new_key(
            organisation=organisation,
            label=label,
            valid_days=valid_days,
            quota_per_minute=quota_per_minute,
            quota_per_day=quota_per_day,
            actor=actor,
            scopes=scopes,
            allowed_networks=allowed_networks,
        )
        audit_record(
            action="integrations.api_key.issued", obj=key, actor=actor, after=_key_values(key), ip_address=ip_address
        )
    return key, plaintext


def sandbox_key_issue(*, organisation: Organisation, label: str, actor, ip_address=None) -> tuple[ApiKey, str]:
    """A sandbox key (``dmn_test_…``), at once and without a supervisor: it answers only from the
    fictitious certificates of integrations/sandbox.py and records nothing. Every scope, the default
    quotas, the longest validity. Audited as ``integrations.api_key.sandbox_issued``."""
    with transaction.atomic():
        _lock_active(organisation.pk)
        key, plaintext = _new_key(
            organisation=organisation,
            label=label,
            valid_days=settings.DAMANE_API_KEY_MAX_VALID_DAYS,
            quota_per_minute=settings.DAMANE_API_KEY_DEFAULT_PER_MINUTE,
            quota_per_day=settings.DAMANE_API_KEY_DEFAULT_PER_DAY,
            actor=actor,
            sandbox=True,
        )
        audit_record(
            action="integrations.api_key.sandbox_issued",
            obj=key,
            actor=actor,
            after=_key_values(key),
            ip_address=ip_address,
        )
    return key, plaintext


def api_key_rotate(*, key: ApiKey, actor, ip_address=None) -> tuple[ApiKey, str]:
    """A new key with the same label, quotas and validity; the old one keeps working
    for the grace period only, so the integrator can switch without an outage.
    IntegrationError for a suspended organisation: a rotation creates a key."""
    with transaction.atomic():
        _lock_active(key.organisation_id)
        old = ApiKey.objects.select_for_update().get(pk=key.pk)
        if old.state() != "active" or old.replaced_by_id:
            raise IntegrationError(_("Only an active key that was not rotated already can be rotated."))
        valid_days = max(1, (old.expires_at - old.created_at).days)
        new, plaintext = _new_key(
            organisation=old.organisation,
            label=old.label,
            valid_days=valid_days,
            quota_per_minute=old.quota_per_minute,
            quota_per_day=old.quota_per_day,
            actor=actor,
            scopes=old.scopes,
            allowed_networks=old.allowed_networks,
            sandbox=old.prefix.startswith(tokens.SANDBOX),
        )
        before = _key_values(old)
        grace_end = timezone.now() + timedelta(hours=settings.DAMANE_API_KEY_ROTATION_GRACE_HOURS)
        old.expires_at = min(old.expires_at, grace_end)
        old.replaced_by = new
        old.save(update_fields=["expires_at", "replaced_by"])
        audit_record(
            action="integrations.api_key.rotated",
            obj=old,
            actor=actor,
            before=before,
            after={**_key_values(old), "replaced_by": new.prefix},
            ip_address=ip_address,
        )
        audit_record(
            action="integrations.api_key.issued",
            obj=new,
            actor=actor,
            after={**_key_values(new), "replaces": old.prefix},
            ip_address=ip_address,
        )
    return new, plaintext


def api_key_restrict(*, key: ApiKey, scopes, allowed_networks, actor, ip_address=None) -> ApiKey:
    """Change what a key may call and from where; audited with the values before and after.

    Takes effect at the key's next request. Refused for a revoked or expired key, for no
    scope or an unknown one, and for a network that is not CIDR."""
    scopes = clean_scopes(scopes)
    allowed_networks = clean_networks(allowed_networks)
    with transaction.atomic():
        key = ApiKey.objects.select_for_update().get(pk=key.pk)
        if key.state() != "active":
            raise IntegrationError(_("Only an active key can be changed."))
        before = {"scopes": list(key.scopes), "allowed_networks": list(key.allowed_networks)}
        after = {"scopes": scopes, "allowed_networks": allowed_networks}
        if before == after:
            return key
        key.scopes, key.allowed_networks = scopes, allowed_networks
        key.save(update_fields=["scopes", "allowed_networks"])
        audit_record(
            action="integrations.api_key.restricted",
            obj=key,
            actor=actor,
            before=before,
            after=after,
            ip_address=ip_address,
        )
    return key


def api_key_revoke(*, key: ApiKey, actor, reason: str, ip_address=None) -> ApiKey:
    with transaction.atomic():
        key = ApiKey.objects.select_for_update().get(pk=key.pk)
        if key.revoked_at:
            raise IntegrationError(_("This key is already revoked."))
        key.revoked_at = timezone.now()
        key.revoked_by = actor
        key.revocation_reason = reason
        key.save(update_fields=["revoked_at", "revoked_by", "revocation_reason"])
        audit_record(
            action="integrations.api_key.revoked",
            obj=key,
            actor=actor,
            before={"revoked_at": None},
            after={"revoked_at": key.revoked_at.isoformat()},
            reason=reason,
            ip_address=ip_address,
        )
    return key


def authenticate(raw: str) -> ApiKey | None:
    """The usable key ``raw`` is, or None: malformed, unknown, expired, revoked and suspended look the same."""
    prefix = tokens.parse_api_key(raw)
    if prefix is None:
        return None
    key = ApiKey.objects.usable().select_related("organisation").filter(prefix=prefix).first()
    if key is None or not constant_time_compare(key.secret_sha256, tokens.sha256(raw)):
        return None
    return key


def key_used(key: ApiKey) -> None:
    """Note the last use, at most once a minute per key (a hot path: no write per request)."""
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > timedelta(minutes=1):
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)


def verification_record(*, key: ApiKey, certificate) -> IntegratorVerification:
    """An integrator found a genuine certificate: the holder will see it on their dashboard.

    The holder of a non-affiliation certificate issued to a person absent from
    the registry has no account: the look-up is recorded against the
    certificate alone (``insured`` empty), or against the registry record the
    person was linked to since; ``verifications_attach`` gives the earlier ones
    to that record when the link is made (docs/integrators.md).
    """
    insured_id = certificate.insured_id
    if insured_id is None and certificate.unregistered_person_id is not None:
        insured_id = (
            UnregisteredPerson.objects.filter(pk=certificate.unregistered_person_id)
            .values_list("linked_insured_id", flat=True)
            .first()
        )
    return IntegratorVerification.objects.create(
        organisation_id=key.organisation_id, api_key=key, certificate=certificate, insured_id=insured_id
    )


def verifications_attach(*, person, insured) -> int:
    """The look-ups of ``person``'s certificates (absent from the registry then) now shown to ``insured``."""
    return IntegratorVerification.objects.filter(certificate__unregistered_person=person, insured__isnull=True).update(
        insured=insured
    )


# --- Share codes (the insured) ------------------------------------------------------


def share_code_create(
    *,
    insured,
    employer,
    recipient: str,
    valid_days: int,
    show_employment: bool,
    show_employer_status: bool,
    show_last_period: bool,
    actor,
    ip_address=None,
) -> tuple[ShareCode, str]:
    """A new share code; its plain text is returned once and never stored."""
    if not (show_employment or show_employer_status or show_last_period):
        raise IntegrationError(_("Choose at least one fact to share."))
    if not 1 <= valid_days <= settings.DAMANE_SHARE_CODE_MAX_DAYS:
        raise IntegrationError(
            _("A share code is valid for at most %(days)s days.") % {"days": settings.DAMANE_SHARE_CODE_MAX_DAYS}
        )
    if not insured.employments.filter(employer=employer, end_date__isnull=True).exists():
        raise IntegrationError(_("Choose one of your current employers."))
    now = timezone.now()
    for _attempt in range(5):
        plaintext = tokens.new_share_code()
        try:
            with transaction.atomic():
                share = ShareCode.objects.create(
                    insured=insured,
                    employer=employer,
                    recipient=recipient,
                    code_digest=tokens.share_code_digest(plaintext),
                    hint=plaintext[-4:],
                    show_employment=show_employment,
                    show_employer_status=show_employer_status,
                    show_last_period=show_last_period,
                    created_at=now,
                    expires_at=now + timedelta(days=valid_days),
                )
                audit_record(
                    action="integrations.share_code.created",
                    obj=share,
                    actor=actor,
                    insured=insured,
                    after={
                        "recipient": recipient,
                        "employer": employer.pk,
                        "show_employment": show_employment,
                        "show_employer_status": show_employer_status,
                        "show_last_period": show_last_period,
                        "expires_at": share.expires_at.isoformat(),
                    },
                    ip_address=ip_address,
                )
            return share, plaintext
        except IntegrityError:  # the same 74-bit code drawn twice: draw again
            continue
    raise IntegrationError(_("No code could be created; try again."))


def share_code_revoke(*, insured, share_id: int, actor, ip_address=None) -> ShareCode:
    with transaction.atomic():
        share = ShareCode.objects.select_for_update().filter(pk=share_id, insured=insured).first()
        if share is None:
            raise ShareCode.DoesNotExist
        if share.revoked_at:
            return share
        share.revoked_at = timezone.now()
        share.save(update_fields=["revoked_at"])
        audit_record(
            action="integrations.share_code.revoked",
            obj=share,
            actor=actor,
            insured=insured,
            before={"revoked_at": None},
            after={"revoked_at": share.revoked_at.isoformat()},
            ip_address=ip_address,
        )
        webhook_events.share_code_revoked(share)
    return share


def share_code_use(*, raw: str, channel: str, organisation: Organisation | None = None) -> ShareCode | None:
    """The usable share code ``raw`` names, with its use recorded; None when unknown,
    malformed, expired or revoked (the caller answers all of these the same way)."""
    code = tokens.normalize_share_code(raw)
    if code is None:
        return None
    with transaction.atomic():
        share = (
            ShareCode.objects.usable()
            .select_related("insured", "employer")
            .filter(code_digest=tokens.share_code_digest(code))
            .first()
        )
        if share is None:
            return None
        ShareCodeUse.objects.create(share_code=share, channel=channel, organisation=organisation)
    return share
