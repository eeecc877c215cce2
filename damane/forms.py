"""Form fields the apps share."""

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _


class ImportFileField(forms.FileField):
    """A file upload no larger than ``DAMANE_IMPORT_MAX_UPLOAD_BYTES`` (e-BDS files, registration records)."""

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
