"""The back office's webhook pages: a supervisor registers, switches and replays an organisation's endpoints.

Agents see them on the organisation's page (``{% webhook_panel %}``); only supervisors write.
"""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from damane.access import client_ip
from integrations.console.forms import EndpointForm
from integrations.models import Organisation
from integrations.views import supervisor_required
from integrations.webhooks import services
from integrations.webhooks.models import WebhookDelivery, WebhookEndpoint


@never_cache
@supervisor_required
@require_POST
def endpoint_create(request, pk):
    organisation = get_object_or_404(Organisation, pk=pk)
    form = EndpointForm(request.POST)
    error = None
    if form.is_valid():
        try:
            endpoint, secret = services.endpoint_register(
                organisation=organisation,
                url=form.cleaned_data["url"],
                events=form.cleaned_data["events"],
                actor=request.user,
                ip_address=client_ip(request) or None,
            )
        except services.WebhookError as exc:
            error = str(exc)
        else:
            return render(
                request,
                "integrations/webhooks/created.html",
                {"organisation": organisation, "endpoint": endpoint, "secret": secret},
            )
    else:
        error = " ".join(message for messages_ in form.errors.values() for message in messages_)
    messages.error(request, error)
    return redirect("integrations:organisation", pk=organisation.pk)


@never_cache
@supervisor_required
@require_POST
def endpoint_toggle(request, pk):
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    try:
        services.endpoint_set_active(
            endpoint=endpoint, active=not endpoint.is_active, actor=request.user, ip_address=client_ip(request) or None
        )
    except services.WebhookError as exc:
        messages.error(request, str(exc))
    return redirect("integrations:organisation", pk=endpoint.organisation_id)


@never_cache
@supervisor_required
@require_POST
def delivery_replay(request, pk):
    delivery = get_object_or_404(WebhookDelivery.objects.select_related("endpoint"), pk=pk)
    try:
        services.delivery_replay(delivery=delivery, actor=request.user, ip_address=client_ip(request) or None)
    except services.WebhookError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The event is being sent again."))
    return redirect("integrations:organisation", pk=delivery.endpoint.organisation_id)
