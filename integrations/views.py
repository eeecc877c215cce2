"""Pages: the insured's share codes and who checked them; the public share-code page;
the back office's integrator organisations and their keys."""

from datetime import date
from functools import wraps

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from damane.access import agency_required, client_ip, insured_required
from damane.ratelimit import verification_ratelimit
from damane.roles import is_supervisor
from declarations.periods import Period
from integrations import selectors, services
from integrations.forms import (
    ApiKeyRestrictionsForm,
    IssueKeyForm,
    OrganisationForm,
    RevokeKeyForm,
    ShareCodeForm,
    ShareCodeLookupForm,
    SuspendForm,
)
from integrations.models import ApiKey, IntegratorVerification, Organisation, ShareCode, ShareCodeUse
from integrations.services import IntegrationError

HISTORY_LIMIT = 100


# --- The insured: share codes and who checked ------------------------------------------


def _current_employers(insured):
    return [e.employer for e in insured.employments.filter(end_date__isnull=True).select_related("employer")]


@never_cache
@insured_required
@require_http_methods(["GET", "POST"])
def sharing(request):
    insured = request.user.insured
    employers = _current_employers(insured)
    form = ShareCodeForm(request.POST or None, employers=employers)
    created = None
    if request.method == "POST" and form.is_valid():
        employer = next(e for e in employers if e.pk == form.cleaned_data["employer"])
        try:
            share, plaintext = services.share_code_create(
                insured=insured,
                employer=employer,
                recipient=form.cleaned_data["recipient"],
                valid_days=form.cleaned_data["valid_days"],
                show_employment=form.cleaned_data["show_employment"],
                show_employer_status=form.cleaned_data["show_employer_status"],
                show_last_period=form.cleaned_data["show_last_period"],
                actor=request.user,
                ip_address=client_ip(request) or None,
            )
        except IntegrationError as error:
            form.add_error(None, str(error))
        else:
            # Shown in this answer only (no-store), never stored in clear or put in a message.
            created = {"share": share, "code": plaintext}
            form = ShareCodeForm(employers=employers)
    now = timezone.now()
    codes = ShareCode.objects.filter(insured=insured).select_related("employer").annotate(use_count=Count("uses"))
    return render(
        request,
        "integrations/sharing.html",
        {
            "form": form,
            "employers": employers,
            "created": created,
            "codes": [{"share": c, "state": c.state(now)} for c in codes],
            "verifications": IntegratorVerification.objects.filter(insured=insured)
            .select_related("organisation", "certificate")
            .order_by("-at")[:HISTORY_LIMIT],
            "uses": ShareCodeUse.objects.filter(share_code__insured=insured)
            .select_related("share_code", "organisation")
            .order_by("-at")[:HISTORY_LIMIT],
        },
        status=400 if form.errors else 200,
    )


@never_cache
@insured_required
@require_POST
def sharing_revoke(request, pk):
    try:
        share = services.share_code_revoke(
            insured=request.user.insured, share_id=pk, actor=request.user, ip_address=client_ip(request) or None
        )
    except ShareCode.DoesNotExist:
        raise Http404 from None
    messages.success(request, _("The code for %(recipient)s is revoked.") % {"recipient": share.recipient})
    return redirect("integrations:sharing")


# --- The recipient: the public share-code page ----------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def share_lookup(request):
    if request.method == "POST":
        return _share_answer(request)
    return render(request, "integrations/share_lookup.html", {"form": ShareCodeLookupForm()})


@verification_ratelimit
def _share_answer(request):
    form = ShareCodeLookupForm(request.POST)
    if not form.is_valid():
        return render(request, "integrations/share_lookup.html", {"form": form}, status=400)
    share = services.share_code_use(raw=form.cleaned_data["code"], channel=ShareCodeUse.Channel.PAGE)
    context = {"form": ShareCodeLookupForm(), "checked": True, "share": share, "checked_at": timezone.now()}
    if share is not None:
        facts = selectors.share_facts(share)
        employment = facts.get("employment") or {}
        last = facts.get("last_declared_period")
        context.update(
            facts=facts,
            employed_since=date.fromisoformat(employment["since"]) if employment.get("since") else None,
            last_period=Period.parse(last) if last else None,
        )
    # One answer for unknown, malformed, expired and revoked codes.
    return render(request, "integrations/share_lookup.html", context, status=200 if share else 404)


# --- The back office: organisations and keys --------------------------------------------


def supervisor_required(view):
    """Agency staff may look; only a supervisor registers organisations and hands out,
    rotates or revokes keys: a key opens the registry's verification to a third party."""

    @agency_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.method == "POST" and not is_supervisor(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


@never_cache
@supervisor_required
@require_http_methods(["GET", "POST"])
def organisations(request):
    form = OrganisationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            organisation = services.organisation_register(
                **form.cleaned_data, actor=request.user, ip_address=client_ip(request) or None
            )
        except IntegrationError as error:
            form.add_error("name", str(error))
        else:
            messages.success(request, _("%(name)s is registered. Issue it a key below.") % {"name": organisation.name})
            return redirect("integrations:organisation", pk=organisation.pk)
    rows = Organisation.objects.annotate(
        active_keys=Count(
            "keys", filter=Q(keys__revoked_at__isnull=True, keys__expires_at__gt=timezone.now()), distinct=True
        ),
        lookups=Count("verifications", distinct=True),
    )
    return render(
        request,
        "integrations/organisations.html",
        {"form": form, "organisations": rows, "is_supervisor": is_supervisor(request.user)},
        status=400 if form.errors else 200,
    )


def _organisation_page(request, organisation, *, key_form=None, action_form=None, created=None, status=200):
    """``action_form``: a refused rotation, revocation or suspension, its errors shown at the top."""
    now = timezone.now()
    keys = organisation.keys.select_related("replaced_by").all()
    return render(
        request,
        "integrations/organisation.html",
        {
            "organisation": organisation,
            "keys": [{"key": k, "state": k.state(now)} for k in keys],
            "key_form": key_form or IssueKeyForm(),
            "revoke_form": RevokeKeyForm(),
            "action_form": action_form,
            "page_has_errors": bool(action_form is not None and action_form.errors),
            "created": created,
            "lookups": organisation.verifications.count(),
            "share_uses": organisation.share_code_uses.count(),
            "is_supervisor": is_supervisor(request.user),
            "scope_choices": ApiKeyRestrictionsForm.base_fields["scopes"].choices,
        },
        status=status,
    )


@never_cache
@supervisor_required
@require_http_methods(["GET", "POST"])
def organisation(request, pk):
    organisation = get_object_or_404(Organisation, pk=pk)
    if request.method != "POST":
        return _organisation_page(request, organisation)
    form = IssueKeyForm(request.POST)
    if form.is_valid():
        try:
            key, plaintext = services.api_key_issue(
                organisation=organisation,
                **form.cleaned_data,
                actor=request.user,
                ip_address=client_ip(request) or None,
            )
        except IntegrationError as error:
            # Shown at the top: a suspended organisation's page has no key form.
            return _refused(request, organisation.pk, form, str(error))
        return _organisation_page(request, organisation, created={"key": key, "plaintext": plaintext})
    return _organisation_page(request, organisation, key_form=form, status=400)


def _refused(request, organisation_pk, form, message=None):
    """The organisation's page as it is now, with why nothing was done."""
    form.is_valid()  # cleaned: errors can be added
    if message is not None:
        form.add_error(None, message)
    organisation = get_object_or_404(Organisation, pk=organisation_pk)
    return _organisation_page(request, organisation, action_form=form, status=400)


@never_cache
@supervisor_required
@require_POST
def key_rotate(request, pk):
    key = get_object_or_404(ApiKey.objects.select_related("organisation"), pk=pk)
    try:
        new, plaintext = services.api_key_rotate(key=key, actor=request.user, ip_address=client_ip(request) or None)
    except IntegrationError as error:
        return _refused(request, key.organisation_id, forms.Form({}), str(error))
    return _organisation_page(request, key.organisation, created={"key": new, "plaintext": plaintext, "rotated": key})


@never_cache
@supervisor_required
@require_POST
def key_revoke(request, pk):
    key = get_object_or_404(ApiKey.objects.select_related("organisation"), pk=pk)
    form = RevokeKeyForm(request.POST)
    if not form.is_valid():
        return _refused(request, key.organisation_id, form)
    try:
        services.api_key_revoke(
            key=key, actor=request.user, reason=form.cleaned_data["reason"], ip_address=client_ip(request) or None
        )
    except IntegrationError as error:
        return _refused(request, key.organisation_id, form, str(error))
    messages.success(request, _("Key %(prefix)s is revoked.") % {"prefix": key.prefix})
    return redirect("integrations:organisation", pk=key.organisation_id)


@never_cache
@supervisor_required
@require_POST
def key_restrict(request, pk):
    """Change a key's scopes and source networks (audited: integrations.api_key.restricted)."""
    key = get_object_or_404(ApiKey.objects.select_related("organisation"), pk=pk)
    form = ApiKeyRestrictionsForm(request.POST)
    if not form.is_valid():
        return _refused(request, key.organisation_id, form)
    try:
        services.api_key_restrict(
            key=key,
            scopes=form.cleaned_data["scopes"],
            allowed_networks=form.cleaned_data["allowed_networks"],
            actor=request.user,
            ip_address=client_ip(request) or None,
        )
    except IntegrationError as error:
        return _refused(request, key.organisation_id, form, str(error))
    messages.success(request, _("Key %(prefix)s: scopes and networks saved.") % {"prefix": key.prefix})
    return redirect("integrations:organisation", pk=key.organisation_id)


@never_cache
@supervisor_required
@require_POST
def organisation_suspend(request, pk):
    """Suspend (``active=0``) or reinstate (``active=1``) an organisation, with a reason."""
    organisation = get_object_or_404(Organisation, pk=pk)
    form = SuspendForm(request.POST)
    if not form.is_valid():
        return _refused(request, organisation.pk, form)
    active = form.cleaned_data["active"]
    try:
        services.organisation_set_active(
            organisation=organisation,
            active=active,
            actor=request.user,
            reason=form.cleaned_data["reason"],
            ip_address=client_ip(request) or None,
        )
    except IntegrationError as error:
        return _refused(request, organisation.pk, form, str(error))
    if active:
        messages.success(request, _("%(name)s is reinstated.") % {"name": organisation.name})
    else:
        messages.success(request, _("%(name)s is suspended: its keys stop at once.") % {"name": organisation.name})
    return redirect("integrations:organisation", pk=organisation.pk)
