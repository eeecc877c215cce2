"""``{% webhook_panel organisation is_supervisor %}``: endpoints and latest deliveries on the staff page."""

from django import template

from integrations.console.forms import EndpointForm
from integrations.console.selectors import deliveries
from integrations.webhooks.models import WebhookEndpoint

register = template.Library()


@register.inclusion_tag("integrations/webhooks/_panel.html", takes_context=True)
def webhook_panel(context, organisation, is_supervisor=False):
    return {
        "request": context.get("request"),
        "csrf_token": context.get("csrf_token"),
        "organisation": organisation,
        "is_supervisor": is_supervisor,
        "endpoints": WebhookEndpoint.objects.filter(organisation=organisation),
        "deliveries": deliveries(organisation, limit=20),
        "endpoint_form": EndpointForm(),
        "staff": True,
    }
