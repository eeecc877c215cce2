"""A timestamp authority that fails twice answers 503 "try again in a minute" (docs/signing.md).

``certificates.signing.sign_pdf`` retries the TSA once, then raises
``TimestampUnavailable`` and nothing is stored: a B-T deployment never issues an
unstamped certificate. Whatever view was issuing (the insured person's page, the
agency's, the integrators' API) answers the kernel's 503 page (JSON under /api/).
"""

import logging

from certificates.signing import TimestampUnavailable
from damane.middleware import database_unavailable_response

logger = logging.getLogger(__name__)


class TimestampUnavailableMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, TimestampUnavailable):
            return None
        logger.error("timestamp authority unavailable: no certificate issued")
        return database_unavailable_response(service="timestamp", request=request, retry_after=60)
