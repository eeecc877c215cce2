"""Template helpers shared by every page: form fields in the error pattern of the
GOV.UK Design System, and text that must keep its own direction inside Arabic."""

import segno
from django import template
from django.conf import settings
from django.urls import reverse
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


@register.filter
def bidi(value):
    """Isolate a value whose script is unknown (a name, an e-mail address, what a person typed).

    ``<bdi>`` takes the direction of the value's first strong letter: "Société Générale
    Maroc S.A." keeps its final period on the right inside Arabic text, and an Arabic
    name stays right to left inside French text.
    """
    if value in (None, ""):
        return value
    return format_html("<bdi>{}</bdi>", value)


@register.simple_tag
def absolute_url(name, *args):
    """The full address of a page (``DAMANE_SITE_URL`` and its path), for a person to type or scan."""
    return settings.SITE_URL + reverse(name, args=args)


@register.filter
def qr_data_uri(text):
    """A QR code of ``text`` as an SVG ``data:`` URI (the pages' CSP allows ``data:`` images)."""
    return segno.make(str(text), error="m", boost_error=False).svg_data_uri(scale=6, border=4, nl=False)
