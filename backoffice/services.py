"""The back office's writes.

Staff login: password, then a TOTP code from a confirmed django-otp device
(docs/security.md §11). Both steps count failures under the same per-account lock as
insured logins (5 in 10 minutes, then 10 minutes), under their own ``staff:`` keys.

Agency work (docs/backoffice.md): identity changes proposed by an agent and
applied only when a *different* supervisor approves them (four eyes); request
decisions through casework; every look at a person's record traced in the audit.
"""

from __future__ import annotations

from datetime import date

from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.insured_notices import insured_notify
from accounts.models import User
from accounts.services import checked_login, login_throttle_key, totp_check
from audit.models import AuditEntry
from audit.services import audit_record, model_values
from backoffice.models import IDENTITY_FIELDS, IdentityChange
from casework.four_eyes import FourEyes, four_eyes_approve, four_eyes_propose, four_eyes_reject
from casework.models import Case, CaseKind, CaseStatus
from casework.services import CaseError, case_decide
from casework.uploads import check_upload, random_name, safe_display_name
from certificates.models import Certificate
from damane.roles import is_agency_staff, is_supervisor
from damane.storage import removed_on_failure, store
from registry.models import Insured, PreviousCin
from registry.validators import normalize_cin, normalize_phone, validate_cin, validate_phone


def find_staff_account(username: str) -> User | None:
    return User.objects.filter(username=username, is_staff=True, insured__isnull=True).first()


def staff_password_check(*, request, username: str, password: str) -> User:
    """The staff account for this username and password, or ``LoginFailed`` / ``LoginLocked``."""
    username = (username or "").strip()
    key = login_throttle_key("staff", find_staff_account(username), username)
    return checked_login(key=key, attempt=lambda: authenticate(request, staff_username=username, password=password))


def staff_token_check(*, user: User, token: str):
    """The second step of the staff login (``accounts.services.totp_check``)."""
    return totp_check(prefix="staff", user=user, token=token)


# --- Agency work: identity changes (four eyes), requests, traced access (roles: damane/roles.py)


class BackofficeError(Exception):
    """An agency action refused for a reason the staff member can act on."""


# Four eyes on identity changes: an agent or supervisor proposes, another supervisor decides.
IDENTITY_CHANGE_FOUR_EYES = FourEyes(
    model=IdentityChange,
    proposer="proposed_by",
    pending=IdentityChange.Status.PENDING,
    may_propose=is_agency_staff,
    may_decide=is_supervisor,
    error=BackofficeError,
    not_proposer=gettext_lazy("Only agency agents and supervisors can propose identity changes."),
    not_decider=gettext_lazy("Only a supervisor can approve or reject an identity change."),
    not_pending=gettext_lazy("This change has already been decided."),
    own_proposal=gettext_lazy("You proposed this change: another supervisor must decide it (four-eyes rule)."),
    approved=IdentityChange.Status.APPROVED,
    rejected=IdentityChange.Status.REJECTED,
    reject_note_required=gettext_lazy("Explain why the change is rejected."),
    one_pending_per="insured",
    already_pending=gettext_lazy(
        "A change to this record is already waiting for approval. Have it decided before proposing another."
    ),
)


def insured_viewed(*, insured: Insured, actor: User, ip_address: str | None = None) -> AuditEntry:
    """Trace a staff member's look at one person's record (personal data access)."""
    return audit_record(
        action="backoffice.insured.viewed", obj=insured, actor=actor, insured=insured, ip_address=ip_address or None
    )


def certificate_downloaded(*, certificate: Certificate, actor: User, ip_address: str | None = None) -> AuditEntry:
    return audit_record(
        action="backoffice.certificate.downloaded",
        obj=certificate,
        actor=actor,
        insured=certificate.insured,
        after={"number": certificate.number},
        ip_address=ip_address or None,
    )


def clean_identity_value(name: str, value) -> str:
    """One identity field as stored in a proposal (text, '' when empty); ValidationError when invalid."""
    if name not in IDENTITY_FIELDS:
        raise ValueError(f"not an identity field: {name!r}")
    if value is None:
        return ""
    if name in ("last_name", "first_name"):
        return " ".join(str(value).upper().split())
    if name in ("last_name_ar", "first_name_ar"):
        return " ".join(str(value).split())
    if name == "cin":
        cin = normalize_cin(str(value))
        if cin:
            validate_cin(cin)
        return cin
    if name == "phone":
        phone = normalize_phone(str(value))
        validate_phone(phone)
        return phone
    if name == "sex":
        if value and value not in Insured.Sex.values:
            raise ValidationError(_("Choose the sex from the list."), code="sex")
        return str(value)
    # birth_date
    if value == "":
        return ""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            raise ValidationError(_("Enter the birth date as a valid date."), code="birth_date") from None
    today = timezone.localdate()
    if value > today or value < date(1900, 1, 1):
        raise ValidationError(_("The birth date must be between 1900 and today."), code="birth_date")
    return value.isoformat()


def _current_identity(insured: Insured) -> dict[str, str]:
    return {name: "" if value is None else value for name, value in model_values(insured, IDENTITY_FIELDS).items()}


def _check_cin_free(*, insured: Insured, cin: str) -> None:
    if Insured.objects.filter(cin=cin).exclude(pk=insured.pk).exists():
        raise BackofficeError(_("The CIN %(cin)s is the current CIN of another insured person.") % {"cin": cin})
    if PreviousCin.objects.filter(cin=cin).exclude(insured=insured).exists():
        raise BackofficeError(
            _("The CIN %(cin)s is in the ID history of another insured person. Check both records first.")
            % {"cin": cin}
        )
    if PreviousCin.objects.filter(cin=cin, insured=insured).exists():
        raise BackofficeError(
            _("The CIN %(cin)s is an earlier CIN of this person: the current CIN cannot go back to it.") % {"cin": cin}
        )


def _sync_identity_flag(insured: Insured) -> None:
    """Under correction while a printed-identity change waits or a name-correction request is open."""
    pending = any(
        change.changes_printed_identity for change in IdentityChange.objects.pending().filter(insured=insured)
    )
    open_case = Case.objects.filter(
        insured=insured, kind=CaseKind.NAME_CORRECTION, status__in=[CaseStatus.SUBMITTED, CaseStatus.IN_PROGRESS]
    ).exists()
    flag = pending or open_case
    if insured.identity_under_correction != flag:
        insured.identity_under_correction = flag
        insured.save(update_fields=["identity_under_correction", "updated_at"])


def identity_change_propose(
    *,
    insured: Insured,
    actor: User,
    values: dict,
    reason: str,
    document,
    case: Case | None = None,
    ip_address: str | None = None,
) -> IdentityChange:
    """Record an agent's proposed correction; nothing in the registry changes until a supervisor approves it."""
    IDENTITY_CHANGE_FOUR_EYES.require_proposer(actor)
    reason = (reason or "").strip()
    if not reason:
        raise BackofficeError(_("Give the reason for the change."))
    if document is None:
        raise BackofficeError(_("Attach the supporting document (copy of the national ID or civil-registry record)."))
    try:
        cleaned = {name: clean_identity_value(name, value) for name, value in values.items()}
        content_type, extension, sha256 = check_upload(document)
    except ValidationError as error:
        raise BackofficeError(" ".join(error.messages)) from None
    with removed_on_failure() as stored, transaction.atomic():  # no file left if this fails
        insured = Insured.objects.select_for_update().get(pk=insured.pk)
        current = _current_identity(insured)
        proposed = {name: value for name, value in cleaned.items() if value != current[name]}
        if not proposed:
            raise BackofficeError(_("The proposed values are those already in the registry: nothing to change."))
        if "last_name" in proposed and not proposed["last_name"]:
            raise BackofficeError(_("The last name cannot be empty."))
        if "cin" in proposed:
            if not proposed["cin"]:
                raise BackofficeError(_("A CIN cannot be removed, only replaced by the new one."))
            _check_cin_free(insured=insured, cin=proposed["cin"])
        if case is not None:
            if case.insured_id != insured.pk or case.kind not in (CaseKind.NAME_CORRECTION, CaseKind.ID_UPDATE):
                raise BackofficeError(_("This request cannot be resolved by an identity change of this person."))
            if not case.is_open:
                raise BackofficeError(_("This request is already closed."))
        change = IdentityChange(
            insured=insured,
            proposed=proposed,
            previous={name: current[name] for name in proposed},
            reason=reason,
            document_name=safe_display_name(document.name),
            document_type=content_type,
            document_size=document.size,
            document_sha256=sha256,
            case=case,
        )
        store(change.document, random_name(extension), document, stored)
        four_eyes_propose(
            flow=IDENTITY_CHANGE_FOUR_EYES,
            record=change,
            actor=actor,
            action="backoffice.identity_change.proposed",
            then=lambda change: _sync_identity_flag(insured),
            insured=insured,
            before=change.previous,
            after=change.proposed,
            reason=reason,
            ip_address=ip_address,
        )
    return change


def _change_reference(change: IdentityChange) -> str:
    """What the notice names: the request the change resolves, else the change's own number."""
    return change.case.reference if change.case_id else f"MI-{change.pk:07d}"


def identity_change_approve(
    *, change: IdentityChange, actor: User, note: str = "", ip_address: str | None = None
) -> IdentityChange:
    """Apply a pending change to the registry, decided by a supervisor who did not propose it."""

    locked = {}

    def check_registry(change: IdentityChange) -> None:
        # Before the decision is written: the person's record (locked after the change, as
        # everywhere) is still as proposed, and a new CIN is still free.
        insured = Insured.objects.select_for_update().get(pk=change.insured_id)
        current = _current_identity(insured)
        if any(current[name] != value for name, value in change.previous.items()):
            raise BackofficeError(
                _("The record changed since this change was proposed. Reject it and propose it again.")
            )
        if "cin" in change.proposed:
            _check_cin_free(insured=insured, cin=change.proposed["cin"])
        locked["insured"] = insured

    def apply_to_registry(change: IdentityChange) -> None:
        # Once the change is approved.
        insured = locked["insured"]
        proposed = change.proposed
        if "cin" in proposed and insured.cin:
            PreviousCin.objects.get_or_create(
                insured=insured,
                cin=insured.cin,
                defaults={"replaced_on": timezone.localdate(), "reason": "renewal"},
            )
        before = model_values(insured, list(proposed))
        for name, value in proposed.items():
            if name == "birth_date":
                value = date.fromisoformat(value) if value else None
            setattr(insured, name, value)
        insured.save(update_fields=[*proposed, "updated_at"])
        if change.case_id is not None and change.case.is_open:
            case_decide(
                case=change.case,
                actor=actor,
                status=CaseStatus.DONE,
                note=_("The agency corrected your record."),
                ip_address=ip_address or None,
                # One e-mail for the approval, not a second one for the request it closes.
                notify=False,
            )
        insured.refresh_from_db(fields=["identity_under_correction"])
        _sync_identity_flag(insured)
        audit_record(
            action="registry.insured.identity_changed",
            obj=insured,
            actor=actor,
            insured=insured,
            before=before,
            after=model_values(insured, list(proposed)),
            reason=change.reason,
            ip_address=ip_address or None,
        )

    with transaction.atomic():
        change = four_eyes_approve(
            flow=IDENTITY_CHANGE_FOUR_EYES,
            record=change,
            actor=actor,
            note=note,
            action="backoffice.identity_change.approved",
            apply=check_registry,
            then=apply_to_registry,
            insured=change.insured,
            after=lambda change: {"proposed_by": change.proposed_by.get_username()},
            ip_address=ip_address,
        )
        insured_notify(insured=change.insured, event="identity_change_approved", reference=_change_reference(change))
    return change


def identity_change_reject(
    *, change: IdentityChange, actor: User, note: str, ip_address: str | None = None
) -> IdentityChange:
    """Refuse a pending change: the registry keeps its values."""

    def sync_flag(change: IdentityChange) -> None:
        _sync_identity_flag(Insured.objects.select_for_update().get(pk=change.insured_id))

    with transaction.atomic():
        change = four_eyes_reject(
            flow=IDENTITY_CHANGE_FOUR_EYES,
            record=change,
            actor=actor,
            note=note,
            action="backoffice.identity_change.rejected",
            then=sync_flag,
            insured=change.insured,
            ip_address=ip_address,
        )
        insured_notify(insured=change.insured, event="identity_change_rejected", reference=_change_reference(change))
    return change


def case_handle(*, case: Case, actor: User, status: str, note: str = "", ip_address: str | None = None) -> Case:
    """Take a request (in progress) or close it (done / rejected with a note), through casework."""
    if not is_agency_staff(actor):
        raise BackofficeError(_("Only agency agents and supervisors can handle requests."))
    with transaction.atomic():
        try:
            case = case_decide(case=case, actor=actor, status=status, note=note or "", ip_address=ip_address or None)
        except CaseError as error:
            raise BackofficeError(str(error)) from None
        # Closing a name-correction request must not lift the flag while an
        # identity change for the person still waits for approval.
        insured = Insured.objects.select_for_update().get(pk=case.insured_id)
        if IdentityChange.objects.pending().filter(insured=insured).exists():
            _sync_identity_flag(insured)
    return case
