import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login

from accounts.errors import AccountError, LoginFailed
from accounts.forms import TotpTokenForm
from accounts.middleware import mark_login
from accounts.models import User
from backoffice import selectors, services
from backoffice.forms import (
    AgencyCertificateForm,
    CaseCloseForm,
    DecisionNoteForm,
    IdentityChangeForm,
    RevocationForm,
    SearchForm,
    StaffLoginForm,
)
from backoffice.models import IDENTITY_FIELDS, IdentityChange
from backoffice.services import BackofficeError
from casework.forms import TREATY_COUNTRIES
from casework.four_eyes import can_decide as can_decide_four_eyes
from casework.models import Case, CaseKind, CaseStatus
from certificates import registry as kind_registry
from certificates import rules
from certificates.models import Certificate, CertificateFile, Channel
from certificates.selectors import insured_record
from certificates.services import (
    CertificateBlocked,
    CertificateError,
    certificate_issue,
    certificate_revoke,
    evaluate_record,
)
from damane.access import agency_required, client_ip, staff_required
from damane.agencies import AGENCIES
from damane.ratelimit import ratelimit
from damane.roles import AGENT, SUPERVISOR, held_roles, is_treaty_officer, staff_roles
from damane.storage import open_for_download
from declarations.status import status_for_employer
from registry.models import Insured

STAFF_BACKEND = "accounts.backends.StaffBackend"
SESSION_PENDING = "backoffice_pending_login"
# The TOTP step must follow the password step within this time.
PENDING_SECONDS = 5 * 60

staff_ratelimit = ratelimit(limit=lambda: settings.DAMANE_LOGIN_POSTS_PER_MINUTE, window=60, group="backoffice.login")


def _next_url(request) -> str:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return next_url
    return ""


def _refuse_insured(request):
    if request.user.is_authenticated and request.user.insured_id is not None:
        raise Http404


@never_cache
@sensitive_post_parameters("password")
@staff_ratelimit
@require_http_methods(["GET", "POST"])
def staff_login(request):
    _refuse_insured(request)
    next_url = _next_url(request)
    if request.user.is_authenticated and request.user.is_verified():
        return redirect(next_url or "backoffice:home")
    form = StaffLoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.staff_password_check(
                request=request, username=form.cleaned_data["username"], password=form.cleaned_data["password"]
            )
        except AccountError as exc:
            message = _("The username or the password is not correct.") if isinstance(exc, LoginFailed) else str(exc)
            form.add_error(None, message)
        else:
            # Not logged in yet: only the TOTP step logs in. A new session key
            # keeps a planted session id from riding on the password step.
            request.session.cycle_key()
            request.session[SESSION_PENDING] = {"user": user.pk, "at": time.time(), "next": next_url}
            return redirect("backoffice:token")
    return render(request, "backoffice/login.html", {"form": form, "next": next_url})


@never_cache
@staff_ratelimit
@require_http_methods(["GET", "POST"])
def staff_token(request):
    _refuse_insured(request)
    pending = request.session.get(SESSION_PENDING)
    user = None
    if pending and time.time() - pending["at"] <= PENDING_SECONDS:
        user = User.objects.filter(pk=pending["user"], is_staff=True, is_active=True, insured__isnull=True).first()
    if user is None:
        request.session.pop(SESSION_PENDING, None)
        messages.info(request, _("Please log in again."))
        return redirect("backoffice:login")
    form = TotpTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = services.staff_token_check(user=user, token=form.cleaned_data["token"])
        except AccountError as exc:
            if isinstance(exc, LoginFailed):
                form.add_error(None, _("This code is not valid. Use the current code of your app."))
            else:
                form.add_error(None, str(exc))
        else:
            request.session.pop(SESSION_PENDING, None)
            auth_login(request, user, backend=STAFF_BACKEND)
            otp_login(request, device)
            mark_login(request)
            return redirect(pending.get("next") or "backoffice:home")
    return render(request, "backoffice/token.html", {"form": form})


@require_POST
def staff_logout(request):
    auth_logout(request)
    messages.info(request, _("You are logged out."))
    return redirect("backoffice:login")


PAGE_SIZE = 25


def _page(request, items):
    return Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))


def _roles(request) -> set[str]:
    if not hasattr(request, "_staff_roles"):
        request._staff_roles = staff_roles(request.user)
    return request._staff_roles


@never_cache
@staff_required
def home(request):
    roles = _roles(request)
    context = {
        "is_supervisor": SUPERVISOR in roles,
        "is_agent": AGENT in roles,
        "is_treaty": is_treaty_officer(request.user),
        "held_roles": held_roles(request.user),
        "supervisor_role": SUPERVISOR,
        "form": SearchForm(),
    }
    if roles:
        context["open_requests"] = Case.objects.filter(status__in=selectors.OPEN_STATUSES).count()
        context["pending_changes"] = IdentityChange.objects.pending().count()
    return render(request, "backoffice/home.html", context)


# --- Finding a person and their record ---------------------------------------------------


@never_cache
@agency_required
def search(request):
    form = SearchForm(request.GET or None)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    found = selectors.insured_search(query) if query else None
    page = _page(request, found.results) if found and found.results is not None else None
    return render(request, "backoffice/search.html", {"form": form, "found": found, "page": page, "query": query})


def _certificate_decisions(insured: Insured, today):
    record = insured_record(insured, today=today)
    return [
        {"kind": kind, "label": label, "decision": evaluate_record(record, kind, None, today=today)}
        for kind, label in kind_registry.online_choices()
    ], record


@never_cache
@agency_required
def insured_detail(request, pk):
    insured = get_object_or_404(Insured, pk=pk)
    services.insured_viewed(insured=insured, actor=request.user, ip_address=client_ip(request))
    today = timezone.localdate()
    record = selectors.insured_file(insured, today=today)
    return render(
        request,
        "backoffice/insured_detail.html",
        {
            "insured": insured,
            "file": record,
            "today": today,
            "roles": _roles(request),
            "pending_change": next((c for c in record.identity_changes if c.is_pending), None),
        },
    )


# --- Identity changes: an agent proposes, another person (a supervisor) decides ------------


def _prefill_from_case(case: Case) -> dict:
    if case.kind == CaseKind.NAME_CORRECTION:
        requested = case.details.get("requested") or {}
        return {name: value for name, value in requested.items() if name in IDENTITY_FIELDS and value}
    if case.kind == CaseKind.ID_UPDATE and case.details.get("new_cin"):
        return {"cin": case.details["new_cin"]}
    return {}


@never_cache
@agency_required
@require_http_methods(["GET", "POST"])
def identity_change_new(request, pk):
    insured = get_object_or_404(Insured, pk=pk)
    reference = request.POST.get("case") or request.GET.get("case") or ""
    case = None
    if reference:
        case = get_object_or_404(
            Case,
            reference=reference,
            insured=insured,
            kind__in=[CaseKind.NAME_CORRECTION, CaseKind.ID_UPDATE],
        )
    initial = {
        name: ("" if value is None else value) for name, value in ((n, getattr(insured, n)) for n in IDENTITY_FIELDS)
    }
    if case is not None:
        initial.update(_prefill_from_case(case))
    form = IdentityChangeForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            change = services.identity_change_propose(
                insured=insured,
                actor=request.user,
                values=form.identity_values(),
                reason=form.cleaned_data["reason"],
                document=form.cleaned_data["document"],
                case=case,
                ip_address=client_ip(request),
            )
        except BackofficeError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("The change is recorded. A supervisor must approve it before it applies."))
            return redirect("backoffice:identity_change", pk=change.pk)
    return render(
        request,
        "backoffice/identity_change_form.html",
        {"insured": insured, "form": form, "case": case},
    )


@never_cache
@agency_required
def identity_change_list(request):
    status = request.GET.get("status", IdentityChange.Status.PENDING)
    changes = IdentityChange.objects.select_related("insured", "proposed_by", "decided_by")
    if status in IdentityChange.Status.values:
        changes = changes.filter(status=status)
    else:
        status = ""
    changes = changes.order_by("proposed_at", "pk") if status == IdentityChange.Status.PENDING else changes
    return render(
        request,
        "backoffice/identity_change_list.html",
        {"page": _page(request, changes), "status": status, "statuses": IdentityChange.Status.choices},
    )


def _change_rows(change: IdentityChange) -> list[dict]:
    labels = {name: Insured._meta.get_field(name).verbose_name for name in IDENTITY_FIELDS}
    return [
        {"name": name, "label": labels[name], "before": change.previous.get(name, ""), "after": value}
        for name, value in change.proposed.items()
    ]


def _change(pk) -> IdentityChange:
    return get_object_or_404(
        IdentityChange.objects.select_related("insured", "proposed_by", "decided_by", "case"), pk=pk
    )


def _render_change(request, change: IdentityChange, form: DecisionNoteForm, status: int = 200):
    can_decide = can_decide_four_eyes(services.IDENTITY_CHANGE_FOUR_EYES, change, request.user)
    return render(
        request,
        "backoffice/identity_change_detail.html",
        {"change": change, "rows": _change_rows(change), "can_decide": can_decide, "form": form},
        status=status,
    )


@never_cache
@agency_required
def identity_change_detail(request, pk):
    return _render_change(request, _change(pk), DecisionNoteForm())


def _decide_change(request, pk, decide, success_message):
    """Decide only on a valid note; otherwise the page again, with the error, and nothing decided."""
    change = _change(pk)
    form = DecisionNoteForm(request.POST)
    if form.is_valid():
        try:
            decide(change=change, actor=request.user, note=form.cleaned_data["note"], ip_address=client_ip(request))
        except BackofficeError as error:
            form.add_error(None, str(error))
            change = _change(pk)  # as it is now: someone else may have decided it meanwhile
        else:
            messages.success(request, success_message)
            return redirect("backoffice:identity_change", pk=change.pk)
    return _render_change(request, change, form, status=400)


@never_cache
@agency_required
@require_POST
def identity_change_approve(request, pk):
    return _decide_change(
        request, pk, services.identity_change_approve, _("The change is approved and applied to the registry.")
    )


@never_cache
@agency_required
@require_POST
def identity_change_reject(request, pk):
    return _decide_change(
        request, pk, services.identity_change_reject, _("The change is rejected; the registry is unchanged.")
    )


@never_cache
@agency_required
def identity_change_document(request, pk):
    change = get_object_or_404(IdentityChange, pk=pk)
    response = FileResponse(open_for_download(change.document), content_type=change.document_type)
    extension = change.document.name.rsplit(".", 1)[-1]
    response["Content-Disposition"] = f'attachment; filename="identity-change-{change.pk}.{extension}"'
    response["Cache-Control"] = "private, no-store"
    return response


# --- Certificates issued at the agency, and revocation --------------------------------


@never_cache
@agency_required
@require_http_methods(["GET", "POST"])
def certificate_new(request, pk):
    insured = get_object_or_404(Insured, pk=pk)
    today = timezone.localdate()
    decisions, record = _certificate_decisions(insured, today)
    employers = list({e.employer.id: e.employer for e in record.employments}.values())
    form = AgencyCertificateForm(request.POST or None, employers=employers, initial={"kind": request.GET.get("kind")})
    blocked = None
    if request.method == "POST" and form.is_valid():
        options = rules.Options(
            employer_id=form.cleaned_data["employer"], last_declared_period=form.cleaned_data["last_declared_period"]
        )
        try:
            certificate = certificate_issue(
                insured=insured,
                kind=form.cleaned_data["kind"],
                options=options,
                actor=request.user,
                channel=Channel.AGENCY,
                locale=form.cleaned_data["locale"],
                today=today,
                ip_address=client_ip(request),
            )
        except CertificateBlocked as error:
            blocked = error.decision
        except CertificateError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request, _("Certificate %(number)s is issued. Download it below.") % {"number": certificate.number}
            )
            return redirect(reverse("backoffice:insured", args=[insured.pk]) + "#certificates")
    return render(
        request,
        "backoffice/certificate_form.html",
        {"insured": insured, "form": form, "decisions": decisions, "blocked": blocked},
    )


@never_cache
@agency_required
def certificate_download(request, public_id):
    certificate = get_object_or_404(Certificate.objects.select_related("insured"), public_id=public_id)
    data = CertificateFile.objects.of(certificate).values_list("data", flat=True).first()
    if data is None:
        # Past its retention (certificates/retention.py): the certificate itself still verifies.
        if certificate.insured_id is None:
            raise Http404
        messages.warning(request, _("The PDF file of this certificate is no longer kept"))
        return redirect(reverse("backoffice:insured", args=[certificate.insured_id]) + "#certificates")
    services.certificate_downloaded(certificate=certificate, actor=request.user, ip_address=client_ip(request))
    response = HttpResponse(bytes(data), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{certificate.number}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


@never_cache
@agency_required
@require_http_methods(["GET", "POST"])
def certificate_revoke_view(request, public_id):
    certificate = get_object_or_404(Certificate.objects.select_related("insured", "employer"), public_id=public_id)
    # Bound on every POST, even an empty one: a missing reason is an error shown, not a blank form.
    form = RevocationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            certificate_revoke(
                certificate=certificate,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                ip_address=client_ip(request),
            )
        except CertificateError as error:
            form.add_error(None, str(error))
            certificate.refresh_from_db()  # as it is now: someone else may have revoked it meanwhile
        else:
            messages.success(request, _("Certificate %(number)s is revoked.") % {"number": certificate.number})
            if certificate.insured_id is None:
                return redirect("unregistered:person", pk=certificate.unregistered_person_id)
            return redirect(reverse("backoffice:insured", args=[certificate.insured_id]) + "#certificates")
    return render(
        request,
        "backoffice/certificate_revoke.html",
        {"certificate": certificate, "form": form, "state": certificate.state_on(timezone.localdate())},
        status=400 if form.errors else 200,
    )


# --- Requests queue (a request is a Case in code: docs/decisions.md) ------------------


@never_cache
@agency_required
def case_list(request):
    status = request.GET.get("status", "")
    kind = request.GET.get("kind", "")
    if status not in ("open", *CaseStatus.values):
        status = ""
    if kind not in CaseKind.values:
        kind = ""
    return render(
        request,
        "backoffice/request_list.html",
        {
            "page": _page(request, selectors.case_queue(status=status, kind=kind)),
            "status": status,
            "kind": kind,
            "statuses": CaseStatus.choices,
            "kinds": CaseKind.choices,
        },
    )


def _render_case(request, case: Case, close_form, status=200):
    employer_status = None
    if case.kind in (CaseKind.EMPLOYER_NOTICE, CaseKind.ARREARS_REPORT) and case.employer is not None:
        employer_status = status_for_employer(case.employer, today=timezone.localdate())
    return render(
        request,
        "backoffice/request_detail.html",
        {
            "case": case,
            "documents": case.documents.all(),
            "employer_status": employer_status,
            "identity_changes": case.identity_changes.select_related("proposed_by", "decided_by"),
            "close_form": close_form,
            "page_has_errors": bool(close_form.errors),
            "can_propose": case.is_open and case.kind in (CaseKind.NAME_CORRECTION, CaseKind.ID_UPDATE),
            "is_treaty": case.kind == CaseKind.TREATY and is_treaty_officer(request.user),
            "agency": dict(AGENCIES).get(case.details.get("agency"), case.details.get("agency")),
            "country": dict(TREATY_COUNTRIES).get(case.details.get("country"), case.details.get("country")),
        },
        status=status,
    )


@never_cache
@agency_required
def case_detail(request, reference):
    case = get_object_or_404(Case.objects.select_related("insured", "employer", "handled_by"), reference=reference)
    return _render_case(request, case, CaseCloseForm())


@agency_required
@require_POST
def case_take(request, reference):
    case = get_object_or_404(Case, reference=reference)
    try:
        services.case_handle(
            case=case, actor=request.user, status=CaseStatus.IN_PROGRESS, ip_address=client_ip(request)
        )
    except BackofficeError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("You are handling request %(reference)s.") % {"reference": case.reference})
    return redirect("backoffice:request", reference=case.reference)


@never_cache
@agency_required
@require_POST
def case_close(request, reference):
    case = get_object_or_404(Case.objects.select_related("insured", "employer", "handled_by"), reference=reference)
    form = CaseCloseForm(request.POST)
    if form.is_valid():
        try:
            services.case_handle(
                case=case,
                actor=request.user,
                status=form.cleaned_data["status"],
                note=form.cleaned_data["note"],
                ip_address=client_ip(request),
            )
        except BackofficeError as error:
            form.add_error(None, str(error))
            case.refresh_from_db()  # as it is now: someone else may have closed it meanwhile
        else:
            messages.success(request, _("Request %(reference)s is closed.") % {"reference": case.reference})
            return redirect("backoffice:request", reference=case.reference)
    return _render_case(request, case, form, status=400)
