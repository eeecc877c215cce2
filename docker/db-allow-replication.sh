#!/bin/bash
# Run once by the postgres image when it creates db's data directory
# (/docker-entrypoint-initdb.d): db-replica may open a replication connection
# with the application's user (a superuser in this image) and its password.
set -euo pipefail
echo "host replication ${POSTGRES_USER} all scram-sha-256" >> "${PGDATA}/pg_hba.conf"
