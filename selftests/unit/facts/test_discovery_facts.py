"""The parsers that `inventory discover` added: lsblk, VM lists, /etc/default/grub, backup
job command lines, `docker service inspect`, Traefik router rules. Samples are what the
lab's hosts print (alice's lsblk, its cron lines, the Swarm's dump jobs), cut down."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from picacheck.facts import ParseError
from picacheck.facts.backup_commands import rsync_pull, vzdump_job
from picacheck.facts.blockdevices import parse_lsblk
from picacheck.facts.docker_services import parse_service_inspect
from picacheck.facts.grub import parse_default_grub
from picacheck.facts.traefik_rules import label_domains, rule_domains
from picacheck.facts.vms import parse_vm_list

LSBLK = json.dumps({"blockdevices": [
    {"name": "/dev/ubda", "kname": "/dev/ubda", "type": "disk", "fstype": None, "mountpoint": None, "children": [
        {"name": "/dev/ubda1", "kname": "/dev/ubda1", "type": "part", "fstype": "linux_raid_member", "mountpoint": None,
         "children": [{"name": "/dev/md0", "kname": "/dev/md0", "type": "raid1", "fstype": "ext2", "mountpoint": "/boot"}]},
        {"name": "/dev/ubda2", "kname": "/dev/ubda2", "type": "part", "fstype": "linux_raid_member", "mountpoint": None,
         "children": [{"name": "/dev/md1", "kname": "/dev/md1", "type": "raid1", "fstype": "LVM2_member",
                       "mountpoint": None, "children": [
                           {"name": "/dev/mapper/pve-root", "kname": "/dev/dm-0", "type": "lvm", "fstype": "ext4",
                            "mountpoint": None},
                           {"name": "/dev/mapper/pve-swap", "kname": "/dev/dm-1", "type": "lvm", "fstype": "swap",
                            "mountpoint": "[SWAP]"}]}]}]},
    {"name": "/dev/ubdb", "kname": "/dev/ubdb", "type": "disk", "fstype": None, "mountpoint": None, "children": [
        {"name": "/dev/ubdb1", "kname": "/dev/ubdb1", "type": "part", "fstype": None, "mountpoint": None,
         "children": [{"name": "/dev/md0", "kname": "/dev/md0", "type": "raid1", "fstype": "ext2", "mountpoint": "/boot"}]}]},
]})


def test_lsblk_lists_each_device_once_with_its_kernel_name_and_filesystem():
    devices = parse_lsblk(LSBLK)
    paths = [d.path for d in devices]
    assert paths == ["/dev/ubda", "/dev/ubda1", "/dev/md0", "/dev/ubda2", "/dev/md1", "/dev/mapper/pve-root",
                     "/dev/mapper/pve-swap", "/dev/ubdb", "/dev/ubdb1"], "md0 sits on two partitions: listed once"
    root = devices[5]
    assert (root.kernel_path, root.fstype, root.mountpoint) == ("/dev/dm-0", "ext4", None)
    assert devices[6].mountpoint == "[SWAP]" and devices[0].fstype is None


@pytest.mark.parametrize("text", ["", "[]", '{"blockdevices": 3}', '{"blockdevices": [{"type": "disk"}]}',
                                  '{"blockdevices": [{"name": "/dev/a", "type": "disk", "children": 1}]}'])
def test_lsblk_refuses_what_it_cannot_read(text):
    with pytest.raises(ParseError):
        parse_lsblk(text)


def test_vm_list_reads_qm_list_and_the_labs_stand_in():
    qm = """      VMID NAME                 STATUS     MEM(MB)    BOOTDISK(GB) PID
       100 pica01               running    8192              32.00 1234
       101 admin                stopped    2048              16.00 0
"""
    lab = "# picacheck lab: the VMs of this node (VMID NAME ADDRESS PATH...)\n102 pica02 172.30.42.12 /etc /gluster-data\n"
    assert [(vm.vmid, vm.name) for vm in parse_vm_list(qm)] == [(100, "pica01"), (101, "admin")]
    assert [(vm.vmid, vm.name) for vm in parse_vm_list(lab)] == [(102, "pica02")]
    assert parse_vm_list("") == ()
    with pytest.raises(ParseError):
        parse_vm_list("pica01 100\n")


def test_grub_default_reads_the_shell_assignments_as_grub_mkconfig_does():
    grub = parse_default_grub("""# the report's typo is kept: i915.modset=0
GRUB_DEFAULT=0
GRUB_CMDLINE_LINUX_DEFAULT="quiet"
GRUB_CMDLINE_LINUX_DEFAULT="quiet i915.modeset=0"   # the last one wins
export GRUB_TIMEOUT='5'
if [ -x /usr/bin/foo ]; then GRUB_X=1; fi
GRUB_BAD="unbalanced
""")
    assert grub.cmdline_linux_default == ("quiet", "i915.modeset=0")
    assert grub.settings["GRUB_TIMEOUT"] == "5" and grub.settings["GRUB_DEFAULT"] == "0"
    assert grub.ignored == ("if [ -x /usr/bin/foo ]; then GRUB_X=1; fi",)
    assert grub.unreadable == {"GRUB_BAD"}
    assert parse_default_grub("").cmdline_linux_default is None


def test_rsync_pull_names_the_source_of_the_labs_and_the_reports_jobs():
    lab = rsync_pull("rsync -avzh --progress 172.30.44.2:/SAVE/dump/* /SAVE/dump/ >> /var/log/picasoft-save.log 2>&1")
    assert (lab.address, lab.path, lab.user, lab.destination) == ("172.30.44.2", "/SAVE/dump", None, "/SAVE/dump")
    report = rsync_pull("/usr/bin/rsync -a -e 'ssh -p 22' root@192.168.128.152:/SAVE/dump/ /SAVE/dump>/dev/null")
    assert (report.address, report.path, report.user, report.destination) == (
        "192.168.128.152", "/SAVE/dump", "root", "/SAVE/dump")
    v6 = rsync_pull("rsync -a [fd30::2]:/SAVE/dump /SAVE/dump")
    assert v6.address == "fd30::2"
    for not_a_pull in ("rsync -a /SAVE/dump/ /mnt/copy/", "rsync -a host::module /tmp", "vzdump --all",
                       "rsync -a 'unbalanced", "echo rsync 1.2.3.4:/x"):
        assert rsync_pull(not_a_pull) is None, not_a_pull


def test_vzdump_job_reads_its_dump_directory_and_vms():
    job = vzdump_job("vzdump --all --mode snapshot --compress zstd --dumpdir /SAVE/dump/ --quiet 1 >> /var/log/v.log 2>&1")
    assert (job.dumpdir, job.vms) == ("/SAVE/dump", "all")
    assert vzdump_job("/usr/bin/vzdump 100 101 --dumpdir=/backup") == type(job)("/backup", "100 101")
    assert vzdump_job("vzdump 100 --mode stop").dumpdir is None
    assert vzdump_job("rsync -a a:/x /y") is None and vzdump_job("") is None


SERVICES = json.dumps([
    {"ID": "a1", "Spec": {"Name": "mysql-backup", "Labels": {"org.picasoft.picalab": "backups"}, "TaskTemplate": {
        "ContainerSpec": {"Image": "registry.picasoft.test:5000/mysql-backup:baed6cf@sha256:00",
                          "Env": ["MYSQL_HOST=mysql", "MAX_BACKUPS=10", "CRON_TIME=* * * * *", "EMPTY"],
                          "Mounts": [{"Type": "bind", "Source": "/DATA/BACKUP/mysql", "Target": "/backup/"}]}}}},
    {"ID": "b2", "Spec": {"Name": "etherpad", "TaskTemplate": {"ContainerSpec": {"Image": "tx-etherpad"}}}},
])


def test_service_inspect_reads_image_environment_mounts_and_labels():
    job, pad = parse_service_inspect(SERVICES)
    assert job.name == "mysql-backup" and job.image == "registry.picasoft.test:5000/mysql-backup:baed6cf"
    assert job.env == {"MYSQL_HOST": "mysql", "MAX_BACKUPS": "10", "CRON_TIME": "* * * * *", "EMPTY": ""}
    assert job.bind_source("/backup") == "/DATA/BACKUP/mysql" and job.bind_source("/data") is None
    assert job.labels == {"org.picasoft.picalab": "backups"}
    assert (pad.env, pad.mounts, pad.labels) == ({}, (), {})
    assert parse_service_inspect("") == ()


def test_service_inspect_never_quotes_a_spec_it_cannot_read():
    secret = [{"ID": "c3", "Spec": {"TaskTemplate": {"ContainerSpec": {"Env": ["MYSQL_PASS=hunter2"]}}}}]
    with pytest.raises(ParseError) as raised:
        parse_service_inspect(json.dumps(secret))
    assert "hunter2" not in str(raised.value) and "c3" in str(raised.value)
    for text in ("{", "{}", "[1]"):
        with pytest.raises(ParseError):
            parse_service_inspect(text)


def test_router_rules_give_their_domains_in_v1_v2_and_v3_forms():
    assert rule_domains("Host(`pad.picasoft.net`) && PathPrefix(`/`)") == ("pad.picasoft.net",)
    assert rule_domains("Host(`a.net`, `B.net`) || Host(\"c.net\")") == ("a.net", "b.net", "c.net")
    assert rule_domains("Host:team.picasoft.net,chat.picasoft.net;PathPrefix:/") == (
        "team.picasoft.net", "chat.picasoft.net")
    assert rule_domains("HostRegexp(`{sub:[a-z]+}.net`)") == () and rule_domains("HostSNI(`*`)") == ()
    labels = {"traefik.enable": "true", "traefik.http.routers.pad.rule": "Host(`pad.test`)",
              "traefik.http.routers.pad.tls": "true", "traefik.frontend.rule": "Host:old.test",
              "traefik.tcp.routers.db.rule": "HostSNI(`db.test`)"}
    assert label_domains(labels) == ("pad.test", "old.test")


PARSERS = [parse_lsblk, parse_vm_list, parse_default_grub, parse_service_inspect]


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(st.text(), st.sampled_from([LSBLK, SERVICES]).flatmap(
    lambda sample: st.integers(0, len(sample)).map(lambda cut: sample[:cut]))))
def test_the_parsers_return_or_raise_parse_error_on_any_text(text):
    for parse in PARSERS:
        try:
            parse(text)
        except ParseError:
            pass
    for command in (rsync_pull, vzdump_job, rule_domains):
        command(text)  # None or a value, never an exception
