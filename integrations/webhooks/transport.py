"""The one outbound request of a webhook delivery, guarded against server-side request forgery.

- Only to the endpoint's registered host and port: the address is parsed here,
  never taken from an answer; redirects are not followed (``http.client``
  follows none, and a 3xx counts as a failure).
- The host name is resolved once; **every** address it resolves to must be
  public (no private, loopback, link-local, multicast, reserved, unspecified or
  shared addresses, IPv4-mapped IPv6 included), and the connection is made to
  that address (pinned): a DNS answer that changes between the check and the
  connection (rebinding) cannot redirect it. TLS is checked against the host
  name (SNI and certificate), not the address.
- HTTPS only. Plain HTTP (``DAMANE_WEBHOOK_ALLOW_HTTP``) and private addresses
  (``DAMANE_WEBHOOK_ALLOW_PRIVATE_ADDRESSES``) are test settings, never read
  from the environment: only a test enables them, explicitly.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

USER_AGENT = "Damane-Webhooks/1"
# What is kept of an answer, for the delivery's record.
ANSWER_BYTES = 512


class Refused(Exception):
    """The address may not be called (scheme, host, or a private address); nothing was sent."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes


def _forbidden(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped or address.sixtofour
        if mapped is not None:
            return _forbidden(mapped)
    return not address.is_global or address.is_multicast or address.is_reserved or address.is_unspecified


def check_url(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an address webhooks may be sent to; ``Refused`` otherwise (no lookup)."""
    parts = urlsplit(url)
    allowed = {"https", "http"} if settings.DAMANE_WEBHOOK_ALLOW_HTTP else {"https"}
    if parts.scheme not in allowed:
        raise Refused("only https addresses are allowed")
    if not parts.hostname or parts.username or parts.password:
        raise Refused("the address needs a host name and no user name")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise Refused("the port is not a number") from None
    return parts.scheme, parts.hostname, port


def literal_refused(host: str) -> bool:
    """Whether ``host`` is an IP address webhooks may never reach (checked when an endpoint is registered)."""
    try:
        address = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False  # a name: checked at each attempt, once resolved
    return _forbidden(address) and not settings.DAMANE_WEBHOOK_ALLOW_PRIVATE_ADDRESSES


def resolve(host: str, port: int) -> str:
    """The address to connect to: the first of ``host``'s, provided every one is public."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise Refused(f"the host name does not resolve: {exc}") from None
    addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    if not addresses:
        raise Refused("the host name does not resolve")
    if not settings.DAMANE_WEBHOOK_ALLOW_PRIVATE_ADDRESSES:
        bad = [str(a) for a in addresses if _forbidden(a)]
        if bad:
            raise Refused(f"the host resolves to a private or reserved address ({', '.join(bad)})")
    return str(addresses[0])


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host, port, *, address, **kwargs):
        super().__init__(host, port, **kwargs)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host, port, *, address, context, **kwargs):
        super().__init__(host, port, context=context, **kwargs)
        self._address = address
        self._tls = context

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)


def tls_context() -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=settings.DAMANE_WEBHOOK_CA_FILE or None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def post(url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST ``body`` to ``url`` and return the answer; ``Refused`` before anything is sent, ``OSError`` on the way."""
    scheme, host, port = check_url(url)
    address = resolve(host, port)
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    timeout = settings.DAMANE_WEBHOOK_TIMEOUT_SECONDS
    if scheme == "https":
        connection = _PinnedHTTPSConnection(host, port, address=address, context=tls_context(), timeout=timeout)
    else:
        connection = _PinnedHTTPConnection(host, port, address=address, timeout=timeout)
    try:
        connection.request(
            "POST",
            target,
            body=body,
            headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers},
        )
        response = connection.getresponse()
        return Answer(status=response.status, body=response.read(ANSWER_BYTES))
    finally:
        connection.close()
