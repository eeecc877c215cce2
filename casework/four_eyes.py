"""Four eyes: what one member of staff proposes counts only once another decides it.

One service for every flow that needs a second person: identity changes
(``backoffice``), versions of foreign periods (``treaties``), possible matches
of people absent from the registry (``unregistered``), and any later one.

A flow declares its ``FourEyes`` once, beside its services: the model, the
field naming who proposed, the status that waits for a decision, who may
propose and who may decide, its error class and its messages. It then makes
one call:

* ``four_eyes_propose`` saves a new record as proposed by the actor (refused
  without the role, or while another record of the same scope waits when the
  flow allows one at a time) and writes its audit entry;
* ``four_eyes_approve`` / ``four_eyes_reject`` / ``four_eyes_decide`` check, in
  this order, the decider's role, the note (at most ``NOTE_MAX_LENGTH``
  characters, no NUL byte, required where the flow says so), then lock the
  record (``SELECT … FOR UPDATE``), check that it still waits and that the
  decider did not propose it, write the decision (status, decided by, decided
  at, note) and its audit entry.

Each call is one transaction, or joins the caller's. The flow keeps its own
effect (apply an identity change, supersede the approved periods, link a
person to the registry) in the same transaction, through two hooks on the
locked record: ``apply`` runs after the checks and before the decision is
written (it may refuse by raising the flow's error, and may set other fields
of the record, which are saved with the decision); ``then`` runs once the
decision is written, before its audit entry.

The database holds the same rule for anything that bypasses this module:
``casework.models.four_eyes_constraints`` (the decider is never the proposer; a
record waiting has no decision, a decided one has its decider and time).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.services import audit_record

NOTE_MAX_LENGTH = 2000


@dataclass(frozen=True)
class FourEyes:
    """How the records of one flow are proposed and decided. Messages are lazy translations."""

    model: type[models.Model]
    proposer: str  # the field holding who proposed: "proposed_by", "recorded_by"
    pending: str  # the status of a record waiting for a decision
    may_propose: Callable[[Any], bool]
    may_decide: Callable[[Any], bool]
    error: type[Exception]
    not_proposer: str  # the actor may not propose
    not_decider: str  # the actor may not decide
    not_pending: str  # the record was decided meanwhile
    own_proposal: str  # the decider proposed it
    approved: str = "approved"
    rejected: str = "rejected"
    reject_note_required: str = ""  # a rejection without a note is refused with this
    # At most one record waits per value of this field ("insured", "case"), refused with ``already_pending``.
    one_pending_per: str = ""
    already_pending: str = ""

    def refuse(self, message) -> Exception:
        return self.error(str(message))

    def require_proposer(self, actor) -> None:
        """Refuse at once someone who may not propose (before a flow checks its upload, say)."""
        if not self.may_propose(actor):
            raise self.refuse(self.not_proposer)


def can_decide(flow: FourEyes, record: models.Model, user) -> bool:
    """Whether ``user`` may decide ``record`` now: it waits, they hold the role, they did not propose it."""
    return (
        record.status == flow.pending
        and getattr(record, f"{flow.proposer}_id") != getattr(user, "pk", None)
        and flow.may_decide(user)
    )


def clean_note(flow: FourEyes, note: str | None, *, required: str = "") -> str:
    """The decision note as stored (stripped); the flow's error when it holds a NUL byte, is too long, or is
    missing where ``required`` (its message) says it must be given."""
    note = (note or "").strip()
    if "\x00" in note:
        raise flow.refuse(_("Null characters are not allowed."))
    if len(note) > NOTE_MAX_LENGTH:
        raise flow.refuse(_("A note has at most %(limit)s characters.") % {"limit": NOTE_MAX_LENGTH})
    if required and not note:
        raise flow.refuse(required)
    return note


def _audit_values(values, record) -> dict:
    return dict((values(record) if callable(values) else values) or {})


def four_eyes_propose(
    *,
    flow: FourEyes,
    record: models.Model,
    actor,
    action: str,
    then: Callable[[models.Model], None] | None = None,
    insured=None,
    before: dict | None = None,
    after: dict | None = None,
    reason: str = "",
    ip_address: str | None = None,
) -> models.Model:
    """Save the new ``record`` as proposed by ``actor``, run ``then``, and audit it as ``action``."""
    flow.require_proposer(actor)
    with transaction.atomic():
        if flow.one_pending_per and record.status == flow.pending:
            scope = {flow.one_pending_per: getattr(record, flow.one_pending_per)}
            if flow.model.objects.filter(status=flow.pending, **scope).exists():
                raise flow.refuse(flow.already_pending)
        setattr(record, flow.proposer, actor)
        record.save()
        if then is not None:
            then(record)
        audit_record(
            action=action,
            obj=record,
            actor=actor,
            insured=insured,
            before=before,
            after=after,
            reason=reason,
            ip_address=ip_address or None,
        )
    return record


def four_eyes_decide(
    *,
    flow: FourEyes,
    record: models.Model,
    actor,
    status: str,
    note: str | None,
    action: str,
    note_required: str = "",
    apply: Callable[[models.Model], None] | None = None,
    then: Callable[[models.Model], None] | None = None,
    insured=None,
    before: dict | Callable[[models.Model], dict] | None = None,
    after: dict | Callable[[models.Model], dict] | None = None,
    ip_address: str | None = None,
) -> models.Model:
    """Decide the waiting ``record``: ``status`` by ``actor``, who did not propose it.

    Returns the record as locked and saved. ``before`` and ``after`` (a dict, or a
    function of the locked record) add to the audit entry's ``{"status": ...}``.
    """
    if not flow.may_decide(actor):
        raise flow.refuse(flow.not_decider)
    note = clean_note(flow, note, required=note_required)
    with transaction.atomic():
        record = flow.model.objects.select_for_update().get(pk=record.pk)
        if record.status != flow.pending:
            raise flow.refuse(flow.not_pending)
        if getattr(record, f"{flow.proposer}_id") == actor.pk:
            raise flow.refuse(flow.own_proposal)
        if apply is not None:
            apply(record)
        record.status = status
        record.decided_by = actor
        record.decided_at = timezone.now()
        record.decision_note = note
        record.save()
        if then is not None:
            then(record)
        audit_record(
            action=action,
            obj=record,
            actor=actor,
            insured=insured,
            before={"status": flow.pending, **_audit_values(before, record)},
            after={"status": status, **_audit_values(after, record)},
            reason=note,
            ip_address=ip_address or None,
        )
    return record


def four_eyes_approve(*, flow: FourEyes, record: models.Model, actor, note: str | None = "", **kwargs) -> models.Model:
    """Approve the waiting ``record`` (the note is optional); see ``four_eyes_decide`` for the rest."""
    return four_eyes_decide(flow=flow, record=record, actor=actor, status=flow.approved, note=note, **kwargs)


def four_eyes_reject(*, flow: FourEyes, record: models.Model, actor, note: str | None, **kwargs) -> models.Model:
    """Reject the waiting ``record``, with the note the flow may require; see ``four_eyes_decide``."""
    return four_eyes_decide(
        flow=flow,
        record=record,
        actor=actor,
        status=flow.rejected,
        note=note,
        note_required=flow.reject_note_required,
        **kwargs,
    )
