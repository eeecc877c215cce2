"""Admin for declarations: read-only records, and the e-BDS upload.

Declarations are never edited by hand: they change only by importing a file
(a correction for an already declared period), which keeps the history.
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from damane.admin_tools import MAX_ISSUE_MESSAGES, ReadOnlyAdminMixin
from declarations.ebds import EbdsIssue
from declarations.forms import EbdsUploadForm
from declarations.jobs import import_job_create, job_progress
from declarations.models import Declaration, DeclarationLine, EbdsFile, EbdsImportJob
from declarations.services import ImportRejected, decode_ebds


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
            path(
                "upload/<int:job_id>/",
                self.admin_site.admin_view(self.job_view),
                name="declarations_ebdsfile_upload_job",
            ),
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
            job = import_job_create(
                name=upload.name,
                text=decode_ebds(upload.read()),
                correction=form.cleaned_data["correction"],
                user=request.user,
            )
            return redirect(reverse("admin:declarations_ebdsfile_upload_job", args=[job.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Upload e-BDS file"),
            "form": form,
        }
        return TemplateResponse(request, "admin/declarations/upload.html", context)

    def job_view(self, request, job_id):
        """An upload's progress, then its outcome. Only its uploader (or a superuser) sees it."""
        if not self.has_upload_permission(request):
            raise PermissionDenied
        jobs_seen = EbdsImportJob.objects.select_related("ebds_file__employer")
        if not request.user.is_superuser:
            jobs_seen = jobs_seen.filter(created_by=request.user)
        job = get_object_or_404(jobs_seen, pk=job_id)
        summary = problems = None
        if job.state == EbdsImportJob.State.IMPORTED and job.ebds_file:
            summary = import_summary(job.name, job.ebds_file)
        if job.state == EbdsImportJob.State.REJECTED:
            problems = [format_issue(EbdsIssue(**issue)) for issue in job.issues[:MAX_ISSUE_MESSAGES]]
            if len(job.issues) > MAX_ISSUE_MESSAGES:
                problems.append(_("… and %(count)d more problems.") % {"count": len(job.issues) - MAX_ISSUE_MESSAGES})
        done = job_progress(job)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Import of %(name)s") % {"name": job.name},
            "job": job,
            "done": done,
            "percent": done * 100 // job.lines_total if job.lines_total else (100 if job.is_finished else 0),
            "summary": summary,
            "problems": problems,
            "rejected_message": ImportRejected.message,
            "refresh_seconds": 2,
        }
        return TemplateResponse(request, "admin/declarations/upload_job.html", context)


def import_summary(name: str, ebds_file: EbdsFile) -> str:
    declaration = ebds_file.declarations.order_by("version").last()
    counts = ebds_file.counts
    return _(
        "%(name)s imported: employer %(employer)s, period %(period)s, version %(version)d: "
        "%(employees)d employees (%(new)d new), %(days)d days, real salaries %(real)s MAD, "
        "capped salaries %(capped)s MAD."
    ) % {
        "name": name,
        "employer": ebds_file.employer,
        "period": ebds_file.period,
        "version": declaration.version if declaration else 1,
        "employees": counts["employees"],
        "new": counts["new_employees"],
        "days": counts["days"],
        "real": _mad(counts["real_salary_total"]),
        "capped": _mad(counts["capped_salary_total"]),
    }


@admin.register(EbdsImportJob)
class EbdsImportJobAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["name", "state", "lines_total", "created_by", "created_at", "finished_at"]
    list_filter = ["state"]
    search_fields = ["name"]
    list_select_related = ["created_by"]
    fields = ["name", "state", "correction", "lines_total", "created_by", "created_at", "started_at", "finished_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).defer("content")


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
