"""Formats of the fund's identifiers (docs/domain.md "Identifiers")."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# [0-9], not \d: in Python \d also matches Arabic-Indic and every other script's
# digits, which must be normalised (``ascii_digits``) or refused, never stored.
CNSS_NUMBER_RE = re.compile(r"^[0-9]{9}$")
AFFILIATION_NUMBER_RE = re.compile(r"^[0-9]{7}$")
CIN_RE = re.compile(r"^[A-Z]{1,2}[0-9]{1,6}$")
ICE_RE = re.compile(r"^[0-9]{15}$")
PHONE_RE = re.compile(r"^\+212[67][0-9]{8}$")

# Arabic-Indic digits (U+0660-0669, Arabic keyboards and phones) and Eastern
# Arabic-Indic digits (U+06F0-06F9, Persian and Urdu keyboards) as ASCII.
ARABIC_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "0123456789" * 2)


def ascii_digits(value: str) -> str:
    """Arabic-Indic and Eastern Arabic-Indic digits as ASCII digits; any other
    non-ASCII digit (Devanagari, full-width, superscript...) refused.

    Every identifier a person types goes through here (``registry.fields.IdentifierField``):
    ``"١٠٠٧٨٩٠١٦"`` is the CNSS number ``"100789016"``.
    """
    text = (value or "").translate(ARABIC_DIGITS)
    if any(char.isdigit() and not char.isascii() for char in text):
        raise ValidationError(
            _("Type the digits as 0-9 or as Arabic digits (٠-٩); other digits are not accepted."), code="digits"
        )
    return text


def normalize_cin(value: str) -> str:
    """Upper case, no spaces: ``" be 123456 "`` -> ``"BE123456"``."""
    return re.sub(r"\s+", "", value or "").upper()


def normalize_cnss_number(value: str) -> str:
    return re.sub(r"[\s.-]+", "", value or "")


def normalize_phone(value: str) -> str:
    """Moroccan mobiles to E.164: ``0612345678`` / ``+212 6 12 34 56 78`` -> ``+212612345678``."""
    digits = re.sub(r"[\s.()-]+", "", value or "")
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    if re.fullmatch(r"0[67]\d{8}", digits):
        digits = "+212" + digits[1:]
    return digits


def validate_cnss_number(value: str) -> None:
    if not CNSS_NUMBER_RE.match(value or ""):
        raise ValidationError(_("A CNSS number has exactly 9 digits."), code="cnss_number")


def validate_affiliation_number(value: str) -> None:
    if not AFFILIATION_NUMBER_RE.match(value or ""):
        raise ValidationError(_("An employer affiliation number has exactly 7 digits."), code="affiliation_number")


def validate_cin(value: str) -> None:
    if len(value or "") > 8 or not CIN_RE.match(value or ""):
        raise ValidationError(
            _("A national ID number (CIN) is 1 or 2 letters followed by 1 to 6 digits, e.g. BE123456."), code="cin"
        )


def validate_ice(value: str) -> None:
    if value and not ICE_RE.match(value):
        raise ValidationError(_("An ICE has exactly 15 digits."), code="ice")


def validate_phone(value: str) -> None:
    if value and not PHONE_RE.match(value):
        raise ValidationError(
            _("The phone number must be a Moroccan mobile in international format, e.g. +212612345678."),
            code="phone",
        )
