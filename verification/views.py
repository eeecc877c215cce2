"""Public verification of certificates: no login, no cache, rate limited,
never the full CIN or CNSS number, one answer for unknown and malformed codes."""

import re

from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from certificates.models import Certificate
from verification.presenters import present

PUBLIC_ID_RE = re.compile(r"^[A-Za-z0-9_-]{22,64}$")
CODE_CLEAN_RE = re.compile(r"[^A-Za-z0-9]")


def _not_found(request, status=404):
    return render(request, "verification/result.html", {"found": False}, status=status)


def _result(request, certificate):
    return render(
        request,
        "verification/result.html",
        {"found": True, "view": present(certificate, today=timezone.localdate())},
    )


@never_cache
@require_http_methods(["GET"])
def certificate(request, public_id):
    if not PUBLIC_ID_RE.match(public_id):
        return _not_found(request)
    found = Certificate.objects.select_related("superseded_by").filter(public_id=public_id).first()
    if found is None:
        return _not_found(request)
    return _result(request, found)


def normalize_code(raw: str) -> str:
    """'abcd efgh-jkmn...' -> 'ABCD-EFGH-JKMN-...' as printed (groups of 4)."""
    compact = CODE_CLEAN_RE.sub("", raw or "").upper()
    return "-".join(compact[i : i + 4] for i in range(0, len(compact), 4))


@never_cache
@require_http_methods(["GET", "POST"])
def by_code(request):
    if request.method == "GET" and "code" not in request.GET:
        return render(request, "verification/index.html")
    raw = request.POST.get("code") if request.method == "POST" else request.GET.get("code")
    code = normalize_code(raw or "")
    found = Certificate.objects.filter(verification_code=code).first() if code else None
    if found is None:
        return _not_found(request)
    return _result(request, found)
