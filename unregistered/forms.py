from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casework.four_eyes import NOTE_MAX_LENGTH
from registry.fields import IdentifierField
from registry.validators import normalize_cin, validate_cin


class PersonForm(forms.Form):
    """The identity as read on the national ID, every field required."""

    cin = IdentifierField(
        label=_("National ID (CIN)"),
        max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autofocus": True}),
        error_messages={"required": _("Enter the CIN read on the national ID.")},
    )
    last_name = forms.CharField(
        label=_("Last name"), max_length=60, error_messages={"required": _("Enter the last name.")}
    )
    first_name = forms.CharField(
        label=_("First name"), max_length=60, error_messages={"required": _("Enter the first name.")}
    )
    last_name_ar = forms.CharField(
        label=_("Last name (Arabic)"),
        max_length=60,
        widget=forms.TextInput(attrs={"dir": "rtl", "lang": "ar"}),
        error_messages={"required": _("Enter the last name in Arabic script.")},
    )
    first_name_ar = forms.CharField(
        label=_("First name (Arabic)"),
        max_length=60,
        widget=forms.TextInput(attrs={"dir": "rtl", "lang": "ar"}),
        error_messages={"required": _("Enter the first name in Arabic script.")},
    )
    birth_date = forms.DateField(
        label=_("Birth date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": _("Enter the birth date."), "invalid": _("Enter a valid date.")},
    )
    id_checked = forms.BooleanField(
        label=_("I have checked the original national ID of the person in front of me."),
        error_messages={"required": _("Check the original national ID before recording the person.")},
    )

    def clean_cin(self):
        cin = normalize_cin(self.cleaned_data["cin"])
        validate_cin(cin)
        return cin

    def _clean_latin(self, name):
        value = " ".join(self.cleaned_data[name].split()).upper()
        if not value or any(char.isdigit() for char in value):
            raise ValidationError(_("A name has letters only."), code="name")
        return value

    def clean_last_name(self):
        return self._clean_latin("last_name")

    def clean_first_name(self):
        return self._clean_latin("first_name")

    def _clean_arabic(self, name):
        value = " ".join(self.cleaned_data[name].split())
        if not any("\u0600" <= char <= "\u06ff" for char in value) or any(char.isdigit() for char in value):
            raise ValidationError(_("Write this name in Arabic script."), code="arabic")
        return value

    def clean_last_name_ar(self):
        return self._clean_arabic("last_name_ar")

    def clean_first_name_ar(self):
        return self._clean_arabic("first_name_ar")

    def clean_birth_date(self):
        value = self.cleaned_data["birth_date"]
        today = timezone.localdate()
        if value > today or value.year < today.year - 120:
            raise ValidationError(_("This birth date is not possible."), code="birth_date")
        return value


class MatchDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose a decision.")},
    )
    note = forms.CharField(
        label=_("Note"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=NOTE_MAX_LENGTH,
        error_messages={"required": _("Explain the decision in a note.")},
    )

    def __init__(self, *args, candidates=(), allow_none=True, **kwargs):
        """``allow_none`` False when the registry holds the person's CIN: only "same person" can be decided."""
        super().__init__(*args, **kwargs)
        choices = []
        if allow_none:
            choices.append(("none", _("None of these records is this person: the certificate may be issued")))
        choices += [
            (
                str(insured.pk),
                _("Same person as %(name)s (%(cnss)s)") % {"name": insured.full_name, "cnss": insured.cnss_number},
            )
            for insured in candidates
        ]
        self.fields["decision"].choices = choices
