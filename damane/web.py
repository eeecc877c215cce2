"""What a web process sets up beyond Django's settings (applied by ``damane/wsgi.py``)."""

from __future__ import annotations

from django.conf import settings


def use_web_broker_timeouts(app) -> None:
    """A web process publishes with Redis's short timeouts and no retry (settings, issue 20).

    A frozen broker then costs a request at most one socket timeout: the task's
    row stays queued for the requeue sweep (damane.background) and the person's
    answer is not held up. Workers keep the broker options of the settings:
    their blocking reads wait longer than a web request may.
    """
    app.conf.broker_transport_options = {
        **(app.conf.broker_transport_options or {}),
        **settings.DAMANE_WEB_BROKER_TRANSPORT_OPTIONS,
    }
    app.conf.task_publish_retry_policy = settings.DAMANE_WEB_PUBLISH_RETRY_POLICY
