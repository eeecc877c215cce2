"""Who may see what: the decorators of the insured's pages and of the staff's, shared by every app."""

import ipaddress
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse

from damane.roles import is_agency_staff


def insured_required(view):
    """Logged-in insured persons only; anyone else signed in gets 404 (docs/security.md §11-12)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if getattr(request.user, "insured_id", None) is None:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def staff_required(view):
    """Staff with a verified TOTP device; insured accounts get 404, anyone else the staff login."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if user.is_authenticated and (not user.is_staff or user.insured_id is not None):
            raise Http404
        if not (user.is_authenticated and user.is_active and user.is_verified()):
            return redirect_to_login(request.get_full_path(), reverse("backoffice:login"))
        return view(request, *args, **kwargs)

    return wrapper


def agency_required(view):
    """``staff_required``, and in the agent or supervisor group: personal data is for agency staff only."""

    @staff_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not is_agency_staff(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _address(text: str) -> str:
    """``text`` as a canonical IP address, or "" when it is none."""
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return ""


def client_ip(request) -> str:
    """The client address, trusting as many X-Forwarded-For hops as configured.

    Always a valid IP address or "": the value is stored in audit rows (an
    ``inet`` column), and the header is whatever the client wrote before the
    proxy appended its own entry.
    """
    from django.conf import settings

    hops = settings.DAMANE_TRUSTED_PROXY_COUNT
    if hops:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= hops:
            address = _address(forwarded[-hops])
            if address:
                return address
    return _address(request.META.get("REMOTE_ADDR", ""))
