from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.urls import reverse


def console_required(view):
    """An organisation's contact with a verified TOTP device; staff and insured accounts get 404.

    The view gets ``request.organisation``: every object it shows or changes is
    looked up within it, so another organisation's key or endpoint is a 404.
    """

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        user = request.user
        if user.is_authenticated and (user.is_staff or user.insured_id is not None):
            raise Http404
        account = getattr(user, "integrator_console", None) if user.is_authenticated else None
        if account is None or not user.is_active or not user.is_verified():
            return redirect_to_login(request.get_full_path(), reverse("console:login"))
        request.organisation = account.organisation
        return view(request, *args, **kwargs)

    return wrapper
