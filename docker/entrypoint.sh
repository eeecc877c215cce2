#!/bin/sh
# Migrations run before the server starts; a development signing key is created
# only when explicitly asked for (production mounts the fund's key and certificate).
set -e
python manage.py migrate --noinput
if [ "${DAMANE_DEV_SIGNING:-false}" = "true" ]; then
  python manage.py init_signing
fi
if [ "${DAMANE_SEED_DEMO:-false}" = "true" ]; then
  python manage.py seed_demo
fi
exec "$@"
