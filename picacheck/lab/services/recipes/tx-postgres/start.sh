#!/bin/bash
# Start PostgreSQL 15; on first start (no marker) initialise the cluster: the postgres
# superuser's password, the synapse role and database (UTF8, C collation as Synapse wants).
set -euo pipefail
MARKER="$PGDATA/.picalab-initialised"
as_postgres() { setpriv --reuid=postgres --regid=postgres --init-groups "$@"; }
log() { echo "[tx-postgres] $*"; }
mkdir -p /run/postgresql && chown postgres:postgres /run/postgresql

if [ ! -e "$MARKER" ]; then
    log "initialising $PGDATA"
    find "$PGDATA" -mindepth 1 -delete
    chown postgres:postgres "$PGDATA" && chmod 700 "$PGDATA"
    tr -d '\n' < /run/secrets/postgres_password > /tmp/pwfile && chown postgres /tmp/pwfile
    as_postgres initdb -D "$PGDATA" -U postgres --pwfile=/tmp/pwfile -E UTF8 --locale=C.UTF-8 \
        --auth-local=peer --auth-host=scram-sha-256 > /tmp/initdb.log 2>&1 || { cat /tmp/initdb.log; exit 1; }
    rm -f /tmp/pwfile
    echo "host all all 0.0.0.0/0 scram-sha-256" >> "$PGDATA/pg_hba.conf"
    as_postgres pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start
    app_pw=$(tr -d '\n' < /run/secrets/synapse_db_password)
    as_postgres psql -v ON_ERROR_STOP=1 -U postgres -d postgres <<SQL
CREATE ROLE synapse LOGIN PASSWORD '${app_pw}';
CREATE DATABASE synapse OWNER synapse ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0;
SQL
    as_postgres pg_ctl -D "$PGDATA" -m fast -w stop
    touch "$MARKER"
    log "initialised"
fi
chmod 700 "$PGDATA"
exec setpriv --reuid=postgres --regid=postgres --init-groups postgres -D "$PGDATA" -c listen_addresses='*'
