#!/bin/bash
# Start php-fpm and nginx; on an empty data directory, put the wiki's initial data there.
set -euo pipefail
DATA=/var/lib/dokuwiki/data
if [ ! -e "$DATA/pages" ]; then
    echo "[tx-dokuwiki] initialising $DATA"
    cp -a /opt/dokuwiki-data-initial/. "$DATA/"
fi
chown www-data:www-data "$DATA"
for dir in pages meta media media_meta attic media_attic cache index locks tmp log; do
    mkdir -p "$DATA/$dir" && chown www-data:www-data "$DATA/$dir"
done
mkdir -p /run/php
php-fpm8.2 --daemonize
exec nginx -g 'daemon off;'
