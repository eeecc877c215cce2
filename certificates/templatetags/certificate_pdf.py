"""Filters for the certificate PDF templates (templates/certificates/pdf/).

The document is legal text of the fund, printed the same in French and Arabic
whatever the reader's language: these filters format for the document, not for
the active locale. Moroccan administrative Arabic uses Western digits and the
Moroccan month names (يناير ... دجنبر).
"""

from datetime import date

from django import template

register = template.Library()

MONTHS_FR = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)
MONTHS_AR = ("يناير", "فبراير", "مارس", "أبريل", "ماي", "يونيو", "يوليوز", "غشت", "شتنبر", "أكتوبر", "نونبر", "دجنبر")
EXIT_REASONS = {
    "SO": ("Sortie de l'entreprise", "مغادرة المقاولة"),
    "DE": ("Décès", "وفاة"),
}
NBSP = "\u00a0"


def _as_date(value) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        return None


@register.filter
def day(value) -> str:
    """2026-01-20 -> 20/01/2026 (both languages)."""
    parsed = _as_date(value)
    return parsed.strftime("%d/%m/%Y") if parsed else ""


def _period(value) -> tuple[int, int] | None:
    text = str(value or "")
    if len(text) != 6 or not text.isdigit():
        return None
    return int(text[:4]), int(text[4:])


@register.filter
def period(value) -> str:
    """'202512' -> '12/2025'."""
    parts = _period(value)
    return f"{parts[1]:02d}/{parts[0]}" if parts else ""


@register.filter
def period_fr(value) -> str:
    """'202512' -> 'décembre 2025'."""
    parts = _period(value)
    return f"{MONTHS_FR[parts[1] - 1]} {parts[0]}" if parts else ""


@register.filter
def period_ar(value) -> str:
    """'202512' -> 'دجنبر 2025'."""
    parts = _period(value)
    return f"{MONTHS_AR[parts[1] - 1]} {parts[0]}" if parts else ""


@register.filter
def mad(centimes) -> str:
    """123456789 -> '1 234 567,89' (French grouping, no-break spaces)."""
    try:
        value = int(centimes)
    except (TypeError, ValueError):
        return ""
    sign = "-" if value < 0 else ""
    units, cents = divmod(abs(value), 100)
    return f"{sign}{units:,}".replace(",", NBSP) + f",{cents:02d}"


@register.filter
def grouped(value) -> str:
    """3370 -> '3 370'."""
    try:
        return f"{int(value):,}".replace(",", NBSP)
    except (TypeError, ValueError):
        return ""


@register.filter
def mad_ar(centimes) -> str:
    """123456789 -> '1234567,89': inside Arabic text a grouping space would make
    the line layout print the groups of digits in reverse order."""
    try:
        value = int(centimes)
    except (TypeError, ValueError):
        return ""
    sign = "-" if value < 0 else ""
    units, cents = divmod(abs(value), 100)
    return f"{sign}{units},{cents:02d}"


@register.filter
def exit_reason_fr(code) -> str:
    return EXIT_REASONS.get(code, ("Fin du contrat de travail", ""))[0]


@register.filter
def exit_reason_ar(code) -> str:
    return EXIT_REASONS.get(code, ("", "انتهاء عقد الشغل"))[1]
