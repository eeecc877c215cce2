from django import forms
from django.utils.translation import gettext_lazy as _

from damane.forms import ImportFileField


class EbdsUploadForm(forms.Form):
    file = ImportFileField(
        label=_("e-BDS file"),
        help_text=_("A DAMANCOM salary declaration file (records B00 to B06), e.g. DS_1234567_202501.txt."),
    )
    correction = forms.BooleanField(
        label=_("Correction"),
        required=False,
        help_text=_(
            "Tick to replace the declaration already imported for this employer and period. The earlier one stays in "
            "history."
        ),
    )
