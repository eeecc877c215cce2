#!/bin/sh
# The one-shot "migrate" job: schema migrations, once per deploy, before web and
# worker start (docker-compose.yml). A development signing key and the demo data
# only when explicitly asked for: production mounts the fund's key and certificate.
set -e
python manage.py migrate --noinput
# DAMANE_DEV_SIGNING=true (a demonstration stack, set on purpose in .env): development
# keys, made once and kept on the damane-var volume.
if [ "${DAMANE_DEV_SIGNING:-false}" = "true" ]; then
  python manage.py init_signing --if-missing
fi
if [ "${DAMANE_SEED_DEMO:-false}" = "true" ]; then
  python manage.py seed_demo
fi
