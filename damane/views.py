from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import requires_csrf_token
from django.views.decorators.http import require_GET

from damane.api import is_api_request, problem


@require_GET
def home(request):
    return render(request, "home.html")


@require_GET
def help_page(request):
    """Questions people ask, and the agency finder: the agencies that take ID-update visits, by city."""
    from casework.forms import AGENCIES

    agencies = [{"code": code, "name": str(name), "city": str(name).split(" — ")[0]} for code, name in AGENCIES]
    city = request.GET.get("city", "")
    found = [agency for agency in agencies if agency["city"] == city]
    return render(
        request,
        "help.html",
        {
            "cities": sorted({a["city"] for a in agencies}),
            "city": city,
            "found": found,
            "searched": "city" in request.GET,
            "contact_phone": settings.DAMANE_CONTACT_PHONE,
            "contact_email": settings.DAMANE_CONTACT_EMAIL,
        },
    )


@never_cache
@require_GET
def health(request):
    """Liveness and database check for load balancers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


# --- Error handlers: pages render the templates, the API answers JSON (damane/api.py) ------------


@requires_csrf_token
def permission_denied(request, exception):
    if is_api_request(request):
        return problem(403)
    return defaults.permission_denied(request, exception)


@requires_csrf_token
def page_not_found(request, exception):
    if is_api_request(request):
        return problem(404)
    return defaults.page_not_found(request, exception)
