from django import forms
from django.utils.translation import gettext_lazy as _

from casework.forms import SupportingDocumentField
from casework.four_eyes import NOTE_MAX_LENGTH
from treaties.models import Convention, Unit
from treaties.services import MAX_PERIODS


class PeriodForm(forms.Form):
    institution = forms.CharField(
        label=_("Foreign institution"), max_length=200, required=False, help_text=_("Empty: the liaison institution.")
    )
    start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))
    # An empty first choice: an untouched extra row must post nothing, so that it is skipped.
    unit = forms.ChoiceField(label=_("Reported in"), choices=[("", "—"), *Unit.choices])
    amount = forms.IntegerField(label=_("Number of quarters, months or days"), min_value=1, max_value=40_000)
    reference = forms.CharField(label=_("Reference of the foreign institution"), max_length=80)


# Rows offered empty beyond those already filled in (a correction starts from the approved periods).
EMPTY_ROWS = 3
PeriodFormSet = forms.formset_factory(
    PeriodForm, extra=EMPTY_ROWS, can_delete=True, max_num=MAX_PERIODS, validate_max=True
)


class VersionForm(forms.Form):
    convention = forms.ModelChoiceField(
        label=_("Convention"), queryset=Convention.objects.filter(active=True), empty_label=None
    )
    document = SupportingDocumentField(
        label=_("Document of the foreign institution"),
        help_text=_("PDF, JPEG or PNG, 5 MB at most: the statement of periods the foreign institution sent."),
    )
    note = forms.CharField(label=_("Note (optional)"), widget=forms.Textarea(attrs={"rows": 2}), required=False)


class DecisionForm(forms.Form):
    note = forms.CharField(
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=NOTE_MAX_LENGTH
    )
