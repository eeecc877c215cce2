from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from accounts import recovery, services
from accounts import registration as registration_pages
from accounts.errors import AccountError
from accounts.forms import (
    ActivationForm,
    EmailChangeForm,
    InsuredPasswordChangeForm,
    InsuredPasswordResetForm,
    LoginForm,
    RecoveryCodeForm,
    RecoveryStartForm,
    RegistrationForm,
    ResetSetPasswordForm,
)
from accounts.middleware import mark_login
from accounts.models import Registration
from accounts.signals import dashboard_context
from damane.access import client_ip, insured_required
from damane.hooks import merged_context
from damane.ratelimit import hit, peek, ratelimit, ratelimited_response
from declarations.models import DeclarationLine
from declarations.periods import period_range
from declarations.status import expected_period, statuses_for_employers

INSURED_BACKEND = "accounts.backends.InsuredBackend"
SESSION_ACTIVATION = "damane_activation"
SESSION_RECOVERY = "damane_recovery"


def _account_posts():
    return settings.DAMANE_ACCOUNT_POSTS_PER_MINUTE


def _login_posts():
    return settings.DAMANE_LOGIN_POSTS_PER_MINUTE


account_ratelimit = ratelimit(limit=_account_posts, window=60, group="accounts.forms")


def _insured_home(request):
    return request.user.is_authenticated and request.user.insured_id is not None


# --- Registration and activation ------------------------------------------------


@never_cache
@sensitive_post_parameters("password")
@account_ratelimit
@require_http_methods(["GET", "POST"])
def register(request):
    if _insured_home(request):
        return redirect("accounts:dashboard")
    form = RegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        ip = client_ip(request)
        # Only the identity-mismatch answers differ for unknown pairs: they are
        # counted per client address, and once the allowance is spent every
        # registration from that address waits, so the limit cannot be probed.
        bucket = f"accounts.identity-mismatch:{ip}"
        limit, window = settings.DAMANE_IDENTITY_MISMATCHES_PER_HOUR, 3600
        state = peek(bucket, limit=limit, window=window)
        if not state.allowed:
            return ratelimited_response(request, state.retry_after)
        data = form.cleaned_data
        result = services.registration_start(
            cnss_number=data["cnss_number"],
            cin=data["cin"],
            email=data["email"],
            password=data["password"],
            ip_address=ip or None,
            language=get_language() or "",
        )
        if result.outcome in (services.MISMATCH, services.OUTDATED_CIN):
            counted = hit(bucket, limit=limit, window=window)
            if not counted.allowed:
                return ratelimited_response(request, counted.retry_after)
        if result.outcome == services.MISMATCH:
            return render(request, "accounts/register.html", {"form": form, "mismatch": True})
        if result.outcome == services.OUTDATED_CIN:
            return render(request, "accounts/register_outdated_cin.html")
        if result.outcome == services.NO_PHONE:
            return render(request, "accounts/register_no_phone.html")
        # A decoy (the account exists, or the e-mail is taken) has a registration
        # too: the session and every page after it are alike (docs/accounts.md).
        request.session[SESSION_ACTIVATION] = {"registration": result.registration.pk, "phone": result.phone_masked}
        if result.send_error is not None:
            messages.warning(request, str(result.send_error))
        return redirect("accounts:activate")
    return render(request, "accounts/register.html", {"form": form})


def _activation_state(request):
    return request.session.get(SESSION_ACTIVATION)


def _open_registration(state):
    if not isinstance(state, dict) or not isinstance(state.get("registration"), int):
        return None
    return Registration.objects.filter(pk=state["registration"]).first()


@never_cache
@account_ratelimit
@require_http_methods(["GET", "POST"])
def activate(request):
    state = _activation_state(request)
    registration = _open_registration(state)
    if registration is None:
        request.session.pop(SESSION_ACTIVATION, None)
        messages.info(request, _("Start by registering: the activation code is sent at the end of registration."))
        return redirect("accounts:register")
    form = ActivationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.registration_activate(
                registration=registration, code=form.cleaned_data["code"], ip_address=client_ip(request) or None
            )
        except AccountError as exc:
            form.add_error("code", str(exc))
        else:
            request.session.pop(SESSION_ACTIVATION, None)
            auth_login(request, user, backend=INSURED_BACKEND)
            mark_login(request)
            messages.success(request, _("Your account is active. Welcome to Damane."))
            return redirect("accounts:dashboard")
    now = timezone.now()
    latest = registration_pages.latest_code(registration)
    context = {
        "form": form,
        "phone_masked": state["phone"],
        "sms_status": registration_pages.sms_status(registration, now, latest=latest),
        "resend_wait": registration_pages.resend_wait(registration, now, latest=latest),
    }
    return render(request, "accounts/activate.html", context)


@never_cache
@account_ratelimit
@require_POST
def resend(request):
    registration = _open_registration(_activation_state(request))
    if registration is None:
        return redirect("accounts:register")
    try:
        services.registration_resend(registration=registration)
    except AccountError as exc:
        messages.warning(request, str(exc))
    else:
        messages.success(
            request, _("A new code was sent to %(phone)s.") % {"phone": request.session[SESSION_ACTIVATION]["phone"]}
        )
    return redirect("accounts:activate")


# --- Login and logout -------------------------------------------------------------


@never_cache
@sensitive_post_parameters("password")
@ratelimit(limit=_login_posts, window=60, group="accounts.login")
@require_http_methods(["GET", "POST"])
def login_view(request):
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    host = request.get_host()
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={host}, require_https=request.is_secure()):
        next_url = ""
    if _insured_home(request) and request.method == "GET":
        return redirect(next_url or "accounts:dashboard")
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.login_check(
                request=request, identifier=form.cleaned_data["identifier"], password=form.cleaned_data["password"]
            )
        except AccountError as exc:
            form.add_error(None, str(exc))
        else:
            auth_login(request, user)
            mark_login(request)
            return redirect(next_url or "accounts:dashboard")
    return render(request, "accounts/login.html", {"form": form, "next": next_url})


@require_POST
def logout_view(request):
    auth_logout(request)
    messages.info(request, _("You are logged out."))
    return redirect("home")


# --- Dashboard ------------------------------------------------------------------------


def _money(centimes: int) -> Decimal:
    return Decimal(centimes) / 100


@never_cache
@insured_required
def dashboard(request):
    insured = request.user.insured
    today = timezone.localdate()
    employments = list(insured.employments.select_related("employer").order_by("end_date", "-start_period"))
    current = [e for e in employments if e.is_active]
    former = [e for e in employments if not e.is_active]
    statuses = statuses_for_employers({e.employer for e in current}, today=today)
    employers = [{"employment": e, "employer": e.employer, "status": statuses[e.employer_id]} for e in current]

    last = expected_period(today)
    periods = list(reversed(period_range(last - 11, last)))
    lines = (
        DeclarationLine.objects.filter(
            insured=insured, is_current=True, period__gte=str(periods[-1]), period__lte=str(periods[0])
        )
        .select_related("employer")
        .order_by("-period", "employer__name")
    )
    by_period = {}
    for line in lines:
        by_period.setdefault(line.period, []).append(
            {"line": line, "real_salary": _money(line.real_salary), "capped_salary": _money(line.capped_salary)}
        )
    months = [{"period": p, "month": p.first_day, "lines": by_period.get(str(p), [])} for p in periods]
    return render(
        request,
        "accounts/dashboard.html",
        {
            "insured": insured,
            "employers": employers,
            "former": former,
            "months": months,
            "declared_months": sum(1 for m in months if m["lines"]),
            "expected": last,
            # What the apps above add (the treaties app: where each treaty request stands).
            **merged_context(dashboard_context, insured=insured),
        },
    )


# --- Account settings (docs/security.md §10) ------------------------------------------------


@never_cache
@sensitive_post_parameters("current_password")
@insured_required
@account_ratelimit
@require_http_methods(["GET", "POST"])
def email_change(request):
    form = EmailChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.email_change(
                user=request.user, new_email=form.cleaned_data["email"], ip_address=client_ip(request) or None
            )
        except AccountError as exc:
            form.add_error("email", str(exc))
        else:
            messages.success(request, _("Your e-mail address was changed. We told your previous address."))
            return redirect("accounts:dashboard")
    return render(request, "accounts/email_change.html", {"form": form})


@never_cache
@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@insured_required
@account_ratelimit
@require_http_methods(["GET", "POST"])
def password_change(request):
    form = InsuredPasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        # Keep this session; every other session of the account ends.
        update_session_auth_hash(request, user)
        messages.success(request, _("Your password was changed. We sent a notice to your e-mail address."))
        return redirect("accounts:dashboard")
    return render(request, "accounts/password_change.html", {"form": form})


# --- Account recovery by SMS (no e-mail access) -----------------------------------------


@never_cache
@account_ratelimit
@require_http_methods(["GET", "POST"])
def recovery_start(request):
    """CNSS number and CIN; a code goes to the employer-declared phone. One answer whether or not they match."""
    form = RecoveryStartForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # A refused or failed send says nothing here: a different page for a
        # known pair would tell a stranger that the pair has an account. The
        # worker sends the SMS; the next page's countdown says when to start again.
        recovery_request = recovery.recovery_request(
            cnss_number=form.cleaned_data["cnss_number"], cin=form.cleaned_data["cin"]
        )
        request.session[SESSION_RECOVERY] = {"request": recovery_request.pk}
        return redirect("accounts:recovery_code")
    return render(request, "accounts/recovery_start.html", {"form": form})


@never_cache
@sensitive_post_parameters("new_password")
@account_ratelimit
@require_http_methods(["GET", "POST"])
def recovery_code(request):
    state = request.session.get(SESSION_RECOVERY)
    if not isinstance(state, dict) or not isinstance(state.get("request"), int):
        return redirect("accounts:recovery_start")
    form = RecoveryCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            recovery.recovery_complete(
                request_id=state["request"],
                code=form.cleaned_data["code"],
                new_password=form.cleaned_data["new_password"],
                ip_address=client_ip(request) or None,
            )
        except recovery.PasswordRefused as exc:
            form.add_error("new_password", exc.error)
        except AccountError as exc:
            form.add_error("code", str(exc))
        else:
            request.session.pop(SESSION_RECOVERY, None)
            messages.success(request, _("Your new password is saved. Log in with it now."))
            return redirect("accounts:login")
    wait = recovery.resend_wait(recovery.recovery_request_for(state["request"]), timezone.now())
    return render(request, "accounts/recovery_code.html", {"form": form, "resend_wait": wait})


# --- Password reset by e-mail link ---------------------------------------------------------


@method_decorator(account_ratelimit, name="dispatch")
class PasswordResetView(auth_views.PasswordResetView):
    form_class = InsuredPasswordResetForm
    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/email/password_reset_body.txt"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form):
        # Links point to SITE_URL, never to the Host header of the request.
        self.extra_email_context = {"site_url": settings.SITE_URL}
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


@method_decorator(account_ratelimit, name="dispatch")
class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = ResetSetPasswordForm
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["login_url"] = reverse("accounts:login")
        return context
