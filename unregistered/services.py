"""Recording a person absent from the registry, deciding possible matches, issuing and linking.

Each function is one transaction and writes its audit entry; refusals raise
``UnregisteredError`` with a translated message. The certificate is the
non-affiliation certificate (kind ``non_affiliation``) with ``unregistered``
facts: same number series, PAdES signature, QR payload and verification as the
certificates of registered people (``certificates`` app).
"""

from __future__ import annotations

import logging
from datetime import date

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.services import audit_record
from casework.four_eyes import FourEyes, four_eyes_decide, four_eyes_propose
from certificates.kinds import non_affiliation
from certificates.models import Certificate, Channel
from certificates.services import certificate_store
from damane.roles import is_agency_staff, is_supervisor
from declarations.status import expected_period
from registry.models import Insured, PreviousCin
from unregistered.matching import cin_holders, possible_matches
from unregistered.models import UnregisteredPerson
from unregistered.signals import person_linked

logger = logging.getLogger(__name__)

IDENTITY = ("cin", "last_name", "first_name", "last_name_ar", "first_name_ar", "birth_date")


class UnregisteredError(Exception):
    """Refused for a reason the agent can act on."""


class CinInRegistry(UnregisteredError):
    """The CIN is the current or an earlier CIN of a registry record: a hard stop, no one overrides it.

    ``insured`` is that record, the way out: the person's certificates are issued from it.
    """

    def __init__(self, insured: Insured):
        self.insured = insured
        super().__init__(
            _(
                "The CIN %(cin)s is in the registry, on the record of %(name)s (CNSS number %(cnss)s): "
                "a registered person cannot get a certificate of absence. Use their record."
            )
            % {"cin": insured.cin or "", "name": insured.full_name, "cnss": insured.cnss_number}
        )


# Four eyes on possible matches: whoever recorded the person never decides about them.
MATCH_FOUR_EYES = FourEyes(
    model=UnregisteredPerson,
    proposer="recorded_by",
    pending=UnregisteredPerson.Status.REVIEW,
    may_propose=is_agency_staff,
    may_decide=is_supervisor,
    error=UnregisteredError,
    not_proposer=gettext_lazy("Only agency agents and supervisors can record a person."),
    not_decider=gettext_lazy("Only a supervisor can decide a possible match."),
    not_pending=gettext_lazy("No possible match waits for a decision on this record."),
    own_proposal=gettext_lazy("You recorded this person: another supervisor must decide (four eyes)."),
)


def registry_holder(cin: str) -> Insured | None:
    """The registry record whose current or earlier CIN is exactly ``cin``, if any."""
    return Insured.objects.by_cin(cin).order_by("pk").first() if cin else None


def _identity(person: UnregisteredPerson) -> dict:
    return {
        name: (value.isoformat() if hasattr(value, "isoformat") else value)
        for name in IDENTITY
        for value in [getattr(person, name)]
    }


def _search(person: UnregisteredPerson) -> list[dict]:
    return possible_matches(
        cin=person.cin, last_name=person.last_name, last_name_ar=person.last_name_ar, birth_date=person.birth_date
    )


def _new_matches(person: UnregisteredPerson, matches: list[dict]) -> list[dict]:
    ruled_out = set(person.ruled_out)
    return [match for match in matches if match["insured"] not in ruled_out]


def unregistered_record(*, actor, values: dict, ip_address: str | None = None) -> UnregisteredPerson:
    """Record a person on sight of their ID and search the registry at once.

    ``values``: cleaned CIN (normalised), Latin and Arabic names, birth date.
    A CIN the registry holds (current or earlier) is refused (``CinInRegistry``);
    a looser possible match (name and birth date) sets the record to wait for a
    supervisor.
    """
    MATCH_FOUR_EYES.require_proposer(actor)
    holder = registry_holder(values["cin"])
    if holder is not None:
        raise CinInRegistry(holder)
    try:
        with transaction.atomic():
            person = UnregisteredPerson(**{name: values[name] for name in IDENTITY})
            person.matches = _search(person)
            person.status = UnregisteredPerson.Status.REVIEW if person.matches else UnregisteredPerson.Status.CLEAR
            four_eyes_propose(
                flow=MATCH_FOUR_EYES,
                record=person,
                actor=actor,
                action="unregistered.person.recorded",
                after={**_identity(person), "status": person.status, "matches": person.matches},
                ip_address=ip_address,
            )
    except IntegrityError:
        raise UnregisteredError(
            _("This CIN is already recorded as absent from the registry: open that record instead.")
        ) from None
    return person


def unregistered_decide(
    *, person: UnregisteredPerson, actor, same_person: Insured | None, note: str, ip_address: str | None = None
) -> UnregisteredPerson:
    """A supervisor other than the one who recorded the person decides the possible matches.

    ``same_person`` None: none of the matches is this person, the certificate may
    be issued; refused when the registry holds the person's CIN (``CinInRegistry``),
    checked again under the lock. Otherwise the person is that registry record:
    no certificate of absence, the two records are linked.
    """

    def rule_on_matches(person: UnregisteredPerson) -> None:
        candidates = [match["insured"] for match in person.matches]
        holder = registry_holder(person.cin)
        if holder is not None:
            # The registry holds this very CIN: the person is that record, and no other.
            if same_person is None or same_person.pk != holder.pk:
                raise CinInRegistry(holder)
            candidates.append(holder.pk)
        if same_person is None:
            person.ruled_out = sorted(set(person.ruled_out) | set(candidates))
        else:
            if same_person.pk not in candidates:
                raise UnregisteredError(_("Choose one of the possible matches."))
            person.linked_insured = same_person
            person.linked_at = timezone.now()

    return four_eyes_decide(
        flow=MATCH_FOUR_EYES,
        record=person,
        actor=actor,
        status=UnregisteredPerson.Status.CLEAR if same_person is None else UnregisteredPerson.Status.SAME_PERSON,
        note=note,
        note_required=_("Explain the decision in a note."),
        action="unregistered.person.match_ruled_out" if same_person is None else "unregistered.person.match_confirmed",
        apply=rule_on_matches,
        insured=same_person,
        after=lambda person: {"matches": person.matches, "insured": getattr(same_person, "pk", None)},
        ip_address=ip_address,
    )


def _holder(person: UnregisteredPerson) -> dict:
    return {
        "cnss_number": "",
        "cin": person.cin,
        "last_name": person.last_name,
        "first_name": person.first_name,
        "last_name_ar": person.last_name_ar,
        "first_name_ar": person.first_name_ar,
        "birth_date": person.birth_date.isoformat(),
    }


def unregistered_facts(*, person: UnregisteredPerson, today: date) -> dict:
    """What the certificate states: the window of the non-affiliation rule, and that the fund never knew the person."""
    last = expected_period(today)
    first = last - (settings.DAMANE_NON_AFFILIATION_LOOKBACK_PERIODS - 1)
    return {
        "from_period": str(first),
        "to_period": str(last),
        "last_salaried_period": None,
        "unregistered": True,
        "record_reference": person.reference,
        "searched_on": today.isoformat(),
    }


def unregistered_issue(
    *, person: UnregisteredPerson, actor, locale: str = "fr", today: date | None = None, ip_address: str | None = None
) -> Certificate:
    """Issue the signed non-affiliation certificate of a person absent from the registry.

    The registry is searched again first, under the lock: a record holding the
    person's CIN (current or earlier) stops issuance for good and links the
    person to it (``CinInRegistry``); a looser match that appeared since the
    last search (and that no supervisor ruled out) stops issuance and sends the
    person back to a supervisor. An identical certificate issued the same day
    is returned instead of a second one. One transaction, as for every
    certificate: row, number, signed PDF and audit entry together.
    """
    today = today or timezone.localdate()
    if not is_agency_staff(actor):
        raise UnregisteredError(_("Only agency agents and supervisors can issue certificates."))
    with transaction.atomic():
        person = UnregisteredPerson.objects.select_for_update().get(pk=person.pk)
        if person.status == UnregisteredPerson.Status.REVIEW:
            raise UnregisteredError(_("A possible match in the registry waits for a supervisor's decision."))
        if person.status != UnregisteredPerson.Status.CLEAR:
            raise UnregisteredError(
                _("This person is in the registry: issue the certificate from their registry record.")
            )
        holder = registry_holder(person.cin)
        matches = _search(person)
        fresh = _new_matches(person, matches)
        if holder is not None:
            person.status = UnregisteredPerson.Status.LINKED
            person.linked_insured = holder
            person.linked_at = timezone.now()
            person.matches = matches
            person.save(update_fields=["status", "linked_insured", "linked_at", "matches"])
            person_linked.send(sender=UnregisteredPerson, person=person, insured=holder)
            audit_record(
                action="unregistered.person.linked",
                obj=person,
                actor=actor,
                insured=holder,
                before={"status": UnregisteredPerson.Status.CLEAR},
                after={"status": person.status, "insured": holder.pk},
                ip_address=ip_address,
            )
            certificate = None
        elif fresh:
            person.matches = matches
            person.status = UnregisteredPerson.Status.REVIEW
            person.decided_by = None
            person.decided_at = None
            person.save(update_fields=["matches", "status", "decided_by", "decided_at"])
            audit_record(
                action="unregistered.person.match_found",
                obj=person,
                actor=actor,
                before={"status": UnregisteredPerson.Status.CLEAR},
                after={"status": person.status, "matches": person.matches},
                ip_address=ip_address,
            )
            certificate = None
        else:
            certificate = _issue(person=person, actor=actor, locale=locale, today=today, ip_address=ip_address)
    if holder is not None:
        raise CinInRegistry(holder)
    if certificate is None:
        raise UnregisteredError(
            _("The registry now holds a possible match for this person: a supervisor must decide before issuance.")
        )
    return certificate


def _issue(*, person: UnregisteredPerson, actor, locale: str, today: date, ip_address: str | None) -> Certificate:
    """The same store as every certificate (certificates.services.certificate_store), held by the recorded person."""
    certificate = certificate_store(
        insured=None,
        unregistered_person=person,
        holder=_holder(person),
        kind=non_affiliation.KIND.value,
        facts=unregistered_facts(person=person, today=today),
        actor=actor,
        channel=Channel.AGENCY,
        locale=locale,
        today=today,
        ip_address=ip_address,
    )
    logger.info(
        "certificate issued number=%s kind=%s channel=agency unregistered", certificate.number, certificate.kind
    )
    return certificate


def unregistered_link(*, insured_ids, actor=None) -> int:
    """Link the records of people absent from the registry to the registry records now holding their CIN.

    Called when declarations or registration records add or complete people
    (``registry.signals.insured_identified``, received in ``unregistered/apps.py``),
    and by the ``link_unregistered`` command. Returns how many records were linked.
    """
    insured_ids = list(insured_ids)
    if not insured_ids:
        return 0
    cins = set(Insured.objects.filter(pk__in=insured_ids).exclude(cin="").values_list("cin", flat=True))
    cins |= set(PreviousCin.objects.filter(insured_id__in=insured_ids).values_list("cin", flat=True))
    return _link(cins=cins, actor=actor)


def unregistered_link_all(*, actor=None, dry_run: bool = False) -> int:
    """Every record not yet linked whose CIN the registry now holds (the command's sweep)."""
    cins = list(UnregisteredPerson.objects.filter(linked_insured__isnull=True).values_list("cin", flat=True))
    if dry_run:
        return Insured.objects.filter(cin_holders(cins)).distinct().count() if cins else 0
    return _link(cins=set(cins), actor=actor)


def _link(*, cins: set[str], actor) -> int:
    if not cins:
        return 0
    linked = 0
    with transaction.atomic():
        people = UnregisteredPerson.objects.select_for_update().filter(linked_insured__isnull=True, cin__in=cins)
        for person in people:
            insured = Insured.objects.by_cin(person.cin).first()
            if insured is None:
                continue
            before = {"status": person.status}
            person.status = UnregisteredPerson.Status.LINKED
            person.linked_insured = insured
            person.linked_at = timezone.now()
            person.save(update_fields=["status", "linked_insured", "linked_at"])
            person_linked.send(sender=UnregisteredPerson, person=person, insured=insured)
            audit_record(
                action="unregistered.person.linked",
                obj=person,
                actor=actor,
                insured=insured,
                before=before,
                after={"status": person.status, "insured": insured.pk},
            )
            linked += 1
    if linked:
        logger.info("linked %s unregistered record(s) to the registry", linked)
    return linked
