from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _


class ImportFileField(forms.FileField):
    """A file upload no larger than ``DAMANE_IMPORT_MAX_UPLOAD_BYTES``."""

    default_error_messages = {
        "too_large": _("The file is %(size)s; at most %(max)s is accepted."),
    }

    def clean(self, data, initial=None):
        upload = super().clean(data, initial)
        limit = settings.DAMANE_IMPORT_MAX_UPLOAD_BYTES
        if upload and upload.size > limit:
            raise forms.ValidationError(
                self.error_messages["too_large"],
                code="too_large",
                params={"size": filesizeformat(upload.size), "max": filesizeformat(limit)},
            )
        return upload


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
