from django import template

from integrations.selectors import checks_for_holder

register = template.Library()


@register.inclusion_tag("integrations/_dashboard.html")
def checks_panel(insured, limit=5):
    """The dashboard's "who checked my information" card."""
    return {"checks": checks_for_holder(insured, limit=limit)}
