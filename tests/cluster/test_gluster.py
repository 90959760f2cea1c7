"""GlusterFS: peers connected, the replicated volume healthy, bricks on their own filesystem,
/DATA mounted from the volume on every node (claims C4–C9)."""

import pytest

from picacheck.kit.applicability import not_applicable
from picacheck.probes import cluster, system


@pytest.mark.claim("C4")
def test_peers_see_each_other_connected(hosts, inventory, gluster_peer):
    status = cluster.peer_status(hosts[gluster_peer])
    expected = set(inventory.gluster.peers) - {gluster_peer}
    seen = {peer.hostname: peer for peer in status.peers}
    missing = expected - set(seen)
    assert not missing, f"{gluster_peer} does not know the peers {sorted(missing)}"
    for name in expected:
        peer = seen[name]
        assert peer.state == "Peer in Cluster" and peer.connected, (
            f"{gluster_peer} sees {name} as '{peer.state}' ({'Connected' if peer.connected else 'Disconnected'})"
        )


@pytest.mark.claim("C5")
def test_volume_is_the_documented_replica(hosts, inventory, gluster_volume):
    volume = cluster.volume_info(hosts[inventory.gluster.peers[0]], gluster_volume.name)
    assert volume.type == gluster_volume.type, f"{volume.name} is {volume.type}"
    assert volume.status == "Started", f"{volume.name} is {volume.status}"
    assert volume.replica_count == gluster_volume.replica
    assert volume.total_bricks == len(gluster_volume.bricks)
    assert tuple(f"{brick.host}:{brick.path}" for brick in volume.bricks) == gluster_volume.bricks


@pytest.mark.claim("C5")
def test_every_brick_is_online(hosts, inventory, gluster_volume):
    status = cluster.volume_status(hosts[inventory.gluster.peers[0]], gluster_volume.name)
    bricks = {f"{p.host}:{p.path}": p for p in status.processes if p.path}
    for brick in gluster_volume.bricks:
        assert brick in bricks, f"brick {brick} is not listed by `gluster volume status` (its node is out of the pool?)"
        assert bricks[brick].online, f"brick {brick} is offline (pid {bricks[brick].pid})"


@pytest.mark.claim("C6")
def test_auth_allow_is_set(hosts, inventory, gluster_volume):
    if not gluster_volume.auth_allow_required:
        not_applicable("the inventory does not require auth.allow")
    volume = cluster.volume_info(hosts[inventory.gluster.peers[0]], gluster_volume.name)
    allowed = volume.options.get("auth.allow", "")
    assert allowed and allowed != "*", f"auth.allow on {volume.name} is {allowed or 'unset'}: anyone may mount it"


@pytest.mark.claim("C7")
def test_each_brick_sits_on_its_own_filesystem(hosts, gluster_volume):
    expected = gluster_volume.brick_filesystem
    for node, path in gluster_volume.brick_places:
        mount = system.mounted(hosts[node], path)
        assert mount is not None, f"{node}: {path} is not a mount point: the brick shares the root filesystem"
        if expected:
            assert mount.fstype == expected.filesystem, f"{node}: {path} is {mount.fstype}"
            assert system.fstab(hosts[node]).at(path), f"{node}: {path} is not in /etc/fstab: it will not come back after a reboot"


@pytest.mark.claim("C8")
def test_data_is_the_volume_mounted_on_every_node(hosts, gluster_volume):
    mount = gluster_volume.mount
    if mount is None:
        not_applicable("the inventory has no mount for this volume")
    for node in mount.hosts:
        mounted = system.mounted(hosts[node], mount.path)
        assert mounted is not None, f"{node}: nothing is mounted on {mount.path}"
        assert mounted.fstype == "fuse.glusterfs", f"{node}: {mount.path} is {mounted.fstype}, not glusterfs"
        assert mounted.source.endswith(f":/{gluster_volume.name}") or mounted.source.endswith(
            f":{gluster_volume.name}"
        ), f"{node}: {mount.path} comes from {mounted.source}"
        entry = system.fstab(hosts[node]).at(mount.path)
        assert entry and entry.vfstype == "glusterfs", f"{node}: no glusterfs line for {mount.path} in fstab"
        missing = set(mount.fstab_options) - set(entry.mntops)
        assert not missing, f"{node}: fstab line for {mount.path} lacks {sorted(missing)}"


@pytest.mark.claim("C9")
def test_no_pending_heal_and_no_split_brain(hosts, inventory, gluster_volume):
    heal = cluster.heal_info(hosts[inventory.gluster.peers[0]], gluster_volume.name)
    unreachable = [brick.brick for brick in heal.unreachable_bricks]
    assert not unreachable, f"heal info cannot reach the bricks {unreachable}"
    unstated = [brick.brick for brick in heal.bricks if brick.number_of_entries is None]
    assert not unstated, f"heal info states no entry count for the bricks {unstated}: their heal state is unknown"
    split = {brick.brick: brick.in_split_brain for brick in heal.bricks if brick.in_split_brain}
    assert heal.split_brain_entries == 0, f"{heal.split_brain_entries} entries in split-brain: {split}"
    pending = {brick.brick: brick.number_of_entries for brick in heal.bricks if brick.number_of_entries}
    assert heal.pending_entries == 0, f"{heal.pending_entries} entries waiting for heal: {pending}"
