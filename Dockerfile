# Damane: one image for every process (web under gunicorn, Celery worker and beat,
# the one-shot migrate job), installed from the hashed lock, running as non-root.
# System libraries: Pango/HarfBuzz for WeasyPrint, Noto fonts for Arabic,
# poppler-utils for pdfsig checks, gettext for the catalogs.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DAMANE_VAR_DIR=/var/lib/damane DJANGO_STATIC_ROOT=/app/staticfiles \
    PROMETHEUS_MULTIPROC_DIR=/tmp/damane-metrics

RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fontconfig \
      fonts-noto-core fonts-noto-mono fonts-dejavu-core gettext poppler-utils \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
# The lock alone first, so code changes reuse this layer; every package is
# checked against its hash (bin/lock writes the file).
COPY requirements.lock ./
RUN pip install --require-hashes --no-deps -r requirements.lock

# .dockerignore keeps keys, databases, .venv, .git and var/ out of this copy.
COPY . .
RUN python manage.py compilemessages --ignore=.venv -v 0 \
 && DJANGO_DEBUG=false DJANGO_SECRET_KEY=build-only python manage.py collectstatic --noinput -v 0 \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/damane --shell /usr/sbin/nologin damane \
 && mkdir -p /var/lib/damane \
 && chown damane:damane /var/lib/damane

# The code and static files stay root-owned and read-only for the process.
USER damane
EXPOSE 8000
# Liveness only (the process answers): readiness, with its dependencies, is for the
# balancer. The request carries a host from DJANGO_ALLOWED_HOSTS (docker/healthcheck.py):
# Django answers 400 to 127.0.0.1 once the real host name is set.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "/app/docker/healthcheck.py"]
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["gunicorn", "-c", "docker/gunicorn.conf.py", "damane.wsgi:application"]
