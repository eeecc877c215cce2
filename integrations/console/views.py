"""The organisation's console: login (password, then TOTP), its keys, use, webhooks (docs/integrators.md)."""

import time

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login

from accounts.errors import AccountError, LoginFailed
from accounts.forms import TotpTokenForm
from accounts.middleware import mark_login
from accounts.models import User
from damane.access import client_ip
from damane.ratelimit import ratelimit
from integrations import services
from integrations.console import selectors
from integrations.console import services as console_services
from integrations.console.decorators import console_required
from integrations.console.forms import ConsoleLoginForm, EndpointForm, SandboxKeyForm
from integrations.forms import RevokeKeyForm
from integrations.models import ApiKey
from integrations.services import IntegrationError
from integrations.webhooks import services as webhooks
from integrations.webhooks.models import WebhookDelivery, WebhookEndpoint

BACKEND = "integrations.console.backends.ConsoleBackend"
SESSION_PENDING = "console_pending_login"
PENDING_SECONDS = 5 * 60

console_ratelimit = ratelimit(
    limit=lambda: settings.DAMANE_LOGIN_POSTS_PER_MINUTE, window=60, group="integrations.console.login"
)


@never_cache
@sensitive_post_parameters("password")
@console_ratelimit
@require_http_methods(["GET", "POST"])
def console_login(request):
    if request.user.is_authenticated and hasattr(request.user, "integrator_console") and request.user.is_verified():
        return redirect("console:home")
    form = ConsoleLoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = console_services.password_check(
                request=request, username=form.cleaned_data["username"], password=form.cleaned_data["password"]
            )
        except AccountError as exc:
            message = _("The username or the password is not correct.") if isinstance(exc, LoginFailed) else str(exc)
            form.add_error(None, message)
        else:
            # Not logged in yet: only the TOTP step logs in, under a new session key.
            request.session.cycle_key()
            request.session[SESSION_PENDING] = {"user": user.pk, "at": time.time()}
            return redirect("console:token")
    return render(request, "integrations/console/login.html", {"form": form}, status=400 if form.errors else 200)


@never_cache
@console_ratelimit
@require_http_methods(["GET", "POST"])
def console_token(request):
    pending = request.session.get(SESSION_PENDING)
    user = None
    if pending and time.time() - pending["at"] <= PENDING_SECONDS:
        user = User.objects.filter(
            pk=pending["user"], is_staff=False, is_active=True, insured__isnull=True, integrator_console__isnull=False
        ).first()
    if user is None:
        request.session.pop(SESSION_PENDING, None)
        messages.info(request, _("Please log in again."))
        return redirect("console:login")
    form = TotpTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = console_services.token_check(user=user, token=form.cleaned_data["token"])
        except AccountError as exc:
            if isinstance(exc, LoginFailed):
                form.add_error(None, _("This code is not valid. Use the current code of your app."))
            else:
                form.add_error(None, str(exc))
        else:
            request.session.pop(SESSION_PENDING, None)
            auth_login(request, user, backend=BACKEND)
            otp_login(request, device)
            mark_login(request)
            return redirect("console:home")
    return render(request, "integrations/console/token.html", {"form": form}, status=400 if form.errors else 200)


@require_POST
def console_logout(request):
    auth_logout(request)
    messages.info(request, _("You are logged out."))
    return redirect("console:login")


def _home(request, *, created_key=None, created_endpoint=None, action_form=None, status=200):
    organisation = request.organisation
    return render(
        request,
        "integrations/console/home.html",
        {
            "organisation": organisation,
            "keys": selectors.keys(organisation),
            "usage": selectors.usage_per_day(organisation),
            "endpoints": WebhookEndpoint.objects.filter(organisation=organisation),
            "deliveries": selectors.deliveries(organisation),
            "endpoint_form": EndpointForm()
            if action_form is None or not isinstance(action_form, EndpointForm)
            else action_form,
            "action_form": action_form,
            "created_key": created_key,
            "created_endpoint": created_endpoint,
        },
        status=status,
    )


@never_cache
@console_required
def home(request):
    return _home(request)


def _refused(request, form, message=None):
    form.is_valid()
    if message is not None:
        form.add_error(None, message)
    return _home(request, action_form=form, status=400)


@never_cache
@console_required
@require_POST
def key_rotate(request, pk):
    key = get_object_or_404(ApiKey, pk=pk, organisation=request.organisation)
    try:
        new, plaintext = services.api_key_rotate(key=key, actor=request.user, ip_address=client_ip(request) or None)
    except IntegrationError as error:
        return _refused(request, forms.Form({}), str(error))
    # Shown in this answer only (no-store), never stored in clear.
    return _home(request, created_key={"key": new, "plaintext": plaintext, "rotated": key})


@never_cache
@console_required
@require_POST
def sandbox_key_create(request):
    """A sandbox key at once, without the fund's review: it answers only from fictitious certificates."""
    form = SandboxKeyForm(request.POST)
    if not form.is_valid():
        return _refused(request, form)
    try:
        new, plaintext = services.sandbox_key_issue(
            organisation=request.organisation,
            label=form.cleaned_data["label"] or _("Sandbox"),
            actor=request.user,
            ip_address=client_ip(request) or None,
        )
    except IntegrationError as error:
        return _refused(request, form, str(error))
    # Shown in this answer only (no-store), never stored in clear.
    return _home(request, created_key={"key": new, "plaintext": plaintext, "sandbox": True})


@never_cache
@console_required
@require_POST
def key_revoke(request, pk):
    key = get_object_or_404(ApiKey, pk=pk, organisation=request.organisation)
    form = RevokeKeyForm(request.POST)
    if not form.is_valid():
        return _refused(request, form)
    try:
        services.api_key_revoke(
            key=key, actor=request.user, reason=form.cleaned_data["reason"], ip_address=client_ip(request) or None
        )
    except IntegrationError as error:
        return _refused(request, form, str(error))
    messages.success(request, _("Key %(prefix)s is revoked.") % {"prefix": key.prefix})
    return redirect("console:home")


@never_cache
@console_required
@require_POST
def endpoint_create(request):
    form = EndpointForm(request.POST)
    if not form.is_valid():
        return _home(request, action_form=form, status=400)
    try:
        endpoint, secret = webhooks.endpoint_register(
            organisation=request.organisation,
            url=form.cleaned_data["url"],
            events=form.cleaned_data["events"],
            actor=request.user,
            ip_address=client_ip(request) or None,
        )
    except webhooks.WebhookError as error:
        form.add_error(None, str(error))
        return _home(request, action_form=form, status=400)
    return _home(request, created_endpoint={"endpoint": endpoint, "secret": secret})


@never_cache
@console_required
@require_POST
def endpoint_toggle(request, pk):
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk, organisation=request.organisation)
    try:
        webhooks.endpoint_set_active(
            endpoint=endpoint,
            active=not endpoint.is_active,
            actor=request.user,
            ip_address=client_ip(request) or None,
        )
    except webhooks.WebhookError as error:
        return _refused(request, forms.Form({}), str(error))
    return redirect("console:home")


@never_cache
@console_required
@require_POST
def delivery_replay(request, pk):
    delivery = get_object_or_404(WebhookDelivery, pk=pk, endpoint__organisation=request.organisation)
    try:
        webhooks.delivery_replay(delivery=delivery, actor=request.user, ip_address=client_ip(request) or None)
    except webhooks.WebhookError as error:
        return _refused(request, forms.Form({}), str(error))
    messages.success(request, _("The event is being sent again."))
    return redirect("console:home")
