"""Damane settings: one module, driven by environment variables.

With no environment at all it runs the demo: SQLite under ``var/``, console SMS,
a development signing key created on first run. Every production value comes from
the environment; see README.md "Deploying for real" and ``.env.example``.
"""

import copy
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from django_guid.integrations import CeleryIntegration

from damane.env import env_bool, env_float, env_int, env_list, env_str
from damane.logging import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
# Everything the running portal writes (SQLite database, uploads, signing keys,
# SMS files) lives under VAR_DIR, outside the web root and ignored by git.
VAR_DIR = Path(env_str("DAMANE_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DJANGO_DEBUG", True)
SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is false")
    SECRET_KEY = "django-insecure-demo-only-never-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")
# Public base URL printed in QR codes and e-mails, e.g. https://damane.cnss.ma
SITE_URL = env_str("DAMANE_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# The fund's contact line and address for questions, on the help page when set
# (the fund's own numbers: none is written in the code).
DAMANE_CONTACT_PHONE = env_str("DAMANE_CONTACT_PHONE")
DAMANE_CONTACT_EMAIL = env_str("DAMANE_CONTACT_EMAIL")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_guid",
    "django_prometheus",
    "damane",
    "registry",
    "declarations",
    "accounts",
    "certificates",
    "verification",
    "backoffice",
    "audit",
    "casework",
    "alerts",
    "treaties",
    "unregistered",
    "integrations",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django_guid.middleware.guid_middleware",
    "damane.middleware.RequestLogMiddleware",
    # Every answer under /api/ is JSON, errors of the middleware below included (damane/api.py).
    "damane.api.ApiJsonErrorsMiddleware",
    "damane.middleware.RefuseNulBytesMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "damane.middleware.NoStoreWhenSignedInMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.AbsoluteSessionTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "damane.middleware.DatabaseUnavailableMiddleware",
    # A timestamp authority down: 503 "try again in a minute" (certificates/middleware.py).
    "certificates.middleware.TimestampUnavailableMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "portal.urls"  # the top layer: it mounts every app (docs/architecture.md)
WSGI_APPLICATION = "damane.wsgi.application"

_template_loaders = [
    "django.template.loaders.filesystem.Loader",
    "django.template.loaders.app_directories.Loader",
    "certificates.templateloader.Loader",
]
if not DEBUG:
    _template_loaders = [("django.template.loaders.cached.Loader", _template_loaders)]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "OPTIONS": {
            # Django's two default loaders, plus the templates of each certificate
            # kind read from its folder (certificates.templateloader); cached
            # unless DEBUG, as Django does by default.
            "loaders": _template_loaders,
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------
# DATABASE_URL=postgres://user:pass@host:5432/damane in production and CI.
DATABASE_URL = env_str("DATABASE_URL")
if not DATABASE_URL:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
# Production: a psycopg 3 connection pool per process (docs/decisions.md,
# "Database connections"): a request borrows a connection and gives it back,
# no request opens one, and the pool replaces a connection the server dropped
# (restart, failover) before lending it (DATABASE_CONN_HEALTH_CHECKS). Without
# the pool (DATABASE_POOL=false, e.g. Celery's prefork workers, or behind
# PgBouncer), persistent connections checked before reuse. The demo and the
# tests (DEBUG) open one per request.
DATABASE_POOL = env_bool("DATABASE_POOL", not DEBUG)
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL or f"sqlite:///{VAR_DIR / 'damane.sqlite3'}",
        conn_max_age=0 if DATABASE_POOL else env_int("DATABASE_CONN_MAX_AGE", 0 if DEBUG else 300),
        conn_health_checks=env_bool("DATABASE_CONN_HEALTH_CHECKS", True),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    options = DATABASES["default"].setdefault("OPTIONS", {})
    # A database outage must answer 503 within seconds, not hang (docs/security.md §19).
    options["connect_timeout"] = env_int("DATABASE_CONNECT_TIMEOUT", 3)
    if DATABASE_POOL:
        # Django's backend, with a pool that checks a connection before lending
        # it and drains itself at the first dead one (damane/postgresql/base.py).
        DATABASES["default"]["ENGINE"] = "damane.postgresql"
        options["pool"] = {
            # One connection per gunicorn thread is the most a process can use at once.
            "min_size": env_int("DATABASE_POOL_MIN_SIZE", 2),
            "max_size": env_int("DATABASE_POOL_MAX_SIZE", env_int("GUNICORN_THREADS", 4)),
            # Waiting longer than this for a free connection is an outage: 503 (PoolTimeout is an OperationalError).
            "timeout": env_float("DATABASE_POOL_TIMEOUT", 3.0),
            # Idle connections above min_size close after this long.
            "max_idle": env_float("DATABASE_POOL_MAX_IDLE", 300.0),
            # After a restart or a failover, reconnection stops backing off after
            # this long: the first request once the server is back connects at once.
            "reconnect_timeout": env_float("DATABASE_POOL_RECONNECT_TIMEOUT", 2.0),
        }
    if env_bool("DATABASE_PGBOUNCER", False):
        # Behind PgBouncer in transaction mode (docs/scaling.md, "PgBouncer"): a
        # server-side cursor outside a transaction (WITH HOLD) would outlive the
        # server connection it was declared on. Prepared statements are already
        # off: Django sets psycopg's prepare_threshold to None.
        DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True

# Verification reads from a streaming replica when one is configured
# (damane/replica.py, docs/scaling.md "Read replica for verification").
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL")
# The replay lag above which every read goes to the primary, and how often each
# process samples it (seconds); a replica that did not answer is tried again after
# DATABASE_REPLICA_RETRY_SECONDS.
DATABASE_REPLICA_MAX_LAG_SECONDS = env_float("DATABASE_REPLICA_MAX_LAG_SECONDS", 1.0)
DATABASE_REPLICA_CHECK_SECONDS = env_float("DATABASE_REPLICA_CHECK_SECONDS", 1.0)
DATABASE_REPLICA_RETRY_SECONDS = env_float("DATABASE_REPLICA_RETRY_SECONDS", 5.0)
# The models read() may send to the replica (lower-case app_label.model).
DATABASE_REPLICA_MODELS = frozenset({"certificates.certificate"})
DATABASE_ROUTERS = ["damane.replica.ReplicaRouter"]
if DATABASE_REPLICA_URL:
    replica = copy.deepcopy(DATABASES["default"])
    replica.update(
        {
            key: value
            for key, value in dj_database_url.parse(DATABASE_REPLICA_URL).items()
            if key in ("NAME", "USER", "PASSWORD", "HOST", "PORT")
        }
    )
    replica_options = replica.setdefault("OPTIONS", {})
    # A replica that does not answer is skipped: wait for it briefly, then ask the primary.
    replica_options["connect_timeout"] = env_int("DATABASE_REPLICA_CONNECT_TIMEOUT", 1)
    if "pool" in replica_options:
        replica_options["pool"] = {**replica_options["pool"], "timeout": replica_options["connect_timeout"]}
    # Tests: the replica alias is the test database itself unless a test points it at a standby.
    replica["TEST"] = {"MIRROR": "default"}
    DATABASES["replica"] = replica
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (rate limits and lockouts must be shared between processes) -------
REDIS_URL = env_str("REDIS_URL")
REDIS_SOCKET_CONNECT_TIMEOUT = env_float("REDIS_SOCKET_CONNECT_TIMEOUT", 0.2)
REDIS_SOCKET_TIMEOUT = env_float("REDIS_SOCKET_TIMEOUT", 0.2)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("DAMANE_CACHE_PREFIX", "damane"),
            # Redis answers in a millisecond: 200 ms without an answer (a frozen
            # or unreachable server) is an outage, and the request gets its 503
            # (damane.middleware) in under 300 ms, once: no retry (issue 20).
            "OPTIONS": {
                "socket_connect_timeout": REDIS_SOCKET_CONNECT_TIMEOUT,
                "socket_timeout": REDIS_SOCKET_TIMEOUT,
                "retry_on_timeout": False,
                "health_check_interval": 30,
            },
        }
    }
else:
    # The demo has no Redis: the database cache is still shared by every process.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "damane_cache",
        }
    }

# --- Background work (Celery; docs/operations.md) ------------------------------
# The broker is Redis in production (CELERY_BROKER_URL, by default REDIS_URL).
# Without one (the demo), tasks run in-process at once: no broker, no worker.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not CELERY_BROKER_URL)
if CELERY_TASK_ALWAYS_EAGER and not CELERY_BROKER_URL:
    # In-process tasks still pass their arguments through a producer: an in-memory
    # transport, not kombu's default AMQP on localhost (and its "No hostname" warning).
    CELERY_BROKER_URL = "memory://localhost/"
CELERY_TASK_EAGER_PROPAGATES = True
# A task is acknowledged once done, and given back to the queue when its worker
# dies: tasks must therefore be idempotent (docs/style.md, "Background work").
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "Africa/Casablanca"
# The queue tasks are sent to, also by tasks that a worker runs (a scheduled job
# queueing e-mails): one name per deployment, or per test worker.
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "celery")
# No task returns anything a caller waits for: there is no result backend.
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A message a worker took and never acknowledged (the worker died) goes back to
# the queue this long after it was delivered, so a dead worker's task runs again
# within a minute (docs/decisions.md, "A dead worker's task"). A live task that
# runs longer is delivered again too: every task refuses a row another delivery
# holds claimed, and no task uses the broker's ETA (retries are scheduled in the
# database), so nothing waits unacknowledged in a worker.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 30),
    # How often each worker looks for such messages (kombu scans every
    # interval x throttle seconds; its default is 100 s).
    "unacked_restore_interval": env_int("CELERY_UNACKED_RESTORE_INTERVAL", 5),
    "unacked_restore_throttle": 1,
    "socket_connect_timeout": REDIS_SOCKET_CONNECT_TIMEOUT,
    "socket_timeout": env_float("CELERY_BROKER_SOCKET_TIMEOUT", 5.0),
}
# A web process only publishes: a broker that does not answer within the Redis
# timeouts is down, and the request goes on after one try (damane/web.py, applied
# by damane/wsgi.py; workers keep the options above, their blocking reads wait longer).
DAMANE_WEB_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": REDIS_SOCKET_CONNECT_TIMEOUT,
    "socket_timeout": REDIS_SOCKET_TIMEOUT,
}
DAMANE_WEB_PUBLISH_RETRY_POLICY = {"max_retries": 0}
# Publishing from a request gives up fast when the broker is down: the outbox
# row stays queued and the requeue sweep sends it later (damane.background).
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
CELERY_BEAT_SCHEDULE: dict = {
    # Every outbox (damane.background): lost tasks, due retries, dead workers' rows.
    "damane.requeue-outbox": {
        "task": "damane.tasks.requeue_outbox",
        "schedule": float(env_int("DAMANE_OUTBOX_SWEEP_SECONDS", 10)),
    },
    # Webhook events found by looking (keys about to expire, share codes that
    # expired) and endpoints failing too long (integrations.webhooks.tasks).
    "integrations.webhook-watch": {
        "task": "integrations.webhooks.tasks.watch",
        "schedule": float(env_int("DAMANE_WEBHOOK_WATCH_SECONDS", 3600)),
    },
    # Arrears alerts (alerts.tasks): from this hour (Africa/Casablanca), then every
    # hour until midnight. Each run sends only what is missing (unique constraint),
    # so a run lost to an outage at 8:00 is made up by the one at 9:00.
    "alerts.arrears-alerts": {
        "task": "alerts.tasks.send_arrears_alerts",
        "schedule": crontab(hour=f"{env_int('DAMANE_ARREARS_ALERTS_HOUR', 8)}-23", minute=0),
    },
    # Recovery pairs nobody typed for a day (accounts.recovery): daily, at night.
    "accounts.prune-recovery-requests": {
        "task": "accounts.tasks.prune_recovery_requests",
        "schedule": crontab(hour=3, minute=30),
    },
    # Monthly partitions on PostgreSQL (docs/scaling.md): the declaration lines'
    # and the stored PDFs' months ahead, and the PDFs past their retention
    # dropped. Daily, so a scheduler down on the 1st loses nothing.
    "declarations.line-partitions": {
        "task": "declarations.tasks.create_line_partitions",
        "schedule": crontab(hour=2, minute=10),
    },
    "certificates.file-partitions": {
        "task": "certificates.tasks.purge_certificate_files",
        "schedule": crontab(hour=2, minute=20),
    },
}
# Months of partitions created ahead of the current one (lines and PDFs).
DAMANE_PARTITIONS_AHEAD_MONTHS = env_int("DAMANE_PARTITIONS_AHEAD_MONTHS", 3)
# Signed PDFs are kept this many months after their month of issue, then their
# partition is dropped; the certificate row, its SHA-256 and its verification stay.
DAMANE_PDF_RETENTION_MONTHS = env_int("DAMANE_PDF_RETENTION_MONTHS", 6)
# Retries of a send the provider certainly did not take: exponential backoff from
# this many seconds, with jitter, capped, then the failure is recorded. Scheduled
# in the outbox row and sent by the sweep (so at its pace, every 10 s).
DAMANE_TASK_RETRY_BACKOFF_SECONDS = env_int("DAMANE_TASK_RETRY_BACKOFF_SECONDS", 5)
DAMANE_TASK_RETRY_BACKOFF_MAX_SECONDS = env_int("DAMANE_TASK_RETRY_BACKOFF_MAX_SECONDS", 300)
DAMANE_TASK_MAX_RETRIES = env_int("DAMANE_TASK_MAX_RETRIES", 5)
# Outbox rows never tried this long after they were written lost their task and
# are sent again; rows "sending" this long lost their worker, and only then may a
# second delivery close them (damane.background).
DAMANE_OUTBOX_REQUEUE_AFTER_SECONDS = env_int("DAMANE_OUTBOX_REQUEUE_AFTER_SECONDS", 60)
DAMANE_OUTBOX_STUCK_AFTER_SECONDS = env_int("DAMANE_OUTBOX_STUCK_AFTER_SECONDS", 300)
# An e-BDS import that has lost its worker for this long (started, never finished,
# no live run holding it) is recorded "stopped on an error" and no longer re-sent.
DAMANE_IMPORT_GIVE_UP_SECONDS = env_int("DAMANE_IMPORT_GIVE_UP_SECONDS", 3600)

# --- Authentication -----------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# Django's validators, subclassed only for their messages (complete in French and Arabic).
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "accounts.validators.UserAttributeSimilarityValidator"},
    {"NAME": "accounts.validators.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "accounts.validators.MaximumLengthValidator", "OPTIONS": {"max_length": 128}},
    {"NAME": "accounts.validators.CommonPasswordValidator"},
    {"NAME": "accounts.validators.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "accounts:dashboard"
LOGOUT_REDIRECT_URL = "home"

# --- Sessions and cookies (docs/security.md §9, 20) ---------------------------------
# Database sessions that treat a malformed session cookie as no session (damane/sessions.py).
SESSION_ENGINE = "damane.sessions"
SESSION_IDLE_TIMEOUT = env_int("DAMANE_SESSION_IDLE_SECONDS", 15 * 60)
SESSION_ABSOLUTE_TIMEOUT = env_int("DAMANE_SESSION_ABSOLUTE_SECONDS", 12 * 3600)
SESSION_COOKIE_AGE = SESSION_IDLE_TIMEOUT
SESSION_SAVE_EVERY_REQUEST = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
# Probes and the metrics scraper reach the container over plain HTTP, from inside.
SECURE_REDIRECT_EXEMPT = [r"^health/", r"^metrics$"]
SECURE_HSTS_SECONDS = 0 if DEBUG else 365 * 24 * 3600
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("DJANGO_BEHIND_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Number of proxies in front of the app whose X-Forwarded-For entries are trusted
# when rate limiting by client address (0: use REMOTE_ADDR).
DAMANE_TRUSTED_PROXY_COUNT = env_int("DAMANE_TRUSTED_PROXY_COUNT", 0)

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "media-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# --- Internationalisation -----------------------------------------------------
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("ar", _("العربية")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# dd/mm/yyyy and month names in words in every language (damane/formats/).
FORMAT_MODULE_PATH = ["damane.formats"]
TIME_ZONE = "Africa/Casablanca"
USE_I18N = True
USE_TZ = True

# --- Static and uploaded files ------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT", str(VAR_DIR / "staticfiles")))
# Uploads go to an S3-compatible object store when DAMANE_S3_BUCKET is set (every
# node and worker then sees every file: docs/scaling.md, "Many nodes"), to MEDIA_ROOT
# on the local disk otherwise (bin/demo, one machine). The bucket is private: objects
# are written without an ACL (the bucket's, private), encrypted at rest by the store
# (DAMANE_S3_SSE), and read only by the web processes, which stream them after the
# access check; no URL to the store, presigned or not, is ever given to a browser
# (damane/objectstore.py).
DAMANE_S3_BUCKET = env_str("DAMANE_S3_BUCKET")
if DAMANE_S3_BUCKET:
    from damane.objectstore import s3_storage

    _default_storage = s3_storage(
        bucket=DAMANE_S3_BUCKET,
        endpoint_url=env_str("DAMANE_S3_ENDPOINT_URL"),
        region=env_str("DAMANE_S3_REGION"),
        access_key=env_str("DAMANE_S3_ACCESS_KEY_ID"),
        secret_key=env_str("DAMANE_S3_SECRET_ACCESS_KEY"),
        prefix=env_str("DAMANE_S3_PREFIX"),
        sse=env_str("DAMANE_S3_SSE", "AES256"),
        kms_key_id=env_str("DAMANE_S3_KMS_KEY_ID"),
        connect_timeout=env_float("DAMANE_S3_CONNECT_TIMEOUT", 2.0),
        read_timeout=env_float("DAMANE_S3_READ_TIMEOUT", 10.0),
        addressing_style=env_str("DAMANE_S3_ADDRESSING_STYLE", "path"),
    )
else:
    _default_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Uploads (ID copies, supporting documents) are never served by URL: MEDIA_ROOT is
# outside the web root and views stream files after access checks. e-BDS files (waiting
# for a worker, then imported) and signed certificate PDFs are rows in PostgreSQL.
MEDIA_ROOT = Path(env_str("DAMANE_MEDIA_ROOT", str(VAR_DIR / "private")))
# Never routed: no URL serves MEDIA_ROOT (pytest-django and Django checks need a string).
MEDIA_URL = "/private-media-never-served/"
DATA_UPLOAD_MAX_MEMORY_SIZE = 6 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 6 * 1024 * 1024
DAMANE_UPLOAD_MAX_BYTES = env_int("DAMANE_UPLOAD_MAX_BYTES", 5 * 1024 * 1024)
# A JSON API body (a code or a QR text of at most 4,096 characters each, however escaped)
# over this answers 413 before anything reads it (damane/api.py).
DAMANE_API_MAX_BODY_BYTES = env_int("DAMANE_API_MAX_BODY_BYTES", 128 * 1024)

# --- E-mail -------------------------------------------------------------------
EMAIL_BACKEND = env_str("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Damane <no-reply@damane.example>")
# Where DJANGO_EMAIL_BACKEND=django.core.mail.backends.filebased.EmailBackend writes.
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))

# --- SMS ----------------------------------------------------------------------
# console | file | locmem | twilio, like Django's e-mail backends.
SMS_BACKEND = env_str("SMS_BACKEND", "console")
SMS_FILE_PATH = Path(env_str("SMS_FILE_PATH", str(VAR_DIR / "sms")))
TWILIO_ACCOUNT_SID = env_str("TWILIO_ACCOUNT_SID")
TWILIO_AUTH_TOKEN = env_str("TWILIO_AUTH_TOKEN")
TWILIO_FROM_NUMBER = env_str("TWILIO_FROM_NUMBER")
TWILIO_MESSAGING_SERVICE_SID = env_str("TWILIO_MESSAGING_SERVICE_SID")
TWILIO_TIMEOUT_SECONDS = env_int("TWILIO_TIMEOUT_SECONDS", 10)

# --- Domain rules (docs/domain.md): the one place where the fund's numbers live -----
# Salary ceiling for short-term benefits and pension, in centimes (6,000.00 MAD).
# It is also a database CHECK constraint on declaration lines: changing it needs
# a migration as well.
DAMANE_SALARY_CEILING_CENTIMES = 600_000
DAMANE_MAX_DAYS_PER_MONTH = 26
DAMANE_MAX_DAYS_PER_QUARTER = 78
DAMANE_PENSION_DAYS_THRESHOLD = 3240
DAMANE_PENSION_AGE = 60
# Employer status (assumed rule, docs/domain.md): declarations for period P are due on
# this day of the month after P; an employer may be this many periods behind
# before it is in arrears.
DAMANE_DECLARATION_DUE_DAY = env_int("DAMANE_DECLARATION_DUE_DAY", 10)
DAMANE_STATUS_TOLERANCE_PERIODS = env_int("DAMANE_STATUS_TOLERANCE_PERIODS", 1)
DAMANE_CERTIFICATE_VALIDITY_MONTHS = 3
DAMANE_NON_AFFILIATION_LOOKBACK_PERIODS = 12

# --- Accounts and one-time codes (docs/security.md §1-11; see docs/accounts.md) -----
# Insured accounts log in with their CNSS number or e-mail; staff accounts only
# through the back office (password then TOTP). The two never share a backend.
AUTHENTICATION_BACKENDS = [
    "accounts.backends.InsuredBackend",
    "accounts.backends.StaffBackend",
    # An organisation's contact in its own console (/integrators/), password then TOTP.
    "integrations.console.backends.ConsoleBackend",
]
OTP_LOGIN_URL = "backoffice:login"
OTP_TOTP_ISSUER = "Damane CNSS"
# The admin never shows a staff member's TOTP secret or its QR code; its config
# pages also answered 500 for a device id that does not exist (issue 8).
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# Password reset links live one hour (Django's default is three days).
PASSWORD_RESET_TIMEOUT = env_int("DAMANE_PASSWORD_RESET_SECONDS", 3600)
# Key of the HMAC under which SMS codes are stored; empty: derived from SECRET_KEY.
DAMANE_OTP_KEY = env_str("DAMANE_OTP_KEY")
DAMANE_OTP_DIGITS = 6
DAMANE_OTP_TTL_SECONDS = 10 * 60
DAMANE_OTP_MAX_TRIES_PER_CODE = 5
DAMANE_OTP_MAX_FAILURES_PER_ACCOUNT = 10
DAMANE_OTP_FAILURE_WINDOW_SECONDS = 10 * 60
DAMANE_OTP_LOCK_SECONDS = 10 * 60
# Sends per phone number, counted across accounts (docs/security.md §4).
DAMANE_SMS_MIN_INTERVAL_SECONDS = 60
DAMANE_SMS_MAX_PER_HOUR = 5
DAMANE_SMS_MAX_PER_DAY = 10
# A registration not activated within this time must be started again.
DAMANE_REGISTRATION_TTL_SECONDS = 60 * 60
DAMANE_LOGIN_MAX_FAILURES = 5
DAMANE_LOGIN_FAILURE_WINDOW_SECONDS = 10 * 60
DAMANE_LOGIN_LOCK_SECONDS = 10 * 60
# Per client address: login posts a minute (above: 429), identity mismatches an
# hour at registration (the only answer that differs for unknown pairs), and
# posts a minute to the other account forms (password reset, resend, activation).
DAMANE_LOGIN_POSTS_PER_MINUTE = 20
DAMANE_IDENTITY_MISMATCHES_PER_HOUR = 10
DAMANE_ACCOUNT_POSTS_PER_MINUTE = 20

# --- Signing (certificate PDFs and QR payloads; see docs/certificates.md) -----
# The demo and tests use a development root CA and keys that `manage.py
# init_signing` writes here (created on first use while DAMANE_SIGNING_AUTO_CREATE).
# Production points the paths at the fund's real key and certificate chain.
DAMANE_SIGNING_DIR = Path(env_str("DAMANE_SIGNING_DIR", str(VAR_DIR / "signing")))
DAMANE_SIGNING_KEY_PATH = Path(env_str("DAMANE_SIGNING_KEY_PATH", str(DAMANE_SIGNING_DIR / "signing-key.pem")))
DAMANE_SIGNING_CERT_PATH = Path(env_str("DAMANE_SIGNING_CERT_PATH", str(DAMANE_SIGNING_DIR / "signing-cert.pem")))
# Issuer certificates embedded in each signature, up to and including the root.
DAMANE_SIGNING_CHAIN_PATHS = [
    Path(p) for p in env_list("DAMANE_SIGNING_CHAIN_PATHS", [str(DAMANE_SIGNING_DIR / "root-ca.pem")])
]
DAMANE_SIGNING_KEY_PASSPHRASE = env_str("DAMANE_SIGNING_KEY_PASSPHRASE")
# RFC 3161 timestamp authority: set, signatures are PAdES B-T; empty, B-B.
DAMANE_TSA_URL = env_str("DAMANE_TSA_URL")
DAMANE_TSA_TIMEOUT_SECONDS = env_int("DAMANE_TSA_TIMEOUT_SECONDS", 5)
# The CRL of the CA that issued the signing certificate, embedded in every B-LT
# signature (with a TSA) so it validates offline; the development CA writes it
# here and the portal serves it at /verify/pki/root-ca.crl. Empty: fetched from
# the certificate's distribution point at each signature.
DAMANE_SIGNING_CRL_PATH = env_str("DAMANE_SIGNING_CRL_PATH", str(DAMANE_SIGNING_DIR / "root-ca.crl"))
# The key in an HSM (docs/signing.md): the PKCS#11 library of the token; empty
# means the key is the PEM file above. The PIN is read from a file (a mounted
# secret), never from the environment.
DAMANE_SIGNING_PKCS11_MODULE = env_str("DAMANE_SIGNING_PKCS11_MODULE")
DAMANE_SIGNING_PKCS11_TOKEN_LABEL = env_str("DAMANE_SIGNING_PKCS11_TOKEN_LABEL", "damane")
DAMANE_SIGNING_PKCS11_KEY_LABEL = env_str("DAMANE_SIGNING_PKCS11_KEY_LABEL", "damane-signing")
DAMANE_SIGNING_PKCS11_PIN_FILE = env_str("DAMANE_SIGNING_PKCS11_PIN_FILE", "/run/secrets/damane-pkcs11-pin")
# QR seal keys: <kid>.pem (private) or <kid>.pub.pem (retired, verify only), and
# a file "current" naming the kid that signs new payloads.
DAMANE_QR_KEYS_DIR = Path(env_str("DAMANE_QR_KEYS_DIR", str(DAMANE_SIGNING_DIR / "qr-keys")))
# The development CA (`init_signing`) is for the demo and tests: on by default only
# with DEBUG. In production (DEBUG off) a signing certificate it issued is refused
# (`check --deploy` error, readiness 503: certificates/health.py) unless this is set to
# true on purpose, for a demonstration stack.
DAMANE_DEV_SIGNING = env_bool("DAMANE_DEV_SIGNING", DEBUG)
# Evaluated here, not from DEBUG at run time: test runners force DEBUG off.
DAMANE_SIGNING_AUTO_CREATE = env_bool("DAMANE_SIGNING_AUTO_CREATE", DAMANE_DEV_SIGNING)

# --- e-BDS and registration records import (docs/ebds.md, docs/registration-records.md)
# Largest file the admin upload forms accept. A 260-character record per employee:
# 20 MB holds about 80,000 employees, more than the largest employer declares.
DAMANE_IMPORT_MAX_UPLOAD_BYTES = env_int("DAMANE_IMPORT_MAX_UPLOAD_BYTES", 20 * 1024 * 1024)

# --- Logging ------------------------------------------------------------------
# One JSON object a line with the request id (production; DJANGO_LOG_FORMAT=plain
# for people), with personal data redacted (damane/logging.py).
LOGGING = logging_config(
    json=env_str("DJANGO_LOG_FORMAT", "plain" if DEBUG else "json") == "json",
    level=env_str("DJANGO_LOG_LEVEL", "INFO"),
)
# The request id comes from the proxy's X-Request-ID when it is a UUID, is made
# otherwise, goes back in the answer, and follows the work onto Celery workers.
DJANGO_GUID = {
    "GUID_HEADER_NAME": "X-Request-ID",
    "VALIDATE_GUID": True,
    "RETURN_HEADER": True,
    "EXPOSE_HEADER": False,
    "INTEGRATIONS": [CeleryIntegration(use_django_logging=True, log_parent=True)],
}

# --- Metrics and error reports (docs/operations.md) ------------------------------
# /metrics answers only with "Authorization: Bearer <DAMANE_METRICS_TOKEN>" (in
# DEBUG without one). Several gunicorn workers share their counters through
# PROMETHEUS_MULTIPROC_DIR (an empty directory, emptied at each start).
DAMANE_METRICS_TOKEN = env_str("DAMANE_METRICS_TOKEN")
PROMETHEUS_EXPORT_MIGRATIONS = False
# Errors go to Sentry when SENTRY_DSN is set, without personal data (damane/sentry.py).
SENTRY_DSN = env_str("SENTRY_DSN")
if SENTRY_DSN:
    from damane.sentry import init_sentry

    init_sentry(
        dsn=SENTRY_DSN,
        environment=env_str("SENTRY_ENVIRONMENT", "production"),
        traces_sample_rate=env_float("SENTRY_TRACES_SAMPLE_RATE", 0.0),
    )

# --- Verification (docs/security.md §15) ---------------------------------------------------
# Look-ups per client address and minute, across the QR page, the typed code, the
# PDF upload and the JSON API.
DAMANE_VERIFY_LOOKUPS_PER_MINUTE = env_int("DAMANE_VERIFY_LOOKUPS_PER_MINUTE", 30)

# --- Integrators and share codes (docs/integrators.md, docs/security.md §25) -------------
# Default quotas of a new API key (the back office may set others per key): a bank
# checking thousands of files a day, at the pace of a batch job.
DAMANE_API_KEY_DEFAULT_PER_MINUTE = env_int("DAMANE_API_KEY_DEFAULT_PER_MINUTE", 600)
DAMANE_API_KEY_DEFAULT_PER_DAY = env_int("DAMANE_API_KEY_DEFAULT_PER_DAY", 50_000)
# A key expires after at most a year; rotating one leaves the old key working this long.
DAMANE_API_KEY_MAX_VALID_DAYS = env_int("DAMANE_API_KEY_MAX_VALID_DAYS", 365)
DAMANE_API_KEY_ROTATION_GRACE_HOURS = env_int("DAMANE_API_KEY_ROTATION_GRACE_HOURS", 24)
# A share code lives at most 30 days (docs/domain.md "Beyond the certificate").
DAMANE_SHARE_CODE_MAX_DAYS = env_int("DAMANE_SHARE_CODE_MAX_DAYS", 30)
# Webhooks (integrations/webhooks, docs/integrators.md "Webhooks"): each attempt
# waits this long for an answer; failed attempts are retried with exponential
# backoff (from the first delay, doubling, capped) up to a number of attempts; an
# endpoint failing this long is disabled and its contact e-mailed.
DAMANE_WEBHOOK_TIMEOUT_SECONDS = env_int("DAMANE_WEBHOOK_TIMEOUT_SECONDS", 5)
DAMANE_WEBHOOK_MAX_ATTEMPTS = env_int("DAMANE_WEBHOOK_MAX_ATTEMPTS", 10)
DAMANE_WEBHOOK_RETRY_SECONDS = env_int("DAMANE_WEBHOOK_RETRY_SECONDS", 60)
DAMANE_WEBHOOK_RETRY_MAX_SECONDS = env_int("DAMANE_WEBHOOK_RETRY_MAX_SECONDS", 6 * 3600)
DAMANE_WEBHOOK_DISABLE_AFTER_HOURS = env_int("DAMANE_WEBHOOK_DISABLE_AFTER_HOURS", 72)
# Test settings only, never read from the environment: plain http endpoints, and
# endpoints on private or loopback addresses (the tests' local receivers), and
# the CA that signs a test receiver's TLS certificate.
DAMANE_WEBHOOK_ALLOW_HTTP = False
DAMANE_WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
DAMANE_WEBHOOK_CA_FILE = ""
# How long an answer is kept for a retry with the same Idempotency-Key (integrations/idempotency.py).
DAMANE_API_IDEMPOTENCY_HOURS = env_int("DAMANE_API_IDEMPOTENCY_HOURS", 24)
# Look-ups in one POST /api/v1/verify/batch (each counted in the key's quotas).
DAMANE_API_BATCH_MAX = env_int("DAMANE_API_BATCH_MAX", 100)
