#!/bin/bash
# picacheck lab: a stand-in for Proxmox VE's vzdump (Proxmox cannot be installed here).
#
# Like vzdump, it backs up each VM of this node into the dump directory as
#     vzdump-qemu-<VMID>-<YYYY_MM_DD-HH_MM_SS>.vma.zst   (written as .dat, renamed when complete)
#     vzdump-qemu-<VMID>-<YYYY_MM_DD-HH_MM_SS>.log       (vzdump's task log lines)
# and keeps the newest --maxfiles archives of each of this node's VMs. The lab's VMs are
# containers on the lab host, reached over SSH on the lab network: the archive is a tar of
# the VM's data (the paths in the configuration) compressed with zstd, not a VMA disk image.
#
#   vzdump --all | VMID...  [--dumpdir DIR] [--maxfiles N] [--compress zstd]
#                           [--mode M] [--storage S] [--quiet 1]   (accepted, ignored)
set -u
set -o pipefail

CONF=${VZDUMP_CONF:-/etc/picalab/vzdump.conf}   # this node's VMs, one a line: VMID NAME ADDRESS PATH...
DUMPDIR=/SAVE/dump
MAXFILES=1                      # Proxmox's default for a storage
ALL=0
WANTED=" "
while [ $# -gt 0 ]; do
    case "$1" in
        --all) ALL=1 ;;
        --dumpdir) DUMPDIR=$2; shift ;;
        --maxfiles) MAXFILES=$2; shift ;;
        --compress|--mode|--storage|--quiet|--mailnotification|--mailto) shift ;;
        --*) echo "vzdump: unknown option $1" >&2; exit 2 ;;
        *) WANTED="$WANTED$1 " ;;
    esac
    shift
done

# Like vzdump's --lockwait: a run started while another one runs (the 03:00 cron job and a
# run by hand) waits for it instead of failing.
exec 9>"${VZDUMP_LOCK:-/run/vzdump.lock}"
if ! flock -w "${VZDUMP_LOCKWAIT:-240}" 9; then
    echo "vzdump: another backup job is still running after ${VZDUMP_LOCKWAIT:-240} s" >&2
    exit 1
fi

log() { echo "$(date '+%Y-%m-%d %H:%M:%S') $*" | tee -a "$LOG"; }

prune() {  # keep the newest $MAXFILES archives of VM $1 (and their logs)
    ls -1 "$DUMPDIR"/vzdump-qemu-"$1"-*.vma.zst 2>/dev/null | sort | head -n -"$MAXFILES" | while read -r old; do
        log "INFO: prune older backup '$old'"
        rm -f "$old" "${old%.vma.zst}.log"
    done
}

mkdir -p "$DUMPDIR"
status=0
while read -r vmid name address paths; do
    case "$vmid" in ''|\#*) continue ;; esac
    if [ "$ALL" -eq 0 ] && [ "${WANTED#* $vmid }" = "$WANTED" ]; then
        continue
    fi
    stamp=$(date +%Y_%m_%d-%H_%M_%S)
    base="$DUMPDIR/vzdump-qemu-$vmid-$stamp"
    LOG="$base.log"
    : > "$LOG"
    started=$(date +%s)
    log "INFO: Starting Backup of VM $vmid (qemu)"
    log "INFO: VM Name: $name"
    log "INFO: creating archive '$base.vma.zst' (lab: tar of $paths on $name at $address)"
    ssh -n -o BatchMode=yes -o ConnectTimeout=10 -o StrictHostKeyChecking=accept-new "root@$address" \
        "tar -c --numeric-owner --ignore-failed-read --warning=no-file-changed -f - $paths 2>/dev/null" \
        | zstd -q -3 > "$base.vma.zst.dat"
    codes=("${PIPESTATUS[@]}")
    # GNU tar exits 1 when a file changed while it was read (a live VM): a warning.
    if [ "${codes[0]}" -le 1 ] && [ "${codes[1]}" -eq 0 ]; then
        mv "$base.vma.zst.dat" "$base.vma.zst"
        log "INFO: archive file size: $(du -h "$base.vma.zst" | cut -f1)"
        log "INFO: Finished Backup of VM $vmid ($(date -u -d "@$(( $(date +%s) - started ))" +%H:%M:%S))"
        prune "$vmid"
    else
        rm -f "$base.vma.zst.dat"
        log "ERROR: Backup of VM $vmid failed - ssh/tar exit ${codes[0]}, zstd exit ${codes[1]}"
        status=1
    fi
done < "$CONF"
exit "$status"
