#!/bin/bash
# Start MariaDB; on first start (no marker in the data directory) initialise it: root's
# password, the etherpad database and its user, from the Swarm secrets.
set -euo pipefail
DATADIR=/var/lib/mysql
MARKER="$DATADIR/.picalab-initialised"
secret() { tr -d '\n' < "/run/secrets/$1"; }
log() { echo "[tx-mysql] $*"; }
mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld

if [ ! -e "$MARKER" ]; then
    log "initialising $DATADIR"
    find "$DATADIR" -mindepth 1 -delete
    chown mysql:mysql "$DATADIR"
    mariadb-install-db --user=mysql --datadir="$DATADIR" --skip-test-db \
        --auth-root-authentication-method=normal > /tmp/install.log 2>&1 || { cat /tmp/install.log; exit 1; }
    mariadbd --user=mysql --datadir="$DATADIR" --skip-networking --socket=/run/mysqld/init.sock &
    pid=$!
    for _ in $(seq 120); do
        mariadb-admin --socket=/run/mysqld/init.sock ping >/dev/null 2>&1 && break
        sleep 0.5
    done
    root_pw=$(secret mysql_root_password)
    app_pw=$(secret etherpad_db_password)
    mariadb --socket=/run/mysqld/init.sock -uroot <<SQL
ALTER USER 'root'@'localhost' IDENTIFIED BY '${root_pw}';
CREATE USER 'root'@'%' IDENTIFIED BY '${root_pw}';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;
CREATE DATABASE etherpad CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER 'etherpad'@'%' IDENTIFIED BY '${app_pw}';
GRANT ALL PRIVILEGES ON etherpad.* TO 'etherpad'@'%';
FLUSH PRIVILEGES;
SQL
    mariadb-admin --socket=/run/mysqld/init.sock -uroot -p"${root_pw}" shutdown
    wait "$pid" || true
    touch "$MARKER"
    log "initialised"
fi
exec mariadbd --user=mysql --datadir="$DATADIR"
