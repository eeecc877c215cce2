from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from accounts.forms import UsernameLoginForm
from backoffice.models import IDENTITY_FIELDS
from backoffice.services import clean_identity_value
from casework.forms import SupportingDocumentField
from casework.four_eyes import NOTE_MAX_LENGTH
from casework.models import CaseStatus
from certificates import registry as kind_registry
from registry.fields import IdentifierField
from registry.models import Insured


class StaffLoginForm(UsernameLoginForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("Staff username")


class SearchForm(forms.Form):
    q = IdentifierField(
        label=_("CNSS number, CIN (current or earlier) or last name"),
        max_length=60,
        required=False,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off", "spellcheck": "false"}),
    )


class IdentityChangeForm(forms.Form):
    """The whole identity, prefilled with the registry's values; only what differs is proposed."""

    last_name = forms.CharField(label=_("Last name"), max_length=60)
    first_name = forms.CharField(label=_("First name"), max_length=60, required=False)
    last_name_ar = forms.CharField(
        label=_("Last name (Arabic)"), max_length=60, required=False, widget=forms.TextInput(attrs={"dir": "rtl"})
    )
    first_name_ar = forms.CharField(
        label=_("First name (Arabic)"), max_length=60, required=False, widget=forms.TextInput(attrs={"dir": "rtl"})
    )
    # Room for spaces typed by people; the normalised value has at most 8 characters.
    cin = IdentifierField(label=_("National ID (CIN)"), max_length=12, required=False)
    birth_date = forms.DateField(
        label=_("Birth date"), required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    sex = forms.ChoiceField(label=_("Sex"), choices=[("", "—"), *Insured.Sex.choices], required=False)
    phone = IdentifierField(
        label=_("Employer-declared phone"),
        max_length=20,
        required=False,
        help_text=_("Moroccan mobile, e.g. +212612345678. Changing it is an agency act: check the employer's record."),
    )
    reason = forms.CharField(
        label=_("Reason for the change"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        error_messages={"required": _("Give the reason for the change.")},
    )
    document = SupportingDocumentField(
        label=_("Supporting document"),
        help_text=_("Copy of the national ID or civil-registry record: PDF, JPEG or PNG, 5 MB at most."),
        error_messages={"required": _("Attach the supporting document.")},
    )

    def _clean_identity(self, name):
        return clean_identity_value(name, self.cleaned_data.get(name))

    def clean_last_name(self):
        return self._clean_identity("last_name")

    def clean_first_name(self):
        return self._clean_identity("first_name")

    def clean_last_name_ar(self):
        return self._clean_identity("last_name_ar")

    def clean_first_name_ar(self):
        return self._clean_identity("first_name_ar")

    def clean_cin(self):
        return self._clean_identity("cin")

    def clean_birth_date(self):
        return self._clean_identity("birth_date")

    def clean_sex(self):
        return self._clean_identity("sex")

    def clean_phone(self):
        return self._clean_identity("phone")

    def identity_values(self) -> dict:
        return {name: self.cleaned_data[name] for name in IDENTITY_FIELDS}


class DecisionNoteForm(forms.Form):
    note = forms.CharField(
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), max_length=NOTE_MAX_LENGTH, required=False
    )


class CaseCloseForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Decision"), choices=[(CaseStatus.DONE, _("Done")), (CaseStatus.REJECTED, _("Rejected"))]
    )
    note = forms.CharField(
        label=_("Answer to the insured person"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=NOTE_MAX_LENGTH,
        error_messages={"required": _("Explain the decision in a note.")},
    )


class AgencyCertificateForm(forms.Form):
    kind = forms.ChoiceField(label=_("Certificate"), choices=kind_registry.online_choices)
    employer = forms.TypedChoiceField(label=_("Employer"), coerce=int, required=False, empty_value=None)
    last_declared_period = forms.BooleanField(
        label=_("Use the last declared period"),
        required=False,
        help_text=_("When the employer has not yet declared last month, the certificate states the month before."),
    )
    locale = forms.ChoiceField(label=_("Language of the certificate"), choices=settings.LANGUAGES, initial="fr")

    def __init__(self, *args, employers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["employer"].choices = [("", _("Default (the rules choose)"))] + [
            (e.id, f"{e.name} ({e.affiliation_number})") for e in employers
        ]


class RevocationForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for the revocation"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        error_messages={"required": _("A reason is required to revoke a certificate.")},
    )
