"""Twilio's Programmable Messaging through the official SDK.

Configured from the environment (``TWILIO_ACCOUNT_SID``, ``TWILIO_AUTH_TOKEN``,
and ``TWILIO_MESSAGING_SERVICE_SID`` or ``TWILIO_FROM_NUMBER``). The SDK's HTTP
client is replaceable (``http_client``): the tests put a fake one at the
transport boundary.
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from requests import ConnectionError as RequestsConnectionError
from requests import ConnectTimeout, RequestException, Timeout
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from urllib3.exceptions import NewConnectionError

from accounts.sms.backends.base import BaseSmsBackend, SmsBackendError


class TwilioBackend(BaseSmsBackend):
    name = "twilio"

    def __init__(self, *, http_client=None):
        sid, token = settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN
        if not sid or not token:
            raise ImproperlyConfigured("SMS_BACKEND=twilio needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
        self.messaging_service_sid = settings.TWILIO_MESSAGING_SERVICE_SID
        self.from_number = settings.TWILIO_FROM_NUMBER
        if not self.messaging_service_sid and not self.from_number:
            raise ImproperlyConfigured("SMS_BACKEND=twilio needs TWILIO_MESSAGING_SERVICE_SID or TWILIO_FROM_NUMBER")
        if http_client is None:
            # Without a timeout the SDK would wait for ever on a stalled connection.
            http_client = TwilioHttpClient(timeout=settings.TWILIO_TIMEOUT_SECONDS)
        self.client = Client(sid, token, http_client=http_client)

    def send(self, *, to: str, body: str) -> str:
        params = {"to": to, "body": body}
        if self.messaging_service_sid:
            params["messaging_service_sid"] = self.messaging_service_sid
        else:
            params["from_"] = self.from_number
        try:
            message = self.client.messages.create(**params)
        except TwilioRestException as exc:
            # Overloaded or failing: try again later. Any other refusal (a bad
            # number, a blocked account) would be refused again.
            retryable = exc.status == 429 or exc.status >= 500
            raise SmsBackendError(
                f"Twilio answered HTTP {exc.status}, error {exc.code}: {exc.msg}", retryable=retryable
            ) from exc
        except RequestException as exc:
            raise SmsBackendError(
                f"Twilio unreachable: {exc.__class__.__name__}: {exc}", delivery_unknown=not never_connected(exc)
            ) from exc
        except (TwilioException, OSError) as exc:
            raise SmsBackendError(f"Twilio unreachable: {exc.__class__.__name__}: {exc}") from exc
        return message.sid


def never_connected(exc: RequestException) -> bool:
    """True when the request never reached Twilio (so the SMS certainly did not go).

    A connection that could not be opened is safe to try again; a timeout or a
    reset once the request was on its way is not: Twilio may have taken it.
    """
    if isinstance(exc, ConnectTimeout):
        return True
    if isinstance(exc, Timeout):
        return False
    if isinstance(exc, RequestsConnectionError):
        reason = getattr(exc.args[0] if exc.args else None, "reason", None)
        return isinstance(reason, NewConnectionError)
    return False
