#!/bin/sh
# picacheck lab: run the host's provisioning script. The kernel line's hostfs= option
# limits hostfs to this machine's seed folder on the host.
set -e
mkdir -p /run/picalab-seed
mount -t hostfs -o ro none /run/picalab-seed
status=0
/bin/sh /run/picalab-seed/provision.sh || status=$?
umount /run/picalab-seed || true
exit $status
