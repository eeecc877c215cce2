"""Gunicorn settings for Damane (``gunicorn -c docker/gunicorn.conf.py damane.wsgi``).

Every value can be overridden from the environment (GUNICORN_*), so one image
fits a 2-core container and a 16-core host. README "Deploying for real".
"""

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


cpus = multiprocessing.cpu_count()

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Processes for the CPU-bound work (PDF rendering and signing), threads for the
# waits (PostgreSQL, Redis, the TSA): 2 workers per core plus one, 4 threads each.
workers = _int("GUNICORN_WORKERS", 2 * cpus + 1)
worker_class = "gthread"
threads = _int("GUNICORN_THREADS", 4)
# A request that runs longer than this is killed: no page may take 30 s (SMS
# and e-mails are on workers; the slowest request is a signed PDF).
timeout = _int("GUNICORN_TIMEOUT", 30)
# On SIGTERM (a deploy, a scale-down) requests in flight get this long to finish.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# The longest request line gunicorn reads (its maximum; the default is 4,094): the API's
# GET /api/v1/verify takes a code (up to 200 characters) and a QR text (up to 2,400) in the
# address, percent-encoded (verification/openapi.py). A longer line gets gunicorn's own 414.
limit_request_line = _int("GUNICORN_LIMIT_REQUEST_LINE", 8190)
# Recycle workers now and then, at different times, so a slow leak never grows
# and never restarts every worker at once.
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 200)
# Application logs are JSON with a request id (damane/logging.py); gunicorn's own
# access log would print full paths, which may carry a reset token.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# The proxy in front terminates TLS; only it may set X-Forwarded-* headers.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
# Temporary files of the worker heartbeat in memory, not on the container's disk.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108


def child_exit(server, worker):
    """Drop the metrics files of a worker that ended (django-prometheus, multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
