"""Supervisors' view of the audit trail, and its CSV export (issue 12, item 3)."""

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from audit import export, services
from backoffice.audit_trail import selectors
from backoffice.audit_trail.forms import AuditFilterForm
from damane.access import agency_required, client_ip
from damane.roles import is_supervisor

PAGE_SIZE = 50


def supervisor_required(view):
    """Agency staff with a verified second factor, in the supervisor group; other agency staff get 403."""

    @agency_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not is_supervisor(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


@never_cache
@require_GET
@supervisor_required
def trail(request):
    form = AuditFilterForm(request.GET or None)
    page = None
    if not form.is_bound or form.is_valid():
        filters = form.cleaned_data if form.is_bound else {}
        entries = selectors.audit_entries(**filters).select_related("insured")
        page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "audit/trail.html", {"form": form, "page": page})


@never_cache
@require_POST
@supervisor_required
def trail_export(request):
    form = AuditFilterForm(request.POST)
    if not form.is_valid():
        return render(request, "audit/trail.html", {"form": form, "page": None}, status=400)
    record, entries = services.audit_export_record(
        actor=request.user,
        filters=form.filters(),
        entries=selectors.audit_entries(**form.cleaned_data),
        ip_address=client_ip(request) or None,
    )
    response = StreamingHttpResponse(
        export.csv_lines(export.export_rows(entries)), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.localtime(record.at).strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="damane-audit-{stamp}-{record.pk}.csv"'
    return response
