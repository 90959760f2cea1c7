#!/bin/bash
# Start Synapse: homeserver.yaml from its template and the Swarm secrets, signing key on
# first start (in /data, bind-mounted from /DATA/synapse), wait for PostgreSQL.
set -euo pipefail
secret() { tr -d '\n' < "/run/secrets/$1"; }
SERVER_NAME=${SERVER_NAME:?} DB_HOST=${DB_HOST:-postgres} DB_PORT=${DB_PORT:-5432}
DB_USER=${DB_USER:-synapse} DB_NAME=${DB_NAME:-synapse}
mkdir -p /data/media_store
sed -e "s|@SERVER_NAME@|$SERVER_NAME|g" -e "s|@DB_HOST@|$DB_HOST|g" -e "s|@DB_PORT@|$DB_PORT|g" \
    -e "s|@DB_USER@|$DB_USER|g" -e "s|@DB_NAME@|$DB_NAME|g" \
    -e "s|@DB_PASS@|$(secret synapse_db_password)|g" \
    -e "s|@REGISTRATION_SECRET@|$(secret synapse_registration_secret)|g" \
    -e "s|@MACAROON_SECRET@|$(secret synapse_macaroon_secret)|g" \
    /etc/synapse/homeserver.yaml.tmpl > /etc/synapse/homeserver.yaml
chown synapse:synapse /etc/synapse/homeserver.yaml && chmod 600 /etc/synapse/homeserver.yaml
chown synapse:synapse /data /data/media_store
as_synapse() { setpriv --reuid=synapse --regid=synapse --init-groups env HOME=/data "$@"; }
if [ ! -s "/data/$SERVER_NAME.signing.key" ]; then
    as_synapse /opt/synapse/bin/python -m synapse.app.homeserver -c /etc/synapse/homeserver.yaml --generate-keys
fi
for i in $(seq 120); do
    (exec 3<>"/dev/tcp/$DB_HOST/$DB_PORT") 2>/dev/null && break
    [ "$i" = 1 ] && echo "[tx-synapse] waiting for $DB_HOST:$DB_PORT"
    sleep 1
done
exec setpriv --reuid=synapse --regid=synapse --init-groups env HOME=/data \
    /opt/synapse/bin/python -m synapse.app.homeserver -c /etc/synapse/homeserver.yaml
