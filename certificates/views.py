from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from certificates import rules
from certificates.forms import CertificateRequestForm
from certificates.models import Certificate, CertificateKind
from certificates.selectors import insured_record
from certificates.services import CertificateBlocked, CertificateError, certificate_issue, evaluate_record
from damane.access import client_ip, insured_required

KIND_DESCRIPTIONS = {
    CertificateKind.EMPLOYMENT: gettext_lazy("States that you are declared as a salaried employee of an employer."),
    CertificateKind.AFFILIATION: gettext_lazy("States that you are registered with the fund, and by which employers."),
    CertificateKind.NON_AFFILIATION: gettext_lazy(
        "States that no salaried activity was declared for you over the last 12 months (AMO Achamil)."
    ),
    CertificateKind.ANNUAL_SALARY: gettext_lazy(
        "Your declared salaries over the last 12 months, employer by employer."
    ),
    CertificateKind.DECLARED_DAYS: gettext_lazy("Your declared days over your whole career, by year and quarter."),
    CertificateKind.DEREGISTRATION: gettext_lazy("States the end of an employment: dates, last period and reason."),
}


def _candidate_employers(record, kind):
    """Employers the form offers for this type: active ones, or ended ones for deregistration."""
    if kind == rules.EMPLOYMENT:
        employments = record.active_employments
    elif kind == rules.DEREGISTRATION:
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
            "kind": kind,
            "label": label,
            "description": KIND_DESCRIPTIONS[kind],
            "decision": evaluate_record(record, kind, None, today=today),
        }
        for kind, label in CertificateKind.choices
    ]
    issued = Certificate.objects.for_insured(insured).order_by("-issued_at")[:50]
    return render(
        request,
        "certificates/index.html",
        {"cards": cards, "issued": issued, "today": today, "insured": insured, "record": record},
    )


@never_cache
@insured_required
@require_http_methods(["GET", "POST"])
def request_certificate(request, kind):
    if kind not in CertificateKind.values:
        raise Http404
    insured = request.user.insured
    today = timezone.localdate()
    record = insured_record(insured, today=today)
    employers = _candidate_employers(record, kind)
    data = request.POST if request.method == "POST" else (request.GET or None)
    form = CertificateRequestForm(data, employers=employers)
    options = rules.Options()
    if form.is_bound and form.is_valid():
        options = rules.Options(
            employer_id=form.cleaned_data["employer"],
            last_declared_period=form.cleaned_data["last_declared_period"],
        )
    elif len(employers) == 1:
        options = rules.Options(employer_id=employers[0].id)
    decision = evaluate_record(record, kind, options, today=today)

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
        except CertificateError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Your certificate %(number)s is ready.") % {"number": certificate.number})
            return redirect("certificates:detail", public_id=certificate.public_id)
    return render(
        request,
        "certificates/request.html",
        {
            "kind": kind,
            "label": CertificateKind(kind).label,
            "description": KIND_DESCRIPTIONS[kind],
            "form": form,
            "decision": decision,
            "employers": employers,
            "options": options,
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
        },
    )


@never_cache
@insured_required
def download(request, public_id):
    certificate = _own_certificate(request, public_id)
    response = HttpResponse(bytes(certificate.file.data), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{certificate.number}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response
