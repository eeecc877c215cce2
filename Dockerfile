# Damane under gunicorn. System libraries: Pango/HarfBuzz for WeasyPrint, Noto
# fonts for Arabic, poppler-utils for pdfsig checks, gettext for the catalogs.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    DAMANE_VAR_DIR=/var/lib/damane DJANGO_STATIC_ROOT=/app/staticfiles

RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fontconfig \
      fonts-noto-core fonts-dejavu-core gettext poppler-utils \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.lock ./
RUN pip install --require-hashes --no-deps -r requirements.lock
COPY . .
RUN useradd --system --home /var/lib/damane damane \
 && mkdir -p /var/lib/damane && chown damane /var/lib/damane \
 && python manage.py compilemessages --ignore=.venv -v 0 \
 && DJANGO_DEBUG=false DJANGO_SECRET_KEY=build-only python manage.py collectstatic --noinput -v 0

USER damane
EXPOSE 8000
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["gunicorn", "damane.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "30", "--access-logfile", "-"]
