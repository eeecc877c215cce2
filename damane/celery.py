"""The Celery application: slow or retryable work (SMS, e-mail, imports, scheduled jobs).

Settings come from Django's, prefixed ``CELERY_`` (``damane/settings.py``,
section "Background work"). With no broker configured (the demo), tasks run
in-process at once, so the demo needs neither Redis nor a worker.

    celery -A damane worker -l info
    celery -A damane beat -l info
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "damane.settings")

app = Celery("damane")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
