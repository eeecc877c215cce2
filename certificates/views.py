from django.conf import settings
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from certificates import registry, rules
from certificates.forms import CertificateRequestForm
from certificates.models import Certificate, CertificateFile
from certificates.selectors import insured_record
from certificates.services import CertificateBlocked, CertificateError, certificate_issue, evaluate_record
from damane.access import client_ip, insured_required


def _online_kind(kind: str):
    """The registered kind the insured may ask for online, or 404."""
    spec = registry.find(kind)
    if spec is None or not spec.online:
        raise Http404
    return spec


def _candidate_employers(record, spec):
    """Employers the form offers for this type: active ones, or ended ones (deregistration)."""
    if spec.employer_choice == "active":
        employments = record.active_employments
    elif spec.employer_choice == "ended":
        employments = record.ended_employments
    else:
        return []
    return list({e.employer.id: e.employer for e in employments}.values())


@never_cache
@insured_required
def index(request):
    insured = request.user.insured
    today = timezone.localdate()
    record = insured_record(insured, today=today)
    cards = [
        {
            "kind": spec.value,
            "label": spec.label,
            "description": spec.description,
            "decision": evaluate_record(record, spec.value, None, today=today),
        }
        for spec in registry.online_kinds()
    ]
    # Whether each PDF is still kept (certificates/retention.py): one EXISTS a row, in its month's partition.
    kept = CertificateFile.objects.filter(certificate=OuterRef("pk"), issued_on=OuterRef("issued_on"))
    issued = Certificate.objects.for_insured(insured).annotate(file_kept=Exists(kept)).order_by("-issued_at")[:50]
    return render(
        request,
        "certificates/index.html",
        {"cards": cards, "issued": issued, "today": today, "insured": insured, "record": record},
    )


# Decisions that a choice on the form settles, and the field where that choice is made.
OPTION_FIELDS = {
    "choose_main_employer": "employer",
    "choose_ended_employer": "employer",
    "unknown_employer": "employer",
    "employer_one_period_behind": "last_declared_period",
}


def needs_options(decision) -> bool:
    return not decision.allowed and decision.code in OPTION_FIELDS


@never_cache
@insured_required
@require_http_methods(["GET", "POST"])
def request_certificate(request, kind):
    spec = _online_kind(kind)
    insured = request.user.insured
    today = timezone.localdate()
    # Only these types offer a choice of employer; for the others a request
    # reads the record once, in certificate_issue under its lock (issue 10).
    record = insured_record(insured, today=today) if spec.employer_choice else None
    employers = _candidate_employers(record, spec) if record is not None else []
    data = request.POST if request.method == "POST" else None
    form = CertificateRequestForm(data, employers=employers, kind=kind)
    options = rules.Options(employer_id=employers[0].id if len(employers) == 1 else None)
    if form.is_bound and form.is_valid():
        options = rules.Options(
            employer_id=form.cleaned_data["employer"] or options.employer_id,
            last_declared_period=form.cleaned_data["last_declared_period"],
        )

    decision = None
    if request.method == "POST" and form.is_valid():
        try:
            certificate = certificate_issue(
                insured=insured,
                kind=kind,
                options=options,
                actor=request.user,
                locale=get_language() or settings.LANGUAGE_CODE,
                today=today,
                ip_address=client_ip(request),
            )
        except CertificateBlocked as blocked:
            decision = blocked.decision
            # The reason goes where the insured can act on it: the field, or the top of the form.
            form.add_error(OPTION_FIELDS.get(decision.code), decision.message)
        except CertificateError as error:
            form.add_error(None, str(error))
        else:
            return redirect(reverse("certificates:detail", args=[certificate.public_id]) + "?ready=1")
    if decision is None:
        if record is None:
            record = insured_record(insured, today=today)
        decision = evaluate_record(record, kind, options, today=today)
    return render(
        request,
        "certificates/request.html",
        {
            "kind": kind,
            "label": spec.label,
            "description": spec.description,
            "form": form,
            "decision": decision,
            "can_request": decision.allowed or needs_options(decision),
            "employers": employers,
            "options": options,
            # The box matters only when an employer is one period behind (or it is already ticked).
            "show_last_declared": spec.last_declared_option
            and (options.last_declared_period or getattr(decision, "code", "") == "employer_one_period_behind"),
        },
    )


def _own_certificate(request, public_id):
    return get_object_or_404(
        Certificate.objects.select_related("employer"), public_id=public_id, insured=request.user.insured
    )


@never_cache
@insured_required
def detail(request, public_id):
    certificate = _own_certificate(request, public_id)
    verify_url = request.build_absolute_uri(reverse("verification:certificate", args=[certificate.public_id]))
    return render(
        request,
        "certificates/detail.html",
        {
            "certificate": certificate,
            "state": certificate.state_on(timezone.localdate()),
            "verify_url": verify_url,
            "facts": certificate.snapshot.get("facts", {}),
            "ready": request.GET.get("ready") == "1",
            "file_kept": CertificateFile.objects.of(certificate).exists(),
            "new_url": _new_certificate_url(certificate),
        },
    )


def _new_certificate_url(certificate) -> str:
    if certificate.kind in {spec.value for spec in registry.online_kinds()}:
        return reverse("certificates:request", args=[certificate.kind])
    return reverse("certificates:index") + "#new-title"


@never_cache
@insured_required
def download(request, public_id):
    certificate = _own_certificate(request, public_id)
    data = CertificateFile.objects.of(certificate).values_list("data", flat=True).first()
    if data is None:
        # Past its retention: the certificate's page says so and offers a new one.
        return redirect("certificates:detail", certificate.public_id)
    response = HttpResponse(bytes(data), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{certificate.number}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response
