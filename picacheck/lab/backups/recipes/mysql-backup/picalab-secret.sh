#!/bin/bash
# picacheck lab: the database password comes from a Swarm secret file (…_PASS_FILE), so that
# `docker service inspect` never shows it; then the report's script runs unchanged.
set -e
if [ -n "${MYSQL_PASS_FILE:-}" ]; then
    MYSQL_PASS="$(tr -d '\n' < "${MYSQL_PASS_FILE}")"
    export MYSQL_PASS
fi
if [ -n "${POSTGRES_PASS_FILE:-}" ]; then
    POSTGRES_PASS="$(tr -d '\n' < "${POSTGRES_PASS_FILE}")"
    export POSTGRES_PASS
fi
exec "$@"
