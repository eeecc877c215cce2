from django import forms
from django.utils.translation import gettext_lazy as _


class AlertPreferenceForm(forms.Form):
    arrears_alerts = forms.BooleanField(
        label=_("E-mail me when an employer of mine misses a declaration"),
        help_text=_(
            "Once for each employer and each month missed, after the 10th of the following month. "
            "Your certificates may then be blocked: the e-mail links to the formal notice you can send."
        ),
        required=False,
    )
