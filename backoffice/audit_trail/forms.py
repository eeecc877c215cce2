"""The supervisors' filter of the audit trail: who, what, when, which person."""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from registry.fields import IdentifierField
from registry.validators import normalize_cin, normalize_cnss_number

CNSS_RE = re.compile(r"^[0-9]{9}$")
CIN_RE = re.compile(r"^[A-Z]{1,2}[0-9]{1,6}$")
# Dates outside these years cannot hold an entry (and year 1 or 9999 would
# overflow once turned into a time range).
FIRST_YEAR, LAST_YEAR = 2000, 2100


class AuditFilterForm(forms.Form):
    actor = forms.CharField(
        label=_('Who (staff username or "system")'),
        max_length=150,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    action = forms.CharField(
        label=_('What (action, or its beginning: "certificates.")'),
        max_length=80,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    date_from = forms.DateField(
        label=_("From (inclusive)"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    date_to = forms.DateField(
        label=_("To (inclusive)"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    person = IdentifierField(
        label=_("Which person (CNSS number or CIN, current or earlier)"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def clean_actor(self):
        return self.cleaned_data["actor"].strip()

    def clean_action(self):
        action = self.cleaned_data["action"].strip()
        if action and not re.fullmatch(r"[a-z0-9_.]+", action):
            raise ValidationError(
                _("An action is made of lower-case letters, digits, dots and underscores."), code="action"
            )
        return action

    def clean_person(self):
        value = self.cleaned_data["person"].strip()
        if not value:
            return ""
        number = normalize_cnss_number(value)
        if CNSS_RE.match(number):
            return number
        cin = normalize_cin(value)
        if CIN_RE.match(cin):
            return cin
        raise ValidationError(
            _("Enter a CNSS number (9 digits) or a CIN (1 or 2 letters, then up to 6 digits)."), code="person"
        )

    def _clean_day(self, name):
        value = self.cleaned_data[name]
        if value and not (FIRST_YEAR <= value.year <= LAST_YEAR):
            raise ValidationError(
                _("Enter a date between %(first)s and %(last)s.") % {"first": FIRST_YEAR, "last": LAST_YEAR},
                code="range",
            )
        return value

    def clean_date_from(self):
        return self._clean_day("date_from")

    def clean_date_to(self):
        return self._clean_day("date_to")

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", ValidationError(_("The end date is before the start date."), code="order"))
        return data

    def filters(self) -> dict[str, str]:
        """The filters in force, as text (for the export's own audit entry and the links)."""
        return {
            name: (value.isoformat() if hasattr(value, "isoformat") else value)
            for name, value in self.cleaned_data.items()
            if value
        }
