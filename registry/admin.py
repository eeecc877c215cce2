"""Admin for the registry.

Identity records are read-only here: they change through e-BDS imports, the
registration records import (upload below, audited) or the back office's
corrections with four-eyes approval. Employments are derived from declarations.
Of an employer, only what e-BDS does not carry (ICE, notice e-mail) is edited.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from audit.services import audit_record, model_values
from damane.admin_tools import MAX_ISSUE_MESSAGES, ReadOnlyAdminMixin
from damane.forms import ImportFileField
from registry.fields import IdentifierField
from registry.models import Employer, Employment, Insured, PreviousCin
from registry.services import RegistrationRecordsRejected, import_registration_records


class PreviousCinInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = PreviousCin
    fields = ["cin", "replaced_on", "reason"]
    readonly_fields = fields
    extra = 0


class EmploymentInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Employment
    fields = ["employer", "start_period", "start_date", "last_period", "end_date", "exit_reason"]
    readonly_fields = fields
    extra = 0

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("employer")


class RegistrationRecordsForm(forms.Form):
    file = ImportFileField(
        label=gettext_lazy("Registration records (CSV)"),
        help_text=gettext_lazy(
            "UTF-8 CSV with the header cnss_number,cin,last_name,first_name,last_name_ar,first_name_ar,birth_date,"
            "sex,phone,registered_on,previous_cins,treaty_country. Blank cells leave a value unchanged."
        ),
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=200,
        help_text=gettext_lazy("Why these records are applied; kept in the audit trail."),
    )


@admin.register(Insured)
class InsuredAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["cnss_number", "full_name", "full_name_ar", "cin", "registered_on", "identity_under_correction"]
    list_filter = ["identity_under_correction", "sex"]
    search_fields = [
        "=cnss_number",
        "=cin",
        "=previous_cins__cin",
        "last_name",
        "first_name",
        "last_name_ar",
        "first_name_ar",
    ]
    fields = [
        "cnss_number",
        "cin",
        ("last_name", "first_name"),
        ("last_name_ar", "first_name_ar"),
        "birth_date",
        "sex",
        "phone",
        "registered_on",
        "treaty_country",
        "identity_under_correction",
        "created_at",
        "updated_at",
    ]
    readonly_fields = [
        "cnss_number",
        "cin",
        "last_name",
        "first_name",
        "last_name_ar",
        "first_name_ar",
        "birth_date",
        "sex",
        "phone",
        "registered_on",
        "treaty_country",
        "identity_under_correction",
        "created_at",
        "updated_at",
    ]
    inlines = [PreviousCinInline, EmploymentInline]
    change_list_template = "admin/registry/insured/change_list.html"

    def get_search_results(self, request, queryset, search_term):
        # CINs are stored in upper case; staff often type them in lower case.
        return super().get_search_results(request, queryset, search_term.upper())

    def get_urls(self):
        return [
            path(
                "upload-records/",
                self.admin_site.admin_view(self.upload_records_view),
                name="registry_insured_upload_records",
            ),
            *super().get_urls(),
        ]

    def has_upload_permission(self, request) -> bool:
        return request.user.has_perms(["registry.add_insured", "registry.change_insured"])

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "has_upload_permission": self.has_upload_permission(request)}
        return super().changelist_view(request, extra_context)

    def upload_records_view(self, request):
        if not self.has_upload_permission(request):
            raise PermissionDenied
        form = (
            RegistrationRecordsForm(request.POST, request.FILES)
            if request.method == "POST"
            else RegistrationRecordsForm()
        )
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                text = upload.read().decode("utf-8")
            except UnicodeDecodeError:
                form.add_error("file", _("The file is not UTF-8 text."))
            else:
                try:
                    result = import_registration_records(
                        text=text, actor=request.user, reason=form.cleaned_data["reason"]
                    )
                except RegistrationRecordsRejected as error:
                    messages.error(request, f"{upload.name}: {error.message}")
                    for issue in error.issues[:MAX_ISSUE_MESSAGES]:
                        messages.error(
                            request,
                            _("Row %(row)d, %(column)s: %(reason)s")
                            % {"row": issue.row, "column": issue.column or _("row"), "reason": issue.reason},
                        )
                    if len(error.issues) > MAX_ISSUE_MESSAGES:
                        messages.error(
                            request,
                            _("… and %(count)d more problems.") % {"count": len(error.issues) - MAX_ISSUE_MESSAGES},
                        )
                else:
                    messages.success(
                        request,
                        _(
                            "%(name)s applied: %(created)d registered, %(updated)d updated, %(unchanged)d "
                            "unchanged, %(cins)d earlier CIN(s) added."
                        )
                        % {
                            "name": upload.name,
                            "created": result.created,
                            "updated": result.updated,
                            "unchanged": result.unchanged,
                            "cins": result.previous_cins_added,
                        },
                    )
                    return redirect(reverse("admin:registry_insured_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Upload registration records"),
            "intro": _(
                "Identity details e-BDS files do not carry. All rows are applied or none; see "
                "docs/registration-records.md for the columns."
            ),
            "form": form,
        }
        return TemplateResponse(request, "admin/declarations/upload.html", context)


@admin.register(Employer)
class EmployerAdmin(admin.ModelAdmin):
    list_display = ["affiliation_number", "name", "city", "agency_code", "ice"]
    list_filter = ["agency_code"]
    search_fields = ["=affiliation_number", "name", "city", "=ice"]
    fields = [
        "affiliation_number",
        "name",
        "activity",
        "address",
        ("postal_code", "city"),
        "agency_code",
        "ice",
        "email",
        "created_at",
        "updated_at",
    ]
    # Everything the employer header (B01) of each e-BDS file carries.
    readonly_fields = [
        "affiliation_number",
        "name",
        "activity",
        "address",
        "postal_code",
        "city",
        "agency_code",
        "created_at",
        "updated_at",
    ]
    EDITABLE = ["ice", "email"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "ice":
            kwargs["form_class"] = IdentifierField
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        before = model_values(Employer.objects.get(pk=obj.pk), self.EDITABLE) if obj.pk else None
        super().save_model(request, obj, form, change)
        after = model_values(obj, self.EDITABLE)
        if before != after:
            audit_record(action="registry.employer.updated", obj=obj, actor=request.user, before=before, after=after)


@admin.register(Employment)
class EmploymentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["insured", "employer", "start_period", "last_period", "end_date", "exit_reason"]
    list_filter = ["exit_reason", ("end_date", admin.EmptyFieldListFilter)]
    search_fields = ["=insured__cnss_number", "=employer__affiliation_number", "insured__last_name", "employer__name"]
    list_select_related = ["insured", "employer"]
    fields = ["insured", "employer", "start_period", "start_date", "last_period", "end_date", "exit_reason"]
    readonly_fields = fields
