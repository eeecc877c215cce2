from django import template
from django.urls import reverse
from django.utils.translation import gettext as _

from casework.models import CaseKind
from certificates import rules
from certificates.kinds import deregistration

register = template.Library()


@register.simple_tag
def ways_out(decision, kind=""):
    """The actions that lead out of a blocking case, as (label, url) pairs."""
    links = []
    employer = getattr(decision, "employer", None)
    for way in decision.ways_out:
        if way == rules.WAY_EMPLOYER_NOTICE and employer:
            url = reverse("casework:employer_case", args=[CaseKind.EMPLOYER_NOTICE, employer.id])
            links.append((_("Send your employer a formal notice"), url))
        elif way == rules.WAY_ARREARS_REPORT and employer:
            url = reverse("casework:employer_case", args=[CaseKind.ARREARS_REPORT, employer.id])
            links.append((_("File a request with the agency"), url))
        elif way == rules.WAY_DEREGISTRATION:
            links.append(
                (
                    _("Get a deregistration certificate"),
                    reverse("certificates:request", args=[deregistration.KIND.value]),
                )
            )
        elif way == rules.WAY_NAME_CORRECTION:
            links.append((_("Ask for a name correction"), reverse("casework:name_correction")))
        elif way == rules.WAY_ID_UPDATE:
            links.append((_("Book a national ID update at the agency"), reverse("casework:id_update")))
        elif way == rules.WAY_TREATY:
            links.append((_("Ask for a cumulative periods certificate (treaty)"), reverse("casework:treaty")))
        elif way == rules.WAY_CASES:
            links.append((_("See my requests"), reverse("casework:list")))
        elif way in (rules.WAY_CHOOSE_EMPLOYER, rules.WAY_LAST_DECLARED) and kind:
            links.append((_("Choose the options of the certificate"), reverse("certificates:request", args=[kind])))
    return links


@register.filter
def mad(centimes):
    """12345678 centimes -> '123 456,78' (the number format follows the language)."""
    from django.utils.formats import number_format

    try:
        return number_format(int(centimes) / 100, decimal_pos=2, force_grouping=True)
    except (TypeError, ValueError):
        return ""


@register.filter
def period_label(value):
    """'202610' -> 'octobre 2026' / 'أكتوبر 2026' / 'October 2026': months in words in every language."""
    from damane.formats import month_label
    from declarations.periods import Period

    try:
        return month_label(Period.parse(str(value)))
    except (TypeError, ValueError):
        return value


@register.filter
def isodate(value):
    """'2026-09-01' -> a date, for the |date filter; anything else unchanged."""
    from datetime import date

    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return value
