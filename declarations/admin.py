"""Admin for declarations: read-only records, and the e-BDS upload.

Declarations are never edited by hand: they change only by importing a file
(a correction for an already declared period), which keeps the history.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from declarations.forms import EbdsUploadForm
from declarations.models import Declaration, DeclarationLine, EbdsFile
from declarations.services import ImportRejected, decode_ebds, import_ebds

# Past this many, the rest of a rejected file's issues are summarised in one message.
MAX_ISSUE_MESSAGES = 100


class ReadOnlyAdminMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class DeclarationLineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = DeclarationLine
    fields = [
        "insured",
        "declared_name",
        "is_new_employee",
        "days",
        "real_salary",
        "capped_salary",
        "situation",
        "children",
        "family_allowance_net",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("insured")


@admin.register(Declaration)
class DeclarationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "employer",
        "period",
        "version",
        "is_current",
        "employee_count",
        "total_days",
        "total_real_salary",
        "total_capped_salary",
        "declared_at",
    ]
    list_filter = ["is_current", "period"]
    search_fields = ["=period", "employer__affiliation_number", "employer__name"]
    list_select_related = ["employer"]
    readonly_fields = [
        "employer",
        "period",
        "version",
        "is_current",
        "source_file",
        "declared_at",
        "employee_count",
        "total_days",
        "total_real_salary",
        "total_capped_salary",
    ]
    fields = readonly_fields
    inlines = [DeclarationLineInline]


@admin.register(EbdsFile)
class EbdsFileAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["name", "employer", "period", "is_correction", "employees", "imported_at", "imported_by"]
    list_filter = ["is_correction", "period"]
    search_fields = ["name", "=sha256", "employer__affiliation_number", "employer__name"]
    list_select_related = ["employer", "imported_by"]
    fields = [
        "name",
        "employer",
        "period",
        "transfer_id",
        "is_correction",
        "imported_at",
        "imported_by",
        "counts",
        "sha256",
        "content",
    ]
    readonly_fields = fields
    change_list_template = "admin/declarations/ebdsfile/change_list.html"

    @admin.display(description=gettext_lazy("employees"))
    def employees(self, obj):
        return obj.counts.get("employees")

    def get_urls(self):
        return [
            path("upload/", self.admin_site.admin_view(self.upload_view), name="declarations_ebdsfile_upload"),
            *super().get_urls(),
        ]

    def has_upload_permission(self, request) -> bool:
        return request.user.has_perm("declarations.add_ebdsfile")

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "has_upload_permission": self.has_upload_permission(request)}
        return super().changelist_view(request, extra_context)

    def upload_view(self, request):
        if not self.has_upload_permission(request):
            raise PermissionDenied
        form = EbdsUploadForm(request.POST, request.FILES) if request.method == "POST" else EbdsUploadForm()
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                result = import_ebds(
                    text=decode_ebds(upload.read()),
                    filename=upload.name,
                    imported_by=request.user,
                    correction=form.cleaned_data["correction"],
                )
            except ImportRejected as error:
                messages.error(request, f"{upload.name}: {error.message}")
                for issue in error.issues[:MAX_ISSUE_MESSAGES]:
                    messages.error(request, format_issue(issue))
                if len(error.issues) > MAX_ISSUE_MESSAGES:
                    messages.error(
                        request,
                        _("… and %(count)d more problems.") % {"count": len(error.issues) - MAX_ISSUE_MESSAGES},
                    )
            else:
                counts = result.counts
                messages.success(
                    request,
                    _(
                        "%(name)s imported: employer %(employer)s, period %(period)s, version %(version)d: "
                        "%(employees)d employees (%(new)d new), %(days)d days, real salaries %(real)s MAD, "
                        "capped salaries %(capped)s MAD."
                    )
                    % {
                        "name": upload.name,
                        "employer": result.declaration.employer,
                        "period": result.declaration.period,
                        "version": result.declaration.version,
                        "employees": counts["employees"],
                        "new": counts["new_employees"],
                        "days": counts["days"],
                        "real": _mad(counts["real_salary_total"]),
                        "capped": _mad(counts["capped_salary_total"]),
                    },
                )
                return redirect(reverse("admin:declarations_ebdsfile_change", args=[result.ebds_file.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Upload e-BDS file"),
            "form": form,
        }
        return TemplateResponse(request, "admin/declarations/upload.html", context)


def format_issue(issue) -> str:
    """One problem of a file, for people: "Line 12, N_Jours_Declares: reason"."""
    if issue.line:
        return _("Line %(line)d, %(field)s: %(reason)s") % {
            "line": issue.line,
            "field": issue.field,
            "reason": issue.reason,
        }
    return _("File, %(field)s: %(reason)s") % {"field": issue.field, "reason": issue.reason}


def _mad(centimes: int) -> str:
    return f"{centimes // 100:,}.{centimes % 100:02d}".replace(",", " ")
