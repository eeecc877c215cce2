from django import forms
from django.utils.translation import gettext_lazy as _

from certificates import registry


class CertificateRequestForm(forms.Form):
    employer = forms.TypedChoiceField(label=_("Employer"), coerce=int, required=False, empty_value=None)
    last_declared_period = forms.BooleanField(
        label=_("Use the last month my employer declared"),
        required=False,
        help_text=_("Tick this box when your employer has not yet declared last month."),
    )

    def __init__(self, *args, employers=(), kind="", **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["employer"]
        field.choices = [("", _("Choose…"))] + [(e.id, f"{e.name} ({e.affiliation_number})") for e in employers]
        spec = registry.find(kind)
        if spec is not None and spec.employer_choice == "ended":
            field.label = _("Employer you left")
            missing = _("Choose the employer you left.")
        else:
            field.label = _("Main employer")
            missing = _("Choose your main employer.")
        # With several employers the choice is the insured's: no silent default.
        field.required = len(employers) > 1
        field.error_messages = {**field.error_messages, "required": missing}
