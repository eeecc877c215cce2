from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.views import account_ratelimit
from alerts.forms import AlertPreferenceForm
from alerts.services import alert_preference_set, arrears_alerts_enabled
from damane.access import client_ip, insured_required


@never_cache
@insured_required
@account_ratelimit
@require_http_methods(["GET", "POST"])
def alert_settings(request):
    enabled = arrears_alerts_enabled(request.user)
    form = AlertPreferenceForm(request.POST if request.method == "POST" else None, initial={"arrears_alerts": enabled})
    if request.method == "POST" and form.is_valid():
        wanted = form.cleaned_data["arrears_alerts"]
        alert_preference_set(user=request.user, enabled=wanted, ip_address=client_ip(request) or None)
        if wanted:
            messages.success(request, _("Arrears alerts are on: we will e-mail you if an employer misses a month."))
        else:
            messages.success(request, _("Arrears alerts are off."))
        return redirect("accounts:dashboard")
    return render(request, "alerts/settings.html", {"form": form, "enabled": enabled})
