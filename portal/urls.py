"""The root URLconf: the kernel's pages, then every app's URLs (the top layer, docs/architecture.md).

The apps' URLconfs are imported, not named in strings, so that lint-imports sees
that this module, and only this one, depends on every app.
"""

from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

import accounts.urls
import alerts.urls
import backoffice.audit_trail.urls
import backoffice.urls
import casework.urls
import certificates.urls
import integrations.console.urls
import integrations.urls
import integrations.webhooks.urls
import treaties.urls
import unregistered.urls
import verification.api_urls
import verification.urls
from damane import health, metrics, views

urlpatterns = [
    path("", views.home, name="home"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("help/", views.help_page, name="help"),
    path("manifest.webmanifest", views.manifest, name="manifest"),
    path("offline/", views.offline, name="offline"),
    path("sw.js", views.service_worker, name="service_worker"),
    path("health/", views.health, name="health"),
    path("health/live/", health.liveness, name="liveness"),
    path("health/ready/", health.readiness, name="readiness"),
    path("metrics", metrics.metrics_view, name="metrics"),
    # Verification first after these: the busiest public paths, resolved without
    # trying every pattern of the pages below (issue 23, docs/benchmarks.md).
    path("verify/", include(verification.urls)),
    path("api/v1/", include(verification.api_urls)),
    path("", include(accounts.urls)),
    path("certificates/", include(certificates.urls)),
    path("requests/", include(casework.urls)),
    path("me/alerts/", include(alerts.urls)),
    path("staff/treaties/", include(treaties.urls)),
    path("staff/audit/", include(backoffice.audit_trail.urls)),
    path("staff/unregistered/", include(unregistered.urls)),
    path("", include(integrations.urls)),
    path("staff/integrators/", include(integrations.webhooks.urls)),
    path("integrators/", include(integrations.console.urls)),
    path("staff/", include(backoffice.urls)),
    path("admin/", admin.site.urls),
]

# Pages get the templates, the API JSON (damane/api.py); a 400 caused by an outage is its 503.
handler400 = "damane.middleware.bad_request"
handler403 = "damane.views.permission_denied"
handler404 = "damane.views.page_not_found"
handler500 = "damane.middleware.server_error"
