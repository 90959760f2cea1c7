#!/bin/sh
# The lab's nodes run without systemd (tini + /usr/local/sbin/picalab-init). This small
# stand-in maps the systemctl verbs that the checks and the report use onto the init
# scripts in /etc/init.d, so that `systemctl stop glusterd` works as on a real VM.
# Unit names: glusterd (alias glusterfs-server), docker, ssh (alias sshd), docker-registry, cron.
usage() { echo "usage: systemctl {start|stop|restart|reload|status|is-active|is-enabled|enable|disable} UNIT..." >&2; exit 2; }
[ $# -ge 1 ] || usage
verb=$1; shift
case "$verb" in
    daemon-reload) exit 0 ;;
    is-system-running) echo "running"; exit 0 ;;
esac
[ $# -ge 1 ] || usage
rc=0
quiet=0
for unit in "$@"; do
    case "$unit" in -q|--quiet) quiet=1; continue ;; --*) continue ;; esac
    name=${unit%.service}
    case "$name" in
        sshd) name=ssh ;;
        dockerd) name=docker ;;
        glusterfs-server) name=glusterd ;;
    esac
    script=/etc/init.d/$name
    if [ ! -x "$script" ]; then
        echo "Unit $name.service could not be found." >&2
        [ "$verb" = is-active ] && echo "inactive"
        rc=4; continue
    fi
    case "$verb" in
        start|stop|restart|reload|force-reload)
            "$script" "$verb" >/dev/null || rc=$? ;;
        status)
            "$script" status || rc=3 ;;
        is-active)
            if "$script" status >/dev/null 2>&1; then
                [ $quiet = 1 ] || echo active
            else
                [ $quiet = 1 ] || echo inactive; rc=3
            fi ;;
        is-enabled|enable|disable)
            # Every service the node's init starts counts as enabled.
            case " ${PICALAB_SERVICES:-$(cat /etc/picalab/services 2>/dev/null)} " in
                *" $name "*) [ "$verb" = is-enabled ] && echo enabled ;;
                *) [ "$verb" = is-enabled ] && { echo disabled; rc=1; } ;;
            esac ;;
        *) usage ;;
    esac
done
exit $rc
