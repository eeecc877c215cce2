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

# Publishing from a request gives up at once when the broker does not answer (damane/web.py).
from damane.celery import app as celery_app  # noqa: E402  (after Django is set up)
from damane.web import use_web_broker_timeouts  # noqa: E402

use_web_broker_timeouts(celery_app)
