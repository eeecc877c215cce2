from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import requires_csrf_token
from django.views.decorators.http import require_GET

from damane.agencies import AGENCIES
from damane.api import is_api_request, problem

THEME_COLOUR = "#0b5d3b"  # --green in static/css/damane.css


@require_GET
def home(request):
    return render(request, "home.html")


@require_GET
def help_page(request):
    """Questions people ask, and the agency finder: the agencies that take ID-update visits, by city."""
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


def _asked_language(request):
    """The language named by ``?lang=`` when it is one of the portal's, else the active one."""
    asked = request.GET.get("lang", "")
    return asked if asked in dict(settings.LANGUAGES) else translation.get_language()


@require_GET
def manifest(request):
    """The web app manifest of the portal for the insured, in the language asked (``?lang=fr|ar|en``).

    base.html links it with the page's language, so an installed app is named in the
    language the person uses; ``start_url`` is the dashboard (the login page first when
    signed out).
    """
    language = _asked_language(request)
    with translation.override(language):
        data = {
            "id": reverse("accounts:dashboard"),
            "name": _("Damane — social security online"),
            "short_name": "Damane",
            "description": _("Your CNSS employers, declared salaries and signed certificates, on your phone."),
            "lang": language,
            "dir": "rtl" if translation.get_language_bidi() else "ltr",
            "start_url": reverse("accounts:dashboard"),
            "scope": "/",
            "display": "standalone",
            "orientation": "portrait",
            "theme_color": THEME_COLOUR,
            "background_color": "#ffffff",
            "icons": [
                {"src": static("img/icons/icon-192.png"), "sizes": "192x192", "type": "image/png", "purpose": "any"},
                {"src": static("img/icons/icon-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "any"},
                {
                    "src": static("img/icons/icon-maskable-512.png"),
                    "sizes": "512x512",
                    "type": "image/png",
                    "purpose": "maskable",
                },
            ],
        }
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/manifest+json"
    response["Cache-Control"] = "public, max-age=3600"
    patch_vary_headers(response, ("Cookie", "Accept-Language"))
    return response


@require_GET
def offline(request):
    """What the installed app shows without a network: what still works (the verifier) and what does not.

    The service worker stores it once per language (``?lang=``, fetched without
    cookies), so it never holds anything personal.
    """
    with translation.override(_asked_language(request)):
        response = render(request, "offline.html")
    return response


@require_GET
def service_worker(request):
    """The portal's service worker, at the root so that its scope covers every page.

    It answers a failed navigation with the offline page and never stores a page
    it fetched: personal pages stay out of every cache.
    """
    response = render(
        request,
        "service-worker.js",
        {"language": _asked_language(request)},
        content_type="text/javascript; charset=utf-8",
    )
    # Browsers check for a new worker on each visit: it must never come from an HTTP cache.
    response["Cache-Control"] = "no-cache"
    return response
