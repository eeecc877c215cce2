"""Liveness and readiness (django-health-check), for load balancers and orchestrators.

``/health/live/`` says the process answers, and nothing else: a failing
dependency must not get every web process restarted. ``/health/ready/`` says
whether this process can serve: the database, Redis (rate limits), the broker,
and what the apps add with :func:`register_readiness` from their ``ready()``
(the certificates app: the signing key, readable and its certificate valid for
30 more days, and, when one is configured, the timestamp authority:
certificates/health.py). It answers 503 when one fails, so the balancer stops
sending traffic until it recovers. No answer names a path, a key or a host.

The kernel names no app (docs/architecture.md): an app announces its checks here.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime

from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable
from health_check.views import HealthCheckView


@dataclasses.dataclass
class Broker(HealthCheck):
    """The Celery broker accepts a connection (skipped when tasks run in-process)."""

    # Readiness answers within a second even when the broker is frozen (issue 20):
    # the web process's Redis timeouts (damane/web.py) end the ping well before.
    timeout = datetime.timedelta(seconds=0.9)

    def run(self):
        from damane.celery import app

        if app.conf.task_always_eager:
            return
        try:
            with app.connection_for_write() as connection:
                connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=0.5)
                client = getattr(connection.default_channel, "client", None)
                if client is not None:
                    client.ping()
        except Exception as exc:  # kombu and redis errors alike: the broker is not there
            raise ServiceUnavailable(f"broker unreachable ({exc.__class__.__name__})") from exc


# The checks every process has; apps add theirs with ``register_readiness``.
_READINESS: list[type[HealthCheck] | str] = [
    "health_check.checks.Database",
    "health_check.checks.Cache",
    "damane.health.Broker",
]


def register_readiness(check: type[HealthCheck] | str) -> None:
    """Add ``check`` (a ``HealthCheck`` class or its dotted path) to readiness, once; from an app's ``ready()``."""
    if check not in _READINESS:
        _READINESS.append(check)


class ReadinessView(HealthCheckView):
    def get_checks(self):
        self.checks = tuple(_READINESS)
        return super().get_checks()

    async def get(self, request, *args, **kwargs):
        with self.get_executor() as executor:
            self.results = await asyncio.gather(*(check.get_result(executor) for check in self.get_checks()))
        # Not ready is "come back later" for a balancer, not a server error.
        return self.render_to_response_json(503 if any(result.error for result in self.results) else 200)

    def render_to_response_json(self, status):
        return JsonResponse(
            {
                "status": "ok" if status == 200 else "unavailable",
                "checks": {
                    type(result.check).__name__: "ok" if not result.error else str(result.error)
                    for result in self.results
                },
            },
            status=status,
        )


readiness = ReadinessView.as_view()


@never_cache
@require_GET
def liveness(request):
    return JsonResponse({"status": "ok"})
