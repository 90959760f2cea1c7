#!/bin/sh
# picalab-init: the boot of a lab node container, under tini (PID 1).
# It plays the part of a VM's init: host keys on first boot, local filesystems from
# /etc/fstab, the node's services through their init scripts (so that `service glusterd
# stop` / `systemctl start docker` over SSH work as on a real VM), then /etc/rc.local as the
# report has it (start glusterd, `mount -a` for the _netdev glusterfs line). On SIGTERM
# (docker stop) it shuts the node down in the reverse order.
set -u
SERVICES=${PICALAB_SERVICES:-ssh}
log() { echo "[picalab-init] $*"; }

mkdir -p /etc/picalab /run/sshd /var/log
echo "$SERVICES" > /etc/picalab/services

# First boot: this node's own SSH host keys (the image carries none).
ls /etc/ssh/ssh_host_*_key >/dev/null 2>&1 || ssh-keygen -A >/dev/null

# An unprivileged container gets /sys and the cgroup v1 hierarchies read-only, and
# /proc/sys read-only; the inner dockerd needs to write them (the container has
# CAP_SYS_ADMIN and no AppArmor profile, so it may remount).
mount -o remount,rw /sys 2>/dev/null || log "cannot remount /sys read-write"
if mountpoint -q /sys/fs/cgroup; then
    mount -o remount,rw /sys/fs/cgroup 2>/dev/null
    for hierarchy in /sys/fs/cgroup/*; do
        mountpoint -q "$hierarchy" && mount -o remount,bind,rw "$hierarchy" 2>/dev/null
    done
fi
mount -o remount,rw /proc/sys 2>/dev/null || true

# Local filesystems (the brick on /gluster-data); network ones wait for rc.local.
mount -a -O no_netdev || log "mount -a -O no_netdev failed"

for service in $SERVICES; do
    service "$service" start || log "service $service start failed"
done

[ -x /etc/rc.local ] && { /etc/rc.local || log "/etc/rc.local failed"; }
log "up: $SERVICES"
touch /run/picalab-booted

shutdown() {
    log "stopping"
    for mountpoint in $(awk '$3 ~ /^fuse/ {print $2}' /proc/mounts); do umount -l "$mountpoint"; done
    reversed=""
    for service in $SERVICES; do reversed="$service $reversed"; done
    for service in $reversed; do service "$service" stop >/dev/null 2>&1; done
    umount -a -t ext4 2>/dev/null
    exit 0
}
trap shutdown TERM INT

while :; do
    sleep 3600 &
    wait $!
done
