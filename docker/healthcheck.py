"""The image's HEALTHCHECK: liveness (``/health/live/``) of the web process in this container.

Plain HTTP on the container's own port, with a ``Host`` header the portal accepts:
Django answers 400 to a host outside DJANGO_ALLOWED_HOSTS, so asking for
``127.0.0.1`` would turn every container unhealthy once the real host name is set.
The first allowed name is sent (``.example.ma`` gives ``example.ma``; ``*`` or
nothing gives ``localhost``). Exit 0 when the process answers 200, else 1.

    python docker/healthcheck.py
"""

from __future__ import annotations

import http.client
import os
import sys


def allowed_host(value: str | None) -> str:
    for name in (value or "").split(","):
        name = name.strip().lstrip(".")
        if name and name != "*":
            return name
    return "localhost"


def port(bind: str | None) -> int:
    """The port gunicorn listens on (GUNICORN_BIND, docker/gunicorn.conf.py), 8000 by default."""
    first = (bind or "0.0.0.0:8000").split()[0]
    return int(first.rsplit(":", 1)[1]) if ":" in first else 8000


def main() -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port(os.environ.get("GUNICORN_BIND")), timeout=4)
    try:
        host = allowed_host(os.environ.get("DJANGO_ALLOWED_HOSTS"))
        connection.request("GET", "/health/live/", headers={"Host": host})
        status = connection.getresponse().status
    except OSError as exc:
        print(f"liveness: no answer ({exc.__class__.__name__})", file=sys.stderr)
        return 1
    finally:
        connection.close()
    if status != 200:
        print(f"liveness: HTTP {status}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
