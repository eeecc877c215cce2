"""A Celery application for worker processes whose e-BDS imports a test slows down.

    celery -A tests.worker_hooks worker ...

With ``DAMANE_TEST_IMPORT_PAUSE`` (seconds) set, each pool process holds every
import for that long before it starts, inside the job's transaction, after
appending a line to ``$DAMANE_TEST_SMS_STATE/imports``: the test sees when an
import started, how many did, and can kill the worker meanwhile.
"""

import os
import time
from pathlib import Path

from celery.signals import worker_process_init

from damane.celery import app  # noqa: F401  (the application the worker runs)


@worker_process_init.connect
def slow_imports(**kwargs):
    pause = float(os.environ.get("DAMANE_TEST_IMPORT_PAUSE") or 0)
    if not pause:
        return
    from declarations import jobs

    original = jobs.import_ebds

    def paused(**kwargs):
        with (Path(os.environ["DAMANE_TEST_SMS_STATE"]) / "imports").open("a") as started:
            started.write(f"{os.getpid()} {time.time()}\n")
        time.sleep(pause)
        return original(**kwargs)

    jobs.import_ebds = paused
