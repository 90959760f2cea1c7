"""The hypervisors' disks: md arrays healthy and declared, LVM, /boot, /SAVE, GRUB (H2–H8, H13)."""

import pytest

from picacheck.kit.applicability import not_applicable
from picacheck.probes import system


def _within(actual_mb: float, documented_mb: float, tolerance: float = 0.25) -> bool:
    return abs(actual_mb - documented_mb) <= tolerance * documented_mb


def test_raid_array_is_healthy_and_as_documented(hosts, raid_array):
    host_name, expected = raid_array
    state = system.read_mdstat(hosts[host_name])
    array = state.array(expected.name)
    assert array is not None, f"{host_name}: no {expected.name} in /proc/mdstat (arrays: {[a.name for a in state.arrays]})"
    assert array.state == "active", f"{host_name}: {expected.name} is {array.state}"
    assert array.level == expected.level, f"{host_name}: {expected.name} is {array.level}"
    members = {member.name for member in array.members}
    assert members == set(expected.members), f"{host_name}: {expected.name} members are {sorted(members)}"
    assert array.degraded is not None, (
        f"{host_name}: /proc/mdstat shows no [n/m] [UU] for {expected.name}: whether it is degraded is unknown"
    )
    failed = [member.name for member in array.members if member.faulty]
    assert not failed and not array.degraded, (
        f"{host_name}: {expected.name} is degraded: [{array.raid_disks}/{array.active_disks}] "
        f"[{array.status}], failed members: {failed or 'none listed'}"
    )
    if expected.size_mb and array.blocks:
        assert _within(array.blocks / 1024, expected.size_mb), (
            f"{host_name}: {expected.name} holds {array.blocks / 1024:.0f} MB, documented about {expected.size_mb} MB"
        )
    if expected.mountpoint:
        mount = system.mounted(hosts[host_name], expected.mountpoint)
        assert mount and mount.source == f"/dev/{expected.name}", (
            f"{host_name}: {expected.mountpoint} is {mount.source if mount else 'not mounted'}, documented /dev/{expected.name}"
        )
        assert mount.fstype == expected.filesystem, f"{host_name}: {expected.mountpoint} is {mount.fstype}"
    if expected.lvm_vg:
        vg = system.physical_volumes(hosts[host_name]).get(f"/dev/{expected.name}")
        assert vg == expected.lvm_vg, f"{host_name}: /dev/{expected.name} is the PV of {vg or 'no VG'}"


@pytest.mark.claim("H5")
def test_every_array_is_declared_in_mdadm_conf(hosts, inventory, hypervisor):
    host = inventory.hosts[hypervisor]
    if not host.raid:
        not_applicable(f"{hypervisor} has no documented arrays")
    conf = system.mdadm_conf(hosts[hypervisor], host.mdadm_conf or "/etc/mdadm/mdadm.conf")
    declared = {array.uuid for array in conf.arrays}
    for expected in host.raid:
        uuid = system.mdadm_detail(hosts[hypervisor], expected.name).uuid
        assert uuid in declared, (
            f"{hypervisor}: {expected.name} (UUID {uuid}) is not declared in {host.mdadm_conf}: "
            "it may come back under another name at boot"
        )


@pytest.mark.claim("H6")
def test_volume_groups_hold_the_documented_volumes(hosts, inventory, hypervisor):
    host = inventory.hosts[hypervisor]
    volumes = {(lv.vg, lv.lv): lv for lv in system.logical_volumes(hosts[hypervisor])}
    swaps = None
    for group in host.volume_groups:
        for expected in group.lvs:
            found = volumes.get((group.name, expected.name))
            assert found, f"{hypervisor}: no LV {group.name}/{expected.name} (LVs: {sorted(volumes)})"
            if expected.swap:
                swaps = swaps if swaps is not None else system.active_swaps(hosts[hypervisor])
                assert found.device in swaps, f"{hypervisor}: {group.name}/{expected.name} is not an active swap"
            if expected.mountpoint:
                mount = system.mounted(hosts[hypervisor], expected.mountpoint)
                assert mount is not None, f"{hypervisor}: nothing mounted on {expected.mountpoint}"
                mounted_device = system.resolve_paths(hosts[hypervisor], [mount.source])[mount.source]
                assert mounted_device == found.device, (
                    f"{hypervisor}: {expected.mountpoint} is {mount.source}, documented {group.name}/{expected.name}"
                )
                assert mount.fstype == expected.filesystem, f"{hypervisor}: {expected.mountpoint} is {mount.fstype}"


@pytest.mark.claim("H7")
def test_grub_is_on_every_boot_disk(hosts, inventory, hypervisor):
    grub = inventory.hosts[hypervisor].grub
    if grub is None or not grub.install_disks:
        not_applicable("the inventory documents no GRUB disks")
    without = [disk for disk in grub.install_disks if not system.disk_boot_sector_has_grub(hosts[hypervisor], disk)]
    assert not without, f"{hypervisor}: no GRUB boot code on {without}: the host does not boot if the other disk dies"


@pytest.mark.claim("H8")
def test_grub_kernel_command_line(hosts, inventory, hypervisor):
    grub = inventory.hosts[hypervisor].grub
    if grub is None or not grub.cmdline_default_contains:
        not_applicable("the inventory documents no GRUB command line")
    defaults = system.grub_defaults(hosts[hypervisor])
    assert "GRUB_CMDLINE_LINUX_DEFAULT" not in defaults.unreadable, (
        f"{hypervisor}: GRUB_CMDLINE_LINUX_DEFAULT in /etc/default/grub expands a command or a name the file does "
        "not set: its value is unknown"
    )
    options = defaults.cmdline_linux_default
    assert options is not None, f"{hypervisor}: /etc/default/grub has no GRUB_CMDLINE_LINUX_DEFAULT"
    missing = [option for option in grub.cmdline_default_contains if option not in options]
    assert not missing, f"{hypervisor}: GRUB_CMDLINE_LINUX_DEFAULT is {list(options)}, lacks {missing}"


@pytest.mark.claim("H13")
def test_documented_mounts_exist_with_their_size(hosts, inventory, hypervisor):
    host = inventory.hosts[hypervisor]
    if not host.mounts:
        not_applicable(f"no documented mounts on {hypervisor}")
    for expected in host.mounts:
        mount = system.mounted(hosts[hypervisor], expected.path)
        assert mount is not None, f"{hypervisor}: {expected.path} is not a separate filesystem"
        if expected.size_gb:
            assert mount.size_bytes is not None, f"{hypervisor}: findmnt did not say the size of {expected.path}"
            size_gb = mount.size_bytes / 1e9
            assert _within(size_gb, expected.size_gb), (
                f"{hypervisor}: {expected.path} is {size_gb:.2f} GB, documented about {expected.size_gb} GB"
            )
