"""Public verification of certificates: no login, no cache, rate limited,
never the full CIN or CNSS number, one answer for unknown, malformed and forged codes."""

import logging
from datetime import date
from pathlib import Path

from django import forms
from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from certificates import registry
from certificates.keystore import KeyStoreError
from certificates.qrpayload import public_jwks
from certificates.signing import SigningError
from damane.ratelimit import verification_ratelimit
from damane.replica import replica_reads
from verification import keylist, services
from verification.pdfcheck import check_pdf
from verification.presenters import embedded_for_display, present

logger = logging.getLogger(__name__)


def _answer(request, certificate):
    """The one page for every outcome; unknown, malformed and forged look the same."""
    context = {"found": certificate is not None, "checked_at": timezone.now()}
    if certificate is not None:
        context["view"] = present(certificate, today=timezone.localdate())
        context["public_id"] = certificate.public_id
    return render(request, "verification/result.html", context, status=200 if certificate else 404)


@never_cache
@require_GET
@verification_ratelimit
@replica_reads
def certificate(request, public_id):
    return _answer(request, services.by_public_id(public_id))


@never_cache
@require_http_methods(["GET", "POST"])
def index(request):
    """The typed-code form; posting it is a look-up."""
    if request.method == "POST":
        return _lookup_code(request)
    return render(request, "verification/index.html")


@verification_ratelimit
@replica_reads
def _lookup_code(request):
    """The typed code, or the QR code's content pasted from a reader app (checked as the API checks it)."""
    typed = request.POST.get("code", "")
    certificate = services.by_token(typed) if "DMN" in typed else services.by_code(typed)
    return _answer(request, certificate)


class PdfUploadForm(forms.Form):
    pdf = forms.FileField(
        label=_("The certificate's PDF file"),
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf"}),
        error_messages={"required": _("Choose the PDF file of the certificate.")},
    )

    def clean_pdf(self):
        upload = self.cleaned_data["pdf"]
        if upload.size > settings.DAMANE_UPLOAD_MAX_BYTES:
            raise forms.ValidationError(_("The file is too large: a certificate is far smaller than 5 MB."))
        head = upload.read(5)
        upload.seek(0)
        if head != b"%PDF-":
            raise forms.ValidationError(_("This file is not a PDF."))
        return upload


@never_cache
@require_http_methods(["GET", "POST"])
def pdf_upload(request):
    if request.method == "POST":
        return _check_upload(request)
    return render(request, "verification/pdf.html", {"form": PdfUploadForm()})


@verification_ratelimit
def _check_upload(request):
    form = PdfUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(request, "verification/pdf.html", {"form": form}, status=400)
    verdict = check_pdf(form.cleaned_data["pdf"].read())
    view = present(verdict.certificate, today=timezone.localdate()) if verdict.certificate else None
    context = {
        "form": PdfUploadForm(),
        "verdict": verdict,
        "view": view,
        # Facts only from a genuine file: nothing unverified is shown as a fact.
        "embedded_json": embedded_for_display(verdict.embedded_facts if verdict.genuine else None),
        "checked_at": timezone.now(),
    }
    return render(request, "verification/pdf.html", context)


@never_cache
@require_GET
def offline(request):
    months = [date_format(date(2000, month, 1), "F") for month in range(1, 13)]
    # The kinds by QR letter, labelled in the page's language: the verifier reads them from the page.
    kinds = {kind["code"]: kind["label"] for kind in registry.published()}
    # The same labels by kind name, as an API receipt's answer names them ("employment").
    kind_names = {kind["kind"]: kind["label"] for kind in registry.published()}
    context = {"months": months, "kinds": kinds, "kind_names": kind_names}
    return render(request, "verification/offline.html", context)


@require_GET
def offline_service_worker(request):
    """The offline verifier's service worker, at a path whose scope covers the verifier page."""
    response = render(request, "verification/offline-sw.js", content_type="text/javascript; charset=utf-8")
    # Browsers check for a new worker on each visit: it must never come from an HTTP cache.
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
@replica_reads  # read from files today; from the replica if they ever move to the database
def keys(request):
    """The QR seal public keys (JWK Set): current and retired, by key id."""
    response = JsonResponse(public_jwks())
    response["Cache-Control"] = "public, max-age=300"
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
@replica_reads  # as keys.json
def signed_keys(request):
    """The same keys signed by the fund (compact JWS, x5c chain to its root): verification/keylist.py."""
    try:
        token = keylist.current_key_list()
    except (SigningError, KeyStoreError):
        # The token or the key file is unusable (readiness says which): no unsigned substitute.
        logger.exception("the published keys could not be signed")
        response = HttpResponse(status=503)
        response["Retry-After"] = "60"
        return response
    response = HttpResponse(token, content_type=keylist.MEDIA_TYPE)
    response["Cache-Control"] = "public, max-age=300"
    response["Access-Control-Allow-Origin"] = "*"
    return response


@never_cache
@require_GET
@replica_reads
def revocations(request):
    response = JsonResponse(services.revocation_list())
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def ca_crl(request):
    """The CRL of the CA that issued the fund's signing certificate (DAMANE_SIGNING_CRL_PATH).

    The development CA's certificates name this address as their distribution
    point; a verifier fetches it to learn a revoked signing key (docs/signing.md).
    """
    path = settings.DAMANE_SIGNING_CRL_PATH
    try:
        data = Path(path).read_bytes() if path else None
    except OSError:
        data = None
    if data is None:
        raise Http404
    response = HttpResponse(data, content_type="application/pkix-crl")
    response["Cache-Control"] = "public, max-age=3600"
    response["Access-Control-Allow-Origin"] = "*"
    return response
