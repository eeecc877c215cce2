from django import forms
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from integrations.models import SCOPES, Organisation


def _text(label, max_length, **kwargs):
    return forms.CharField(
        label=label,
        max_length=max_length,
        error_messages={
            "required": kwargs.pop("required_message"),
            "max_length": _("At most %(limit_value)d characters."),
        },
        **kwargs,
    )


def _whole_number(label, *, minimum, maximum, initial, help_text=""):
    return forms.IntegerField(
        label=label,
        initial=initial,
        help_text=help_text,
        validators=[MinValueValidator(minimum), MaxValueValidator(maximum)],
        error_messages={
            "required": _("Give a whole number."),
            "invalid": _("Give a whole number."),
            "min_value": _("At least %(limit_value)s."),
            "max_value": _("At most %(limit_value)s."),
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )


# --- Back office ---------------------------------------------------------------------


class OrganisationForm(forms.Form):
    name = _text(_("Name"), 120, required_message=_("Give the organisation's name."))
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=Organisation.Kind.choices,
        error_messages={"required": _("Choose a kind."), "invalid_choice": _("Choose a kind.")},
    )
    contact_email = forms.EmailField(
        label=_("Contact e-mail"),
        max_length=254,
        error_messages={
            "required": _("Give a contact e-mail address."),
            "invalid": _("Give an e-mail address such as name@example.ma."),
        },
    )


class ApiKeyForm(forms.Form):
    label = _text(
        _("Label"),
        80,
        required_message=_("Give the key a label."),
        help_text=_("Where the key is used, e.g. 'loan files, production'."),
    )
    valid_days = _whole_number(
        _("Valid for (days)"), minimum=1, maximum=settings.DAMANE_API_KEY_MAX_VALID_DAYS, initial=365
    )
    quota_per_minute = _whole_number(
        _("Look-ups a minute"), minimum=1, maximum=100_000, initial=settings.DAMANE_API_KEY_DEFAULT_PER_MINUTE
    )
    quota_per_day = _whole_number(
        _("Look-ups a day"), minimum=1, maximum=10_000_000, initial=settings.DAMANE_API_KEY_DEFAULT_PER_DAY
    )


SCOPE_LABELS = {
    "verify": _("verify: one certificate a request"),
    "share": _("share: read share codes"),
    "batch": _("batch: up to 100 certificates a request"),
}


def _scopes_field():
    return forms.MultipleChoiceField(
        label=_("Scopes"),
        choices=[(scope, SCOPE_LABELS[scope]) for scope in SCOPES],
        initial=list(SCOPES),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Choose at least one scope."),
            "invalid_choice": _("Choose among the scopes listed."),
        },
    )


def _networks_field():
    return forms.CharField(
        label=_("Source networks"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "dir": "ltr"}),
        help_text=_("One network a line, e.g. 196.200.0.0/16 or 2001:db8::/32. Empty: any address."),
        error_messages={"max_length": _("At most %(limit_value)d characters.")},
    )


def _network_lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class RestrictionsMixin:
    """Scopes and networks, cleaned as the service will (integrations.services.clean_networks)."""

    def clean_allowed_networks(self):
        from integrations.services import IntegrationError, clean_networks

        try:
            return clean_networks(_network_lines(self.cleaned_data.get("allowed_networks", "")))
        except IntegrationError as error:
            raise forms.ValidationError(str(error)) from None


class ApiKeyRestrictionsForm(RestrictionsMixin, forms.Form):
    scopes = _scopes_field()
    allowed_networks = _networks_field()


class RevokeKeyForm(forms.Form):
    reason = _text(_("Reason"), 200, required_message=_("Say why the key is revoked."))


class SuspendForm(forms.Form):
    """Suspend (``active`` 0) or reinstate (``active`` 1) an organisation, with a reason."""

    active = forms.TypedChoiceField(
        choices=[("0", "0"), ("1", "1")],
        coerce=lambda value: value == "1",
        widget=forms.HiddenInput,
        error_messages={
            "required": _("Choose to suspend or to reinstate."),
            "invalid_choice": _("Choose to suspend or to reinstate."),
        },
    )
    reason = _text(_("Reason"), 200, required_message=_("Give a reason."))


# --- The insured ----------------------------------------------------------------------


class ShareCodeForm(forms.Form):
    recipient = _text(
        _("Who is it for?"),
        120,
        required_message=_("Say who the code is for."),
        help_text=_("The name of the bank, embassy, landlord or person you give it to."),
    )
    employer = forms.TypedChoiceField(
        label=_("Employer"),
        coerce=int,
        error_messages={"required": _("Choose an employer."), "invalid_choice": _("Choose one of your employers.")},
    )
    show_employment = forms.BooleanField(label=_("That I still work for this employer, and since when"), required=False)
    show_employer_status = forms.BooleanField(
        label=_("Whether this employer is up to date with its declarations"), required=False
    )
    show_last_period = forms.BooleanField(label=_("The last month this employer declared me"), required=False)
    valid_days = _whole_number(
        _("Valid for (days)"),
        minimum=1,
        maximum=settings.DAMANE_SHARE_CODE_MAX_DAYS,
        initial=14,
    )

    def __init__(self, *args, employers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["employer"].choices = [(e.pk, e.name) for e in employers]
        self.fields["valid_days"].help_text = _("At most %(days)s days. You can revoke the code at any time.") % {
            "days": settings.DAMANE_SHARE_CODE_MAX_DAYS
        }
        if len(self.fields["employer"].choices) == 1:
            self.fields["employer"].initial = self.fields["employer"].choices[0][0]

    def clean(self):
        data = super().clean()
        if not any(data.get(name) for name in ("show_employment", "show_employer_status", "show_last_period")):
            self.add_error("show_employment", _("Choose at least one fact to share."))
        return data


class ShareCodeLookupForm(forms.Form):
    code = _text(
        _("Share code"),
        200,
        required_message=_("Type the share code you were given."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}),
        help_text=_("15 letters and digits, e.g. K7QM3-XH9RT-4P8WZ."),
    )


class IssueKeyForm(RestrictionsMixin, ApiKeyForm):
    """A new key: label, validity, quotas, and what it may call from where."""

    scopes = _scopes_field()
    allowed_networks = _networks_field()
