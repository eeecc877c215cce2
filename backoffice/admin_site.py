"""The Django admin for staff only, behind the back-office login with TOTP (docs/security.md §11)."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.urls import reverse
from django_otp.admin import OTPAdminSite


def _refuse_insured(request):
    if request.user.is_authenticated and (not request.user.is_staff or request.user.insured_id is not None):
        raise Http404


class StaffAdminSite(OTPAdminSite):
    def has_permission(self, request):
        # OTPAdminSite: active staff with a verified OTP device.
        return super().has_permission(request) and request.user.insured_id is None

    def admin_view(self, view, cacheable=False):
        inner = super().admin_view(view, cacheable)

        @wraps(inner)
        def wrapper(request, *args, **kwargs):
            _refuse_insured(request)
            return inner(request, *args, **kwargs)

        return wrapper

    def login(self, request, extra_context=None):
        """One login for staff: the back office's, password then TOTP."""
        _refuse_insured(request)
        next_url = request.GET.get("next") or reverse("admin:index", current_app=self.name)
        return redirect_to_login(next_url, reverse("backoffice:login"))
