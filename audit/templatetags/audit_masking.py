from django import template

from audit.export import mask_text

register = template.Library()


@register.filter
def masked(value) -> str:
    """CINs, CNSS numbers and phone numbers in ``value`` masked, as in the CSV export (audit/export.py)."""
    return mask_text(str(value or ""))
