from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse

from damane.roles import is_agency_staff


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
