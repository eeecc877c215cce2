#!/bin/sh
# Every process of the image starts here. Migrations are not run here: the
# one-shot "migrate" service (docker/migrate.sh) runs them once, before web and
# worker start, so replicas never race each other.
set -e
if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
  # Metrics files of a previous run of this container would be counted again.
  rm -rf "$PROMETHEUS_MULTIPROC_DIR"
  mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
fi
exec "$@"
