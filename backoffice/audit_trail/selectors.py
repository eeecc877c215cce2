"""Reading the audit trail for supervisors."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from audit.models import AuditEntry
from registry.models import Insured


def _day_start(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def audit_entries(*, actor="", action="", date_from=None, date_to=None, person="") -> QuerySet:
    """Entries matching every filter given, newest first.

    ``person`` is a CNSS number or a CIN: the entries about that insured person
    (current or earlier CIN), and about any other record of that person
    recorded at the agency as absent from the registry, with their certificates.
    """
    entries = AuditEntry.objects.all()
    if actor:
        entries = entries.filter(actor_label__iexact=actor)
    if action:
        entries = entries.filter(action__startswith=action)
    if date_from:
        entries = entries.filter(at__gte=_day_start(date_from))
    if date_to:
        entries = entries.filter(at__lt=_day_start(date_to + timedelta(days=1)))
    if person:
        if person.isdigit():
            insured_ids = list(Insured.objects.filter(cnss_number=person).values_list("pk", flat=True))
        else:
            insured_ids = list(Insured.objects.by_cin(person).values_list("pk", flat=True))
        match = Q(insured_id__in=insured_ids)
        if not person.isdigit():
            from certificates.models import Certificate
            from unregistered.models import UnregisteredPerson

            people = [str(pk) for pk in UnregisteredPerson.objects.filter(cin=person).values_list("pk", flat=True)]
            if people:
                certificates = Certificate.objects.filter(unregistered_person_id__in=people).values_list("pk")
                match |= Q(object_type="unregistered.unregisteredperson", object_id__in=people)
                match |= Q(object_type="certificates.certificate", object_id__in=[str(pk) for (pk,) in certificates])
        entries = entries.filter(match)
    return entries.order_by("-at", "-id")
