from django import forms
from django.utils.translation import gettext_lazy as _


class CertificateRequestForm(forms.Form):
    employer = forms.TypedChoiceField(label=_("Employer"), coerce=int, required=False, empty_value=None)
    last_declared_period = forms.BooleanField(
        label=_("Use the last declared period"),
        required=False,
        help_text=_("When your employer has not yet declared last month, the certificate states the month before."),
    )

    def __init__(self, *args, employers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["employer"].choices = [("", _("Choose…"))] + [
            (e.id, f"{e.name} ({e.affiliation_number})") for e in employers
        ]
