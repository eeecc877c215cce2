"""The International Treaties service's pages in the back office (its own staff role)."""

from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Case as Conditional
from django.db.models import IntegerField, Value, When
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from audit.services import audit_record
from casework.forms import TREATY_COUNTRIES
from casework.four_eyes import can_decide as can_decide_four_eyes
from casework.models import Case, CaseKind, CaseStatus
from damane.access import client_ip, staff_required
from damane.roles import is_treaty_officer
from damane.storage import open_for_download
from treaties import services
from treaties.forms import DecisionForm, PeriodFormSet, VersionForm
from treaties.models import Convention, ForeignPeriodVersion
from treaties.services import PeriodInput, TreatyError

OPEN = [CaseStatus.SUBMITTED, CaseStatus.IN_PROGRESS]


def treaty_required(view):
    """Staff with TOTP, in the treaties group; insured accounts get 404, other staff 403."""

    @staff_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not is_treaty_officer(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _case(reference) -> Case:
    return get_object_or_404(Case.objects.select_related("insured", "handled_by"), reference=reference, kind="treaty")


@never_cache
@treaty_required
def case_list(request):
    closed_last = Conditional(When(status__in=OPEN, then=Value(0)), default=Value(1), output_field=IntegerField())
    cases = (
        Case.objects.filter(kind=CaseKind.TREATY)
        .select_related("insured")
        .annotate(is_closed=closed_last)
        .order_by("is_closed", "created_at", "pk")
    )
    page = Paginator(cases, 25).get_page(request.GET.get("page"))
    pending = set(ForeignPeriodVersion.objects.pending().values_list("case_id", flat=True))
    return render(request, "treaties/list.html", {"page": page, "pending": pending})


def _render_detail(request, case, decision_form=None, status=200):
    versions = list(
        case.period_versions.select_related("convention", "recorded_by", "decided_by", "certificate").prefetch_related(
            "periods"
        )
    )
    approved = next((v for v in versions if v.status == ForeignPeriodVersion.Status.APPROVED), None)
    pending = next((v for v in versions if v.is_pending), None)
    return render(
        request,
        "treaties/detail.html",
        {
            "case": case,
            "insured": case.insured,
            "country": dict(TREATY_COUNTRIES).get(case.details.get("country"), case.details.get("country")),
            "versions": versions,
            "approved": approved,
            "pending": pending,
            "can_decide": pending is not None
            and can_decide_four_eyes(services.PERIODS_FOUR_EYES, pending, request.user),
            "can_issue": approved is not None and pending is None and approved.certificate_id is None,
            "decision_form": decision_form or DecisionForm(),
            "page_has_errors": bool(decision_form is not None and decision_form.errors),
        },
        status=status,
    )


@never_cache
@treaty_required
def case_detail(request, reference):
    case = _case(reference)
    # Personal data seen by staff is traced, as for an agent opening a record.
    audit_record(
        action="treaties.request.viewed",
        obj=case,
        actor=request.user,
        insured=case.insured,
        ip_address=client_ip(request) or None,
    )
    return _render_detail(request, case)


def _initial_rows(case: Case) -> list[dict]:
    """A correction starts from the approved periods."""
    approved = ForeignPeriodVersion.objects.approved().filter(case=case).first()
    rows = []
    if approved is not None:
        rows = [
            {
                "institution": p.institution,
                "start": p.start,
                "end": p.end,
                "unit": p.unit,
                "amount": p.amount,
                "reference": p.reference,
            }
            for p in approved.periods.all()
        ]
    return rows


@never_cache
@treaty_required
@require_http_methods(["GET", "POST"])
def version_new(request, reference):
    case = _case(reference)
    if not case.is_open:
        messages.error(request, _("This request is already closed."))
        return redirect("treaties:detail", reference=case.reference)
    convention = Convention.objects.filter(country=case.details.get("country"), active=True).first()
    initial_rows = _initial_rows(case)
    if request.method == "POST":
        form = VersionForm(request.POST, request.FILES)
        formset = PeriodFormSet(request.POST, prefix="periods", initial=initial_rows)
        if form.is_valid() and formset.is_valid():
            periods = [
                PeriodInput(**{k: v for k, v in row.items() if k != "DELETE"})
                for row in formset.cleaned_data
                if row and not row.get("DELETE")
            ]
            try:
                services.periods_record(
                    case=case,
                    actor=request.user,
                    convention=form.cleaned_data["convention"],
                    periods=periods,
                    document=form.cleaned_data["document"],
                    note=form.cleaned_data["note"],
                    ip_address=client_ip(request) or None,
                )
            except TreatyError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("The periods are recorded. Another officer must approve them."))
                return redirect("treaties:detail", reference=case.reference)
    else:
        form = VersionForm(initial={"convention": convention})
        formset = PeriodFormSet(prefix="periods", initial=initial_rows)
    return render(
        request,
        "treaties/version_form.html",
        {
            "case": case,
            "form": form,
            "formset": formset,
            "convention": convention,
            "page_has_errors": bool(form.errors or formset.total_error_count()),
        },
    )


def _decide(request, pk, decide, success):
    """Decide only on a valid note; otherwise the request's page again, with the error, and nothing decided."""
    version = get_object_or_404(ForeignPeriodVersion.objects.select_related("case"), pk=pk)
    form = DecisionForm(request.POST)
    if form.is_valid():
        try:
            decide(version=version, actor=request.user, note=form.cleaned_data["note"], ip_address=client_ip(request))
        except TreatyError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, success)
            return redirect("treaties:detail", reference=version.case.reference)
    return _render_detail(request, _case(version.case.reference), decision_form=form, status=400)


@never_cache
@treaty_required
@require_POST
def version_approve(request, pk):
    return _decide(request, pk, services.periods_approve, _("The periods are approved."))


@never_cache
@treaty_required
@require_POST
def version_reject(request, pk):
    return _decide(request, pk, services.periods_reject, _("The periods are rejected."))


@treaty_required
@require_POST
def certificate_issue_view(request, reference):
    case = _case(reference)
    try:
        certificate = services.treaty_certificate_issue(case=case, actor=request.user, ip_address=client_ip(request))
    except TreatyError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Certificate %(number)s is issued.") % {"number": certificate.number})
    return redirect("treaties:detail", reference=case.reference)


@never_cache
@treaty_required
def version_document(request, pk):
    version = get_object_or_404(ForeignPeriodVersion, pk=pk)
    response = FileResponse(open_for_download(version.document), content_type=version.document_type)
    extension = version.document.name.rsplit(".", 1)[-1]
    response["Content-Disposition"] = f'attachment; filename="treaty-periods-{version.pk}.{extension}"'
    response["Cache-Control"] = "private, no-store"
    return response


@never_cache
@treaty_required
def certificate_download(request, pk):
    version = get_object_or_404(ForeignPeriodVersion.objects.select_related("certificate__file"), pk=pk)
    certificate = version.certificate
    if certificate is None:
        raise Http404
    audit_record(
        action="backoffice.certificate.downloaded",
        obj=certificate,
        actor=request.user,
        insured=certificate.insured,
        after={"number": certificate.number},
        ip_address=client_ip(request) or None,
    )
    response = HttpResponse(bytes(certificate.file.data), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{certificate.number}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response
