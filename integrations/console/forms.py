from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.forms import UsernameLoginForm
from integrations.webhooks.models import EventType


class ConsoleLoginForm(UsernameLoginForm):
    """The console's first step: the contact's username and password (the TOTP step is ``TotpTokenForm``)."""


class EndpointForm(forms.Form):
    url = forms.URLField(
        label=_("Address (https://…)"),
        max_length=500,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"spellcheck": "false", "autocomplete": "off", "dir": "ltr"}),
        error_messages={
            "required": _("Give the address that receives the events."),
            "invalid": _("Give an address such as https://api.example.ma/damane/events."),
        },
    )
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=EventType.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one event."), "invalid_choice": _("Choose among the events.")},
    )


class SandboxKeyForm(forms.Form):
    label = forms.CharField(
        label=_("Label of the sandbox key"),
        max_length=100,
        required=False,
        help_text=_("For example the name of your test system."),
    )
