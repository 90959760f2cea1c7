#!/bin/sh
# picacheck lab: make this UML machine the hypervisor that the hand-over report describes
# (section 8 installation: partitions, RAID, LVM; 9: corosync and /etc/hosts; 13: vmbr1
# and NAT in rc.local; 14: /SAVE). Runs from the host's seed folder at boot; works once.
#
# Lab device names: UML's disks are ubda..ubde; the report's sda..sdd are ubda..ubdd
# (same letters), so /proc/mdstat shows ubda1/ubdb1 where the report shows sda1/sdb1.
set -eu
SEED=/run/picalab-seed
MARK=/var/lib/picalab/provisioned
. "$SEED/machine.env"   # NAME

say() { echo "picalab-provision[$NAME] +$(( $(date +%s) - ${started:-$(date +%s)} ))s: $*"; }

if [ -e "$MARK" ]; then
    say "already provisioned ($(cat "$MARK")); nothing to do"
    exit 0
fi
started=$(date +%s)
say "provisioning"

# --- identity, SSH -------------------------------------------------------------------
echo "$NAME" > /etc/hostname
hostname "$NAME"
install -m 0644 "$SEED/hosts" /etc/hosts
rm -f /etc/ssh/ssh_host_*
for kind in rsa ecdsa ed25519; do   # made on the host for this machine
    install -m 0600 "$SEED/ssh_host_${kind}_key" /etc/ssh/
    install -m 0644 "$SEED/ssh_host_${kind}_key.pub" /etc/ssh/
done
install -d -m 0700 /root/.ssh
install -m 0600 "$SEED/authorized_keys" /root/.ssh/authorized_keys
# alice and bob pull each other's /SAVE/dump over the private names (report section 14).
install -m 0600 "$SEED/cluster_id_ed25519" /root/.ssh/id_ed25519
install -m 0644 "$SEED/cluster_id_ed25519.pub" /root/.ssh/id_ed25519.pub
cat "$SEED/cluster_id_ed25519.pub" >> /root/.ssh/authorized_keys
install -m 0600 "$SEED/ssh_config" /root/.ssh/config
# The CI user the suite logs in as: the lab key, and sudo for its privileged commands.
. "$SEED/ci_user.env"   # CI_USER, CI_UID
useradd --create-home --uid "$CI_UID" --shell /bin/bash "$CI_USER"
install -d -m 0700 -o "$CI_USER" -g "$CI_USER" "/home/$CI_USER/.ssh"
install -m 0600 -o "$CI_USER" -g "$CI_USER" "$SEED/authorized_keys" "/home/$CI_USER/.ssh/authorized_keys"
install -m 0440 "$SEED/sudoers-ci-user" "/etc/sudoers.d/$CI_USER"
visudo -cf "/etc/sudoers.d/$CI_USER"

say "partitions"
# --- disks (report: "Installation" and "Installation du RAID sur les HDD") ---------------
for module in md_mod raid1 dm_mod; do modprobe "$module"; done
udevadm settle
# SSDs: sda1 (boot flag) + sda2, sdb1 + sdb2, type fd "Linux raid autodetect".
# Sizes are the lab's (256 MiB disks): 48 MiB /boot mirror, the rest for LVM.
printf 'label: dos\nstart=2048, size=98304, type=fd, bootable\nstart=100352, type=fd\n' | sfdisk --quiet /dev/ubda
printf 'label: dos\nstart=2048, size=98304, type=fd\nstart=100352, type=fd\n' | sfdisk --quiet /dev/ubdb
# HDDs: one "Linux RAID" partition each (GPT, fdisk type 21 in the report).
for disk in ubdc ubdd; do
    printf 'label: gpt\nstart=2048, type=A19D880F-05FC-4D3B-A006-743F0F84911E\n' | sfdisk --quiet /dev/$disk
done
# /SAVE: its own disk in the lab (the report's 200 GB partition).
printf 'label: dos\nstart=2048, type=83\n' | sfdisk --quiet /dev/ubde
udevadm settle
for part in ubda1 ubda2 ubdb1 ubdb2 ubdc1 ubdd1 ubde1; do
    test -b /dev/$part || { say "no /dev/$part after partitioning"; exit 1; }
done

say "RAID1 arrays"
# Let the initial resync run at full speed (small disks: seconds).
echo 500000 > /proc/sys/dev/raid/speed_limit_min
echo 1000000 > /proc/sys/dev/raid/speed_limit_max
mdadm --create /dev/md0 --run --level=1 --raid-devices=2 --metadata=1.2 /dev/ubda1 /dev/ubdb1
mdadm --create /dev/md1 --run --level=1 --raid-devices=2 --metadata=1.2 --bitmap=internal /dev/ubda2 /dev/ubdb2
mdadm --create /dev/md2 --run --level=1 --raid-devices=2 --metadata=1.2 --bitmap=internal /dev/ubdc1 /dev/ubdd1
# "mdadm --detail --scan => on ... ajoute au fichier /etc/mdadm/mdadm.conf"
echo "# definitions of existing MD arrays (picacheck lab: mdadm --detail --scan)" >> /etc/mdadm/mdadm.conf
mdadm --detail --scan >> /etc/mdadm/mdadm.conf

say "filesystems, LVM"
# md0: ext2 on /boot.
mkfs.ext2 -q /dev/md0
# md1: the LVM physical volume of VG pve: root (ext4), swap, data (ext4 on /var/lib/vz).
pvcreate -q -y /dev/md1
vgcreate -q pve /dev/md1
lvcreate -q -y -W y -Z y -L 64M -n root pve
lvcreate -q -y -W y -Z y -L 32M -n swap pve
lvcreate -q -y -W y -Z y -l 100%FREE -n data pve
udevadm settle
mkfs.ext4 -q /dev/pve/root
mkfs.ext4 -q /dev/pve/data
mkswap -q /dev/pve/swap
# /SAVE
mkfs.ext4 -q -L SAVE /dev/ubde1

say "fstab, mounts"
cat >> /etc/fstab <<FSTAB
# picacheck lab: the report's layout (the real root stays the UML image above; pve/root is not /)
/dev/md0       /boot        ext2  defaults  0 2
/dev/pve/data  /var/lib/vz  ext4  defaults  0 2
/dev/pve/swap  none         swap  sw        0 0
/dev/ubde1     /SAVE        ext4  defaults  0 2
FSTAB
mkdir -p /boot /var/lib/vz /SAVE
mount /boot
mount /var/lib/vz
mount /SAVE
swapon /dev/pve/swap
mkdir -p /SAVE/dump /var/lib/vz/dump /var/lib/vz/images /var/lib/vz/template/iso

say "rc.local, corosync, cron"
# --- network: /etc/rc.local (report section 8 and 13) ---------------------------------
install -m 0755 "$SEED/rc.local" /etc/rc.local

# --- corosync (report section 9; corosync 3: knet + crypto instead of secauth) ----------
# (The unit's drop-in, Restart=on-failure and RestartSec=5s, is in the root image: systemd
# reads drop-ins before this script runs.)
install -d /etc/corosync
install -m 0644 "$SEED/corosync.conf" /etc/corosync/corosync.conf
install -m 0400 "$SEED/authkey" /etc/corosync/authkey

# --- backups: rsync of /SAVE/dump between the hosts (report section 14) -----------------
install -m 0644 "$SEED/cron-picasoft-save" /etc/cron.d/picasoft-save

# The initial resync takes seconds here; then Debian's default speed limits again.
# (A transient unit: this service's own leftover processes do not outlive it.)
systemd-run --quiet --no-block --unit=picalab-raid-speed --description="picacheck lab: RAID speed limits back" \
    /bin/sh -c 'mdadm --wait /dev/md0 /dev/md1 /dev/md2;
                echo 1000 > /proc/sys/dev/raid/speed_limit_min; echo 200000 > /proc/sys/dev/raid/speed_limit_max'

mkdir -p "$(dirname "$MARK")"
echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) in $(( $(date +%s) - started ))s" > "$MARK"
sync
say "provisioned in $(( $(date +%s) - started ))s"
