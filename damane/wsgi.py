"""
WSGI config for damane project.

It exposes the WSGI callable as a module-level variable named ``application``.

For more information on this file, see
https://docs.djangoproject.com/en/5.2/howto/deployment/wsgi/
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "damane.settings")

application = get_wsgi_application()


def use_web_broker_timeouts(app) -> None:
    """A web process publishes with Redis's short timeouts and no retry (settings, issue 20).

    A frozen broker then costs a request at most one socket timeout: the task's
    row stays queued for the requeue sweep (damane.background) and the person's
    answer is not held up.
    """
    from django.conf import settings

    app.conf.broker_transport_options = {
        **(app.conf.broker_transport_options or {}),
        **settings.DAMANE_WEB_BROKER_TRANSPORT_OPTIONS,
    }
    app.conf.task_publish_retry_policy = settings.DAMANE_WEB_PUBLISH_RETRY_POLICY


from damane.celery import app as celery_app  # noqa: E402  (after Django is set up)

use_web_broker_timeouts(celery_app)
