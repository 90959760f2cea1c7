#!/bin/sh
### BEGIN INIT INFO
# Provides:          glusterd glusterfs-server
# Required-Start:    $network $remote_fs
# Required-Stop:     $network $remote_fs
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: GlusterFS management daemon (the lab's stand-in for glusterd.service)
### END INIT INFO
# Debian ships glusterd only as a systemd unit; the lab's nodes have no systemd, so this
# script does what glusterd.service does: LimitNOFILE=65536 (or the node's hard limit, if
# lower: started from an SSH session, glusterd and its bricks got pam_limits' soft 1024, and
# a brick under the load tests hit "Too many open files" and stopped itself),
# ExecStart=/usr/sbin/glusterd -p /run/glusterd.pid,
# and on stop, KillMode=control-group: glusterd and the brick and self-heal daemons it
# spawned (not the FUSE clients of mounted volumes, which systemd keeps in the mount unit).

PATH=/sbin:/bin:/usr/sbin:/usr/bin
DAEMON=/usr/sbin/glusterd
PIDFILE=/run/glusterd.pid
LOG_LEVEL=INFO
GLUSTERD_OPTIONS=
[ -r /etc/default/glusterd ] && . /etc/default/glusterd
. /lib/lsb/init-functions

# Server-side gluster processes: glusterd, bricks (glusterfsd), and the daemons glusterd
# starts (self-heal, quota, …); FUSE clients run with --process-name fuse.
server_pids() {
    for pid in $(pgrep -x glusterd) $(pgrep -x glusterfsd) $(pgrep -x glusterfs); do
        # Not this script (its name is glusterd too): only the gluster binaries.
        [ "$(readlink /proc/$pid/exe 2>/dev/null)" = /usr/sbin/glusterfsd ] || continue
        cmd=$(tr '\0' ' ' < /proc/$pid/cmdline 2>/dev/null) || continue
        case "$cmd" in
            *"--process-name fuse"*) ;;
            *) echo "$pid" ;;
        esac
    done
}

case "$1" in
    start)
        log_daemon_msg "Starting GlusterFS management daemon" "glusterd"
        if status_of_proc -p "$PIDFILE" "$DAEMON" glusterd >/dev/null 2>&1; then
            log_end_msg 0; exit 0
        fi
        ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
        start-stop-daemon --start --quiet --pidfile "$PIDFILE" --exec "$DAEMON" -- \
            -p "$PIDFILE" --log-level "$LOG_LEVEL" $GLUSTERD_OPTIONS
        status=$?
        # glusterd forks; wait until it listens on its management port.
        i=0
        while [ $status -eq 0 ] && [ $i -lt 50 ] && ! gluster --mode=script pool list >/dev/null 2>&1; do
            sleep 0.2; i=$((i + 1))
        done
        log_end_msg $status
        exit $status
        ;;
    stop)
        log_daemon_msg "Stopping GlusterFS management daemon" "glusterd"
        pids=$(server_pids)
        [ -n "$pids" ] && kill -TERM $pids 2>/dev/null
        i=0
        while [ -n "$(server_pids)" ] && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
        pids=$(server_pids)
        [ -n "$pids" ] && kill -KILL $pids 2>/dev/null
        rm -f "$PIDFILE"
        log_end_msg 0
        ;;
    restart|force-reload)
        "$0" stop
        "$0" start
        ;;
    status)
        status_of_proc -p "$PIDFILE" "$DAEMON" glusterd
        exit $?
        ;;
    *)
        echo "Usage: $0 {start|stop|restart|force-reload|status}" >&2
        exit 3
        ;;
esac
exit 0
