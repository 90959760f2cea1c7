#!/bin/bash
# Start Etherpad: database password and API key from the Swarm secrets, wait for MySQL.
set -euo pipefail
export DB_PASS
DB_PASS=$(tr -d '\n' < /run/secrets/etherpad_db_password)
tr -d '\n' < /run/secrets/etherpad_apikey > /opt/etherpad/APIKEY.txt
chown etherpad:etherpad /opt/etherpad/APIKEY.txt && chmod 600 /opt/etherpad/APIKEY.txt
host=${DB_HOST:-mysql} port=${DB_PORT:-3306}
for i in $(seq 120); do
    (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null && break
    [ "$i" = 1 ] && echo "[tx-etherpad] waiting for $host:$port"
    sleep 1
done
cd /opt/etherpad
exec setpriv --reuid=etherpad --regid=etherpad --init-groups env HOME=/opt/etherpad node src/node/server.js
