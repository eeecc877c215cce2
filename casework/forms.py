from datetime import timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casework.signals import treaty_conventions
from casework.uploads import check_upload
from damane.agencies import AGENCIES
from damane.hooks import joined_answers
from registry.fields import IdentifierField

# Names of the countries a treaty request may name (also those of older requests).
# Only those with a convention in force (the treaties app's answer to
# ``casework.signals.treaty_conventions``) are offered: ``treaty_country_choices``.
TREATY_COUNTRIES = [
    ("FR", _("France")),
    ("BE", _("Belgium")),
    ("NL", _("Netherlands")),
    ("ES", _("Spain")),
    ("DE", _("Germany")),
    ("IT", _("Italy")),
    ("PT", _("Portugal")),
    ("SE", _("Sweden")),
    ("DK", _("Denmark")),
    ("RO", _("Romania")),
    ("CA", _("Canada (Quebec)")),
    ("TN", _("Tunisia")),
    ("LY", _("Libya")),
]


class SupportingDocumentField(forms.FileField):
    def clean(self, data, initial=None):
        upload = super().clean(data, initial)
        if upload:
            check_upload(upload)
        return upload


class NameCorrectionForm(forms.Form):
    last_name = forms.CharField(label=_("Last name as on your national ID"), max_length=60)
    first_name = forms.CharField(label=_("First name as on your national ID"), max_length=60)
    last_name_ar = forms.CharField(label=_("Last name in Arabic"), max_length=60, required=False)
    first_name_ar = forms.CharField(label=_("First name in Arabic"), max_length=60, required=False)
    id_copy = SupportingDocumentField(
        label=_("Copy of your national ID"),
        help_text=_("PDF, JPEG or PNG, 5 MB at most, both sides."),
    )
    message = forms.CharField(label=_("Message (optional)"), widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def clean(self):
        cleaned = super().clean()
        for name in ("last_name", "first_name"):
            if name in cleaned:
                cleaned[name] = " ".join(cleaned[name].upper().split())
        return cleaned


def treaty_country_choices() -> list[tuple[str, str]]:
    """The countries with a convention in force, named in the page's language, in alphabetical order."""
    from django.utils.translation import get_language

    names = dict(TREATY_COUNTRIES)
    arabic = (get_language() or "").startswith("ar")
    choices = [
        (country, names.get(country) or (name_ar if arabic else name_fr))
        for country, name_fr, name_ar in joined_answers(treaty_conventions)
    ]
    return sorted(choices, key=lambda choice: str(choice[1]))


class TreatyCaseForm(forms.Form):
    country = forms.ChoiceField(label=_("Country where you worked"))
    foreign_number = IdentifierField(
        label=_("Your social-security number in that country"), max_length=40, required=False
    )
    periods = forms.CharField(
        label=_("Periods worked there"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For example: 03/2004 to 06/2012, Renault, Flins."),
    )
    statement = SupportingDocumentField(
        label=_("Statement of your periods from the foreign fund (optional)"),
        help_text=_(
            "If you have it: the career statement the foreign fund sent you. PDF, JPEG or PNG, 5 MB at most. "
            "It lets the service check your periods sooner."
        ),
        required=False,
    )
    message = forms.CharField(label=_("Message (optional)"), widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["country"].choices = treaty_country_choices()


class IdUpdateForm(forms.Form):
    # Room for spaces typed by people; the normalised value has at most 8 characters.
    new_cin = IdentifierField(label=_("Your new national ID number"), max_length=12)
    agency = forms.ChoiceField(label=_("Agency"), choices=AGENCIES)
    preferred_date = forms.DateField(
        label=_("Preferred day for the appointment"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean_new_cin(self):
        from registry.validators import normalize_cin, validate_cin

        value = normalize_cin(self.cleaned_data["new_cin"])
        validate_cin(value)
        return value

    def clean_preferred_date(self):
        day = self.cleaned_data["preferred_date"]
        today = timezone.localdate()
        if day <= today or day > today + timedelta(days=60):
            raise ValidationError(_("Choose a day between tomorrow and 60 days from now."), code="date_range")
        if day.weekday() >= 5:
            raise ValidationError(_("Agencies are open Monday to Friday."), code="weekend")
        return day


class ConfirmForm(forms.Form):
    message = forms.CharField(label=_("Message (optional)"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
