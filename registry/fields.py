"""Form fields for the fund's identifiers (docs/domain.md "Identifiers")."""

from django import forms

from registry.validators import ascii_digits


class IdentifierField(forms.CharField):
    """A typed identifier (CNSS number, CIN, affiliation number, phone, codes): Arabic-Indic
    digits become ASCII before any check or look-up, other non-ASCII digits get a clear error
    (docs/security.md §21)."""

    def to_python(self, value):
        return ascii_digits(super().to_python(value))
