"""Signed receipts of the integrator API (docs/integrators.md, "Signed receipts").

With ``Accept: application/jose`` or ``?receipt=1``, a look-up's answer comes as a
JWS in compact serialisation (RFC 7515), ``Content-Type: application/jose``, signed
with the fund's QR seal key (``certificates.qrpayload.sign_jws``: ES256, ``kid`` the
published key id of ``/verify/keys.json``). Its payload is a JWT claims set:

    {"iss": SITE_URL, "iat": 1796033643,
     "req": {"method": "GET", "path": "/api/v1/verify", "params": {"code": "…"}},
     "res": <the JSON answer, as without a receipt>,
     "org": "BANQUE X", "key": "k3p7qvax"}          # with an API key only

so a bank keeps proof of what it asked, what the fund answered and when.
"""

from __future__ import annotations

import json
import time

from django.conf import settings
from django.http import HttpResponse

from certificates.qrpayload import sign_jws

MEDIA_TYPE = "application/jose"


def wanted(request) -> bool:
    """Whether a receipt is asked for: ``?receipt=1`` (any other value: no), or ``Accept: application/jose``."""
    accept = request.META.get("HTTP_ACCEPT", "")
    by_header = any(part.split(";", 1)[0].strip().lower() == MEDIA_TYPE for part in accept.split(","))
    return request.GET.get("receipt") == "1" or by_header


def _params(request) -> dict:
    if request.method == "POST":
        try:
            params = json.loads(request.body.decode("utf-8") or "{}")
        except (ValueError, UnicodeDecodeError, RecursionError):
            params = {}
        return params if isinstance(params, dict) else {}
    return {name: value for name, value in request.GET.items() if name != "receipt"}


def claims(request, answer) -> dict:
    payload = {
        "iss": settings.SITE_URL,
        "iat": int(time.time()),
        "req": {"method": request.method, "path": request.path_info, "params": _params(request)},
        "res": answer,
    }
    key = getattr(request, "api_key", None)
    if key is not None:
        payload["org"] = key.organisation.name
        payload["key"] = key.prefix
    return payload


def as_receipt(request, response) -> HttpResponse:
    """The JSON ``response`` as a signed receipt."""
    token = sign_jws(claims(request, json.loads(response.content)))
    receipt = HttpResponse(token, content_type=MEDIA_TYPE)
    for header in ("Cache-Control", "Access-Control-Allow-Origin"):
        if header in response:
            receipt[header] = response[header]
    return receipt
