from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from casework.forms import ConfirmForm, IdUpdateForm, NameCorrectionForm, TreatyCaseForm
from casework.models import Case, CaseDocument, CaseKind
from casework.services import case_create
from casework.signals import case_page_context
from damane.access import client_ip, insured_required
from damane.hooks import merged_context
from damane.storage import open_for_download
from declarations.status import status_for_employer
from registry.models import Employer


@insured_required
def case_list(request):
    cases = Case.objects.filter(insured=request.user.insured).select_related("employer")
    return render(request, "casework/list.html", {"cases": cases})


@insured_required
def case_detail(request, reference):
    case = get_object_or_404(Case.objects.select_related("employer"), reference=reference, insured=request.user.insured)
    return render(
        request,
        "casework/detail.html",
        # What the apps above add (the treaties app: where a treaty request stands).
        {"case": case, "documents": case.documents.all(), **merged_context(case_page_context, cases=[case])},
    )


def document_download(request, pk):
    """Supporting documents: to their owner and to staff only, never by a public URL."""
    if not request.user.is_authenticated:
        raise Http404
    document = get_object_or_404(CaseDocument.objects.select_related("case"), pk=pk)
    is_owner = request.user.insured_id is not None and document.case.insured_id == request.user.insured_id
    # Staff only with a verified second factor (django-otp's OTPMiddleware).
    is_staff = request.user.is_staff and request.user.is_verified()
    if not (is_owner or is_staff):
        raise Http404
    response = FileResponse(open_for_download(document.file), content_type=document.content_type)
    extension = document.file.name.rsplit(".", 1)[-1]
    response["Content-Disposition"] = f'attachment; filename="document-{document.pk}.{extension}"'
    response["Cache-Control"] = "private, no-store"
    return response


def _employer_of(request, employer_id):
    """An employer of this insured person, else 404 (no probing other employers)."""
    employer = get_object_or_404(Employer, pk=employer_id)
    if not request.user.insured.employments.filter(employer=employer).exists():
        raise Http404
    return employer


@insured_required
@require_http_methods(["GET", "POST"])
def employer_case(request, kind, employer_id):
    if kind not in (CaseKind.EMPLOYER_NOTICE, CaseKind.ARREARS_REPORT):
        raise Http404
    employer = _employer_of(request, employer_id)
    status = status_for_employer(employer, today=timezone.localdate())
    form = ConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        case = case_create(
            insured=request.user.insured,
            kind=kind,
            employer=employer,
            details={"missing_periods": [str(p) for p in status.missing], "status": status.state},
            message=form.cleaned_data["message"],
            actor=request.user,
            ip_address=client_ip(request),
        )
        messages.success(request, _("Your request %(reference)s is recorded.") % {"reference": case.reference})
        return redirect("casework:detail", reference=case.reference)
    return render(
        request,
        "casework/employer_case.html",
        {"form": form, "employer": employer, "status": status, "kind": kind, "kind_label": CaseKind(kind).label},
    )


def _form_case(request, *, kind, form_class, template, details_from, documents_from=lambda cd: ()):
    form = form_class(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        case = case_create(
            insured=request.user.insured,
            kind=kind,
            details=details_from(form.cleaned_data),
            message=form.cleaned_data.get("message", ""),
            documents=documents_from(form.cleaned_data),
            actor=request.user,
            ip_address=client_ip(request),
        )
        messages.success(request, _("Your request %(reference)s is recorded.") % {"reference": case.reference})
        return redirect("casework:detail", reference=case.reference)
    return render(request, template, {"form": form, "insured": request.user.insured})


@insured_required
@require_http_methods(["GET", "POST"])
def name_correction(request):
    return _form_case(
        request,
        kind=CaseKind.NAME_CORRECTION,
        form_class=NameCorrectionForm,
        template="casework/name_correction.html",
        details_from=lambda cd: {
            "requested": {k: cd[k] for k in ("last_name", "first_name", "last_name_ar", "first_name_ar")},
            "current": {
                "last_name": request.user.insured.last_name,
                "first_name": request.user.insured.first_name,
                "last_name_ar": request.user.insured.last_name_ar,
                "first_name_ar": request.user.insured.first_name_ar,
            },
        },
        documents_from=lambda cd: [cd["id_copy"]],
    )


@insured_required
@require_http_methods(["GET", "POST"])
def treaty_case(request):
    return _form_case(
        request,
        kind=CaseKind.TREATY,
        form_class=TreatyCaseForm,
        template="casework/treaty.html",
        details_from=lambda cd: {k: cd[k] for k in ("country", "foreign_number", "periods")},
        # The foreign statement, through the same checked upload as the ID copy of a name correction.
        documents_from=lambda cd: [cd["statement"]] if cd.get("statement") else [],
    )


@insured_required
@require_http_methods(["GET", "POST"])
def id_update(request):
    return _form_case(
        request,
        kind=CaseKind.ID_UPDATE,
        form_class=IdUpdateForm,
        template="casework/id_update.html",
        details_from=lambda cd: {
            "new_cin": cd["new_cin"],
            "agency": cd["agency"],
            "preferred_date": cd["preferred_date"].isoformat(),
        },
    )
