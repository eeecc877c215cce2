import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login

from accounts.errors import AccountError, LoginFailed
from accounts.middleware import mark_login
from accounts.models import User
from backoffice import services
from backoffice.decorators import staff_required
from backoffice.forms import StaffLoginForm, StaffTokenForm
from damane.ratelimit import ratelimit

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
    form = StaffTokenForm(request.POST or None)
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


@never_cache
@staff_required
def home(request):
    user = request.user
    return render(
        request,
        "backoffice/home.html",
        {
            "is_supervisor": user.groups.filter(name="supervisor").exists(),
            "is_agent": user.groups.filter(name="agent").exists(),
        },
    )
