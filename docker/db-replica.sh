#!/bin/bash
# db-replica: a hot standby of db (docs/scaling.md, "Read replica for verification").
# First start: a base backup of db with -R (standby.signal and primary_conninfo),
# then PostgreSQL follows db's WAL and answers read-only queries.
set -euo pipefail
if [ ! -s "${PGDATA}/PG_VERSION" ]; then
  until pg_isready -h db -U damane -q; do sleep 1; done
  pg_basebackup -h db -U damane -D "${PGDATA}" -R -X stream -c fast
  chmod 700 "${PGDATA}"
fi
exec postgres -c hot_standby=on -c jit=off -c max_standby_streaming_delay=1s
