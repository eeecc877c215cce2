"""Template helpers shared by every page: form fields in the error pattern of the
GOV.UK Design System, and text that must keep its own direction inside Arabic."""

from django import template
from django.utils.html import format_html

register = template.Library()


def hint_id(field) -> str:
    return f"{field.auto_id}-hint"


def error_id(field) -> str:
    return f"{field.auto_id}-error"


@register.simple_tag
def field_widget(field, **attrs):
    """The field's widget, described by its hint and its error message (which exist in ``_field.html``).

    Django would point ``aria-describedby`` at an id of its own making; the ids
    here are the ones the template prints, so a screen reader reads the hint and
    the error when the field takes focus.
    """
    described = []
    if field.help_text:
        described.append(hint_id(field))
    if field.errors:
        described.append(error_id(field))
    widget_attrs = {key.replace("_", "-"): value for key, value in attrs.items()}
    if described:
        widget_attrs["aria-describedby"] = " ".join(described)
    if field.errors:
        widget_attrs["aria-invalid"] = "true"
    return field.as_widget(attrs=widget_attrs)


@register.filter
def ltr(value):
    """Isolate an identifier, code, number or amount so that Arabic text around it cannot reorder it."""
    if value in (None, ""):
        return value
    return format_html('<bdi dir="ltr">{}</bdi>', value)
