"""The audit actions of people absent from the registry (audit/actions.py)."""

from django.utils.translation import gettext_lazy as _

from audit.actions import register

register("unregistered.person.recorded", _("Person absent from the registry recorded"))
register("unregistered.person.match_found", _("Possible match in the registry found"))
register("unregistered.person.match_ruled_out", _("Possible match ruled out"))
register("unregistered.person.match_confirmed", _("Same person as in the registry confirmed"))
register("unregistered.person.linked", _("Person linked to the registry"))
