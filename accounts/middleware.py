"""Sessions end 12 hours after login whatever the activity (docs/security.md §9).

The 15-minute idle limit is the session cookie age, renewed on every request
(SESSION_COOKIE_AGE with SESSION_SAVE_EVERY_REQUEST); this middleware adds the
absolute limit, from the login time stored in the session.
"""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.utils.translation import ngettext

SESSION_LOGIN_AT = "damane_login_at"


def mark_login(request) -> None:
    """Call right after ``login()``: the absolute timeout counts from here."""
    request.session[SESSION_LOGIN_AT] = time.time()


class AbsoluteSessionTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            started = request.session.get(SESSION_LOGIN_AT)
            if started is None:
                # A session from before this middleware, or a login path that did not mark it.
                mark_login(request)
            elif time.time() - started > settings.SESSION_ABSOLUTE_TIMEOUT:
                was_staff = user.is_staff
                logout(request)
                hours = settings.SESSION_ABSOLUTE_TIMEOUT // 3600
                messages.info(
                    request,
                    ngettext(
                        "For your security, you were logged out %(count)d hour after logging in. Please log in again.",
                        "For your security, you were logged out %(count)d hours after logging in. Please log in again.",
                        hours,
                    )
                    % {"count": hours},
                )
                login_url = "backoffice:login" if was_staff else settings.LOGIN_URL
                return redirect_to_login(request.get_full_path(), login_url)
        return self.get_response(request)
