"""GlusterFS parsers on every gluster sample and the report's peer status and volume info."""

from __future__ import annotations

import pytest

from picacheck.facts import (
    ParseError, ToolError, parse_heal_info, parse_peer_status, parse_volume_info, parse_volume_status,
)

from .datafiles import data_files, read

# peer status: file → [(hostname, state, connected)]
PEERS = {
    "peer-status-gluster-kubernetes-issue20-accepted-peer-request.txt": [
        ("220d4345-ea09-4ba3-bf8e-bc2c86bc821c.pub.cloud.scaleway.com", "Accepted peer request", True),
        ("f6e5fcaf-35bf-424b-a2f9-900d3d1a9b11.pub.cloud.scaleway.com", "Accepted peer request", True),
    ],
    "peer-status-gluster-kubernetes-issue20-disconnected.txt": [
        ("84-158-172-163.rev.cloud.scaleway.com", "Accepted peer request", False),
    ],
    "peer-status-glusterdocs-quickstart-2peers.txt": [
        ("server2", "Peer in Cluster", True), ("server3", "Peer in Cluster", True),
    ],
    "peer-status-glusterdocs-storage-pools-3peers.txt": [
        ("server2", "Peer in Cluster", True), ("server3", "Peer in Cluster", True), ("server4", "Peer in Cluster", True),
    ],
    "peer-status-glusterfs-issue4435-3peers-1-disconnected.txt": [
        ("instance-03", "Peer in Cluster", False), ("instance-01", "Peer in Cluster", True),
        ("instance-02", "Peer in Cluster", True),
    ],
    "peer-status-insights-1peer-connected.txt": [("versegluster1.verse.loc", "Peer in Cluster", True)],
    "peer-status-insights-3peers-1-disconnected.txt": [
        ("versegluster1.verse.loc", "Peer in Cluster", True), ("10.30.32.16", "Peer in Cluster", True),
        ("10.30.32.20", "Peer in Cluster", False),
    ],
}

# volume info: file → [(name, type, status, bricks line, distribute, replica, arbiter, total, arbiter bricks, option count)]
VOLUMES = {
    "vol-info-glusterdocs-arbiter-2x2plus1-created.txt": [
        ("testvol", "Distributed-Replicate", "Created", "2 x (2 + 1) = 6", 2, 3, 1, 6, ["server3:/bricks/brick", "server6:/bricks/brick"], 2),
    ],
    "vol-info-glusterdocs-3x-distribute-no-volume-id.txt": [("test-volume", "Distribute", "Started", "4", 4, None, None, 4, [], 0)],
    "vol-info-glusterdocs-configure-replica3-created.txt": [("gv0", "Replicate", "Created", "1 x 3 = 3", 1, 3, 0, 3, [], 0)],
    "vol-info-glusterdocs-distributed-replicate-2x2.txt": [("test", "Distributed-Replicate", "Started", "2 x 2 = 4", 2, 2, 0, 4, [], 0)],
    "vol-info-glusterdocs-quickstart-replica3-started.txt": [("gv0", "Replicate", "Started", "1 x 3 = 3", 1, 3, 0, 3, [], 1)],
    "vol-info-glusterfs-issue2583-replica-arbiter-1x2plus1.txt": [
        ("gv-zfs-common", "Replicate", "Started", "1 x (2 + 1) = 3", 1, 3, 1, 3,
         ["test-other-beta:/data/glusterfs-storage-arbiter/common"], 6),
    ],
    "vol-info-insights-2vols-replica3.txt": [
        ("test_vol", "Replicate", "Started", "1 x 3 = 3", 1, 3, 0, 3, [], 18),
        ("test_vol_2", "Replicate", "Started", "1 x 3 = 3", 1, 3, 0, 3, [], 18),
    ],
}

# volume status: file → {volume: [(name, host, path, tcp port, online, pid)]}, errors
STATUS = {
    "vol-status-glusterdocs-3x-old-layout-brick-killed-annotated.txt": ({"r2": [
        ("Brick", "Server1", "/home/gfs/r2_0", None, False, 5342), ("Brick", "Server2", "/home/gfs/r2_1", 49153, True, 5354),
        ("Brick", "Server1", "/home/gfs/r2_2", 49154, True, 5365), ("Brick", "Server2", "/home/gfs/r2_3", 49155, True, 5376),
    ]}, ()),
    "vol-status-glusterdocs-old-format-no-rdma-column.txt": ({"r2": [
        ("Brick", "Server1", "/home/gfs/r2_5", 49156, True, 5731), ("Brick", "Server2", "/home/gfs/r2_1", 49153, True, 5354),
        ("Brick", "Server1", "/home/gfs/r2_2", 49154, True, 5365), ("Brick", "Server2", "/home/gfs/r2_3", 49155, True, 5376),
    ]}, ()),
    "vol-status-glusterfs-issue2993-replica3-wrapped-bricks.txt": ({"software": [
        ("Brick", "alarm1", "/data/glusterfs/software/brick1/brick", 49155, True, 463),
        ("Brick", "alarm2", "/data/glusterfs/software/brick1/brick", 49155, True, 470),
        ("Brick", "homeserver", "/data/glusterfs/software/brick1/brick", 49155, True, 3020),
        ("Self-heal Daemon", "localhost", None, None, True, 481),
        ("Self-heal Daemon", "alarm1.localdomain", None, None, True, 474),
        ("Self-heal Daemon", "homeserver.localdomain", None, None, True, 7525),
    ]}, ()),
    "vol-status-heketi-issue1506-brick-offline.txt": ({"vol_3442e86b6d994a14de73f1b8c82cf0b8": [
        ("Brick", "192.168.3.6", "/var/lib/heketi/mounts/vg_ca57f326195c243be2380ce4e42a4191/brick_952d75fd193c7209c9a81acbc23a3747/brick", 49166, True, 269),
        ("Brick", "192.168.3.5", "/var/lib/heketi/mounts/vg_d5f17487744584e3652d3ca943b0b91b/brick_e15c12cceae12c8ab7782dd57cf5b6c1/brick", None, False, None),
        ("Brick", "192.168.3.15", "/var/lib/heketi/mounts/vg_462ea199185376b03e4b0317363bb88c/brick_1736459d19e8aaa1dcb5a87f48747d04/brick", 49173, True, 225),
        ("Self-heal Daemon", "localhost", None, None, True, 45826),
        ("Self-heal Daemon", "192.168.3.6", None, None, True, 65196),
        ("Self-heal Daemon", "192.168.3.15", None, None, True, 52915),
    ]}, ()),
    "vol-status-insights-locking-failed-wrapped-hostnames.txt": ({
        "volQXCHISTPI_log": [
            ("Brick", "srvgluspvlsu71.example.com", "/gluster/QXCHISTPI/log/brick", 49153, True, 11020),
            ("Brick", "srvgluspvlsu72.example.com", "/gluster/QXCHISTPI/log/brick", 49153, True, 11182),
            ("Brick", "srvgluspvlsu73.example.com", "/gluster/QXCHISTPI/log/brick", 49153, True, 129143),
            ("Self-heal Daemon", "localhost", None, None, True, 130186),
            ("Self-heal Daemon", "srvgluspvlsu71", None, None, True, 20009),
            ("Self-heal Daemon", "srvgluspvlsu72.example.com", None, None, True, 12300),
        ],
        "volQXSCCINTP_data": [
            ("Brick", "srvgluspvlsu71.example.com", "/gluster/QXSCCINTP/data/brick", 49190, True, 11374),
            ("Brick", "srvgluspvlsu72.example.com", "/gluster/QXSCCINTP/data/brick", 49190, True, 11524),
            ("Brick", "srvgluspvlsu73.example.com", "/gluster/QXSCCINTP/data/bri", 49190, True, 129476),  # truncated upstream
            ("Self-heal Daemon", "localhost", None, None, True, 130186),
            ("Self-heal Daemon", "srvgluspvlsu71", None, None, True, 20009),
            ("Self-heal Daemon", "srvgluspvlsu72.example.com", None, None, True, 12300),
        ],
    }, (
        "Locking failed on srvgluspvlsu72.example.com. Please check log file for details.",
        "Another transaction is in progress for volQXCHISTP_data. Please try again after sometime.",
    )),
    "vol-status-insights-2vols-all-online.txt": ({
        "test_vol": [
            ("Brick", "172.17.18.42", "/home/brick", 49152, True, 26685), ("Brick", "172.17.18.43", "/home/brick", 49152, True, 27094),
            ("Brick", "172.17.18.44", "/home/brick", 49152, True, 27060), ("Self-heal Daemon", "localhost", None, None, True, 7805),
            ("Self-heal Daemon", "172.17.18.44", None, None, True, 33400), ("Self-heal Daemon", "172.17.18.43", None, None, True, 33680),
        ],
        "test_vol_2": [
            ("Brick", "172.17.18.42", "/home/brick", 49152, True, 6685), ("Brick", "172.17.18.43", "/home/brick", 49152, True, 33094),
            ("Brick", "172.17.18.44", "/home/brick", 49152, True, 2060), ("Self-heal Daemon", "localhost", None, None, True, 7805),
            ("Self-heal Daemon", "172.17.18.44", None, None, True, 33400), ("Self-heal Daemon", "172.17.18.43", None, None, True, 33680),
        ],
    }, ()),
    "vol-status-insights-replica3-all-online.txt": ({"test_vol": [
        ("Brick", "172.17.18.42", "/home/brick", 49152, True, 26685), ("Brick", "172.17.18.43", "/home/brick", 49152, True, 27094),
        ("Brick", "172.17.18.44", "/home/brick", 49152, True, 27060), ("Self-heal Daemon", "localhost", None, None, True, 7805),
        ("Self-heal Daemon", "172.17.18.44", None, None, True, 33400), ("Self-heal Daemon", "172.17.18.43", None, None, True, 33680),
    ]}, ()),
}

# heal info: file → (variant, [(brick, status, number of entries, entries in split-brain, number in split-brain)])
HEAL = {
    "heal-info-glusterdocs-3x-brick-down-status-only.txt": ("info", [
        ("Server1:/home/gfs/r2_0", "Transport endpoint is not connected", None, (), None),
        ("Server2:/home/gfs/r2_1", None, 1, (), None), ("Server1:/home/gfs/r2_2", None, 0, (), None),
        ("Server2:/home/gfs/r2_3", None, 0, (), None),
    ]),
    "heal-info-glusterdocs-3x-count-before-entries-elided.txt": ("info", [
        (":/gfs/test-volume_0", None, 0, (), None), (":/gfs/test-volume_1", None, 101, (), None),
    ]),
    "heal-info-glusterfs-issue1216-root-pending-one-brick-unreachable.txt": ("info", [
        ("server:/mnt/hdd4/gluster", "Connected", 1, (), None),
        ("garage:/mnt/hdd2/gluster", "Transport endpoint is not connected", None, (), None),
        ("fhem:/home/pi/gluster", "Connected", 1, (), None),
    ]),
    "heal-info-glusterfs-issue2706-brick-transport-not-connected.txt": ("info", [
        (f"virtual-machine-{n}.vdc.com:/var/lib/gluster/.bricks/roi-prod-files",
         "Transport endpoint is not connected" if n == 73 else "Connected", None if n == 73 else 0, (), None)
        for n in (71, 73, 72, 78, 80, 79)
    ]),
    "heal-info-glusterdocs-r2-no-entries.txt": ("info", [
        ("Server1:/home/gfs/r2_5", None, 0, (), None), ("Server2:/home/gfs/r2_1", None, 0, (), None),
        ("Server1:/home/gfs/r2_2", None, 0, (), None), ("Server2:/home/gfs/r2_3", None, 0, (), None),
    ]),
    "heal-info-glusterdocs-split-brain-gfid-entries.txt": ("info", [
        ("<hostname:brickpath-b1>", None, 4, (
            "<gfid:aaca219f-0e25-4576-8689-3bfd93ca70c2>", "<gfid:39f301ae-4038-48c2-a889-7dac143e82dd>",
            "<gfid:c3c94de2-232d-4083-b534-5da17fc476ac>"), None),
        ("<hostname:brickpath-b2>", None, 6, ("/dir/file1", "/dir", "/file4"), None),
    ]),
    "heal-info-glusterdocs-status-connected-root-split-brain.txt": ("info", [
        ("10.70.47.45:/bricks/brick2/b0", "Connected", 2, ("/",), None),
        ("10.70.47.144:/bricks/brick2/b1", "Connected", 2, ("/",), None),
    ]),
    "heal-info-split-brain-glusterdocs-2bricks.txt": ("split-brain", [
        ("<hostname:brickpath-b1>", None, None, (
            "<gfid:aaca219f-0e25-4576-8689-3bfd93ca70c2>", "<gfid:39f301ae-4038-48c2-a889-7dac143e82dd>",
            "<gfid:c3c94de2-232d-4083-b534-5da17fc476ac>"), 3),
        ("<hostname:brickpath-b2>", None, None, ("/dir/file1", "/dir", "/file4"), 3),
    ]),
    "heal-info-split-brain-glusterdocs-4bricks-gfid.txt": ("split-brain", [
        ("test-host:/test/b0/", None, None, ("/file100", "/dir"), 2),
        ("test-host:/test/b1/", None, None, ("/file100", "/dir"), 2),
        ("test-host:/test/b2/", None, None, ("/file99", "<gfid:5399a8d1-aee9-4653-bb7f-606df02b3696>"), 2),
        ("test-host:/test/b3/", None, None, ("<gfid:05c4b283-af58-48ed-999e-4d706c7b97d5>", "<gfid:5399a8d1-aee9-4653-bb7f-606df02b3696>"), 2),
    ]),
    "heal-info-summary-glusterdocs-3.13-release-notes.txt": ("summary", [
        ("<brickname>", "Connected", 3, (), 1), ("<brickname>", "Connected", 4, (), 1),
    ]),
}

ERROR_FILES = ["peer-status-insights-glusterd-down-error.txt"]


def test_every_gluster_file_has_expectations():
    assert sorted([*PEERS, *VOLUMES, *STATUS, *HEAL, *ERROR_FILES]) == data_files("gluster")


@pytest.mark.parametrize("name", sorted(PEERS))
def test_peer_status_file(name):
    status = parse_peer_status(read("gluster", name))
    assert status.number_of_peers == len(PEERS[name])
    assert [(p.hostname, p.state, p.connected) for p in status.peers] == PEERS[name]
    assert all(p.uuid for p in status.peers)


def test_disconnected_peer_is_recognised():
    status = parse_peer_status(read("gluster", "peer-status-insights-3peers-1-disconnected.txt"))
    assert [p.hostname for p in status.disconnected] == ["10.30.32.20"]
    assert status.peer("10.30.32.20").in_cluster and not status.peer("10.30.32.20").connected
    assert status.peer("10.30.32.20").uuid == "4673e3-5e95-4c02-b9bb-2823483e067bb3"  # hand-edited upstream, kept as is


def test_glusterd_down_is_a_tool_error():
    with pytest.raises(ToolError) as caught:
        parse_peer_status(read("gluster", "peer-status-insights-glusterd-down-error.txt"))
    assert caught.value.message == "Connection failed. Please check if gluster daemon is operational."
    assert isinstance(caught.value, ParseError)
    for parser in (parse_volume_info, parse_volume_status, parse_heal_info):
        with pytest.raises(ToolError):
            parser(read("gluster", "peer-status-insights-glusterd-down-error.txt"))


@pytest.mark.parametrize("name", sorted(VOLUMES))
def test_volume_info_file(name):
    volumes = parse_volume_info(read("gluster", name))
    got = [
        (v.name, v.type, v.status, v.bricks_line, v.distribute_count, v.replica_count, v.arbiter_count,
         v.total_bricks, [b.name for b in v.bricks if b.arbiter], len(v.options))
        for v in volumes
    ]
    assert got == VOLUMES[name]
    for volume in volumes:
        assert len(volume.bricks) == volume.total_bricks
        assert volume.transport == (None if name == "vol-info-glusterdocs-3x-distribute-no-volume-id.txt" else "tcp")


def test_volume_info_options_and_bricks():
    first, second = parse_volume_info(read("gluster", "vol-info-insights-2vols-replica3.txt"))
    assert first.options["cluster.quorum-type"] == "auto" and second.options["nfs.disable"] == "on"
    assert [(b.host, b.path) for b in second.bricks] == [(f"172.17.18.{n}", "/home/brick2") for n in (42, 43, 44)]
    assert first.volume_id == "2c32ed8d-5a07-4a76-a73a-123859556974" and first.snapshot_count == 0 and first.started
    created = parse_volume_info(read("gluster", "vol-info-glusterdocs-configure-replica3-created.txt"))[0]
    assert created.started is False and created.snapshot_count is None
    old = parse_volume_info(read("gluster", "vol-info-glusterdocs-3x-distribute-no-volume-id.txt"))[0]
    assert (old.volume_id, old.transport, old.snapshot_count) == (None, None, None)  # 3.x printed none of them
    assert parse_volume_info("Volume Name: v\nType: Replicate\n")[0].started is None  # no Status line: unknown


def test_disperse_counts_and_no_volumes():
    text = "Volume Name: ec\nType: Disperse\nStatus: Started\nNumber of Bricks: 1 x (4 + 2) = 6\nTransport-type: tcp\nBricks:\n"
    volume = parse_volume_info(text)[0]
    assert (volume.disperse_count, volume.redundancy_count, volume.replica_count) == (6, 2, None)
    plain = parse_volume_info("Volume Name: d\nType: Distribute\nNumber of Bricks: 3\n")[0]
    assert (plain.distribute_count, plain.total_bricks, plain.replica_count) == (3, 3, None)
    assert parse_volume_info("No volumes present\n") == ()


def test_report_volume_info_gluster_data():
    (volume,) = parse_volume_info(read("report", "gluster-volume-info-gluster-data.txt"))
    assert (volume.name, volume.type, volume.status) == ("gluster-data", "Replicate", "Started")
    assert (volume.distribute_count, volume.replica_count, volume.arbiter_count, volume.total_bricks) == (1, 2, 0, 2)
    assert [b.name for b in volume.bricks] == ["pica01:/gluster-data", "pica02:/gluster-data"]
    assert volume.options == {}  # auth.allow was set after this output was taken


def test_report_peer_status():
    status = parse_peer_status(read("report", "gluster-peer-status-pica01.txt"))
    assert status.number_of_peers == 1
    peer = status.peer("pica02")
    assert peer.in_cluster and peer.connected and peer.uuid == "36530258-860b-4403-85b3-3de1fd6bb47a"


@pytest.mark.parametrize("name", sorted(STATUS))
def test_volume_status_file(name):
    expected, errors = STATUS[name]
    report = parse_volume_status(read("gluster", name))
    assert [v.name for v in report] == list(expected) and report.errors == errors
    for volume_name, processes in expected.items():
        volume = report.volume(volume_name)
        assert [(p.name, p.host, p.path, p.tcp_port, p.online, p.pid) for p in volume.processes] == processes


def test_offline_brick_is_recognised():
    volume = parse_volume_status(read("gluster", "vol-status-heketi-issue1506-brick-offline.txt"))[0]
    assert [b.host for b in volume.offline_bricks] == ["192.168.3.5"] and not volume.all_online
    assert volume.offline_bricks[0].rdma_port is None and volume.tasks == ()
    online = parse_volume_status(read("gluster", "vol-status-insights-replica3-all-online.txt"))[0]
    assert online.all_online and len(online.bricks) == 3 and online.bricks[0].rdma_port == 0


def test_gluster_3x_status_annotated_offline_brick():
    volume = parse_volume_status(read("gluster", "vol-status-glusterdocs-3x-old-layout-brick-killed-annotated.txt"))[0]
    # "<<---- brick is not running" once made this row swallow the next one's
    assert [(b.host, b.path, b.pid) for b in volume.offline_bricks] == [("Server1", "/home/gfs/r2_0", 5342)]
    assert len(volume.bricks) == 4 and volume.all_online is False and volume.bricks[1].rdma_port is None


def test_a_row_without_columns_does_not_swallow_the_next_row():
    # Written by us: a row whose columns the parser cannot read, followed by another process row.
    text = (
        "Status of volume: v\nGluster process                             TCP Port  RDMA Port  Online  Pid\n"
        "-----\nBrick a:/b                                  N/A       N/A        N       N/A  (down)\n"
        "Brick c:/d                                  49152     0          Y       1301\n"
    )
    with pytest.raises(ParseError, match="line 4:.*has no port/online/pid columns"):
        parse_volume_status(text)


# Written by us from the CLI's layout: gluster-data with pica02's brick down, and a rebalance task.
GLUSTER_DATA_BRICK_DOWN = """\
Status of volume: gluster-data
Gluster process                             TCP Port  RDMA Port  Online  Pid
------------------------------------------------------------------------------
Brick pica01:/gluster-data                  49152     0          Y       1301
Brick pica02:/gluster-data                  N/A       N/A        N       N/A
Self-heal Daemon on localhost               N/A       N/A        Y       1322
Self-heal Daemon on pica02                  N/A       N/A        N       N/A

Task Status of Volume gluster-data
------------------------------------------------------------------------------
Task                 : Rebalance
ID                   : 8ab9a2d9-8ff3-4c7b-b2c1-0b3e1b1f00aa
Status               : in progress
"""


def test_brick_down_variant():
    volume = parse_volume_status(GLUSTER_DATA_BRICK_DOWN).volume("gluster-data")
    assert [(b.host, b.path) for b in volume.offline_bricks] == [("pica02", "/gluster-data")]
    assert [(t.kind, t.status) for t in volume.tasks] == [("Rebalance", "in progress")]


@pytest.mark.parametrize("name", sorted(HEAL))
def test_heal_info_file(name):
    variant, bricks = HEAL[name]
    heal = parse_heal_info(read("gluster", name))
    assert heal.variant == variant
    got = [(b.brick, b.status, b.number_of_entries, b.in_split_brain, b.number_in_split_brain) for b in heal.bricks]
    assert got == bricks


def test_heal_info_entries_and_totals():
    heal = parse_heal_info(read("gluster", "heal-info-glusterdocs-split-brain-gfid-entries.txt"))
    assert heal.bricks[1].entries == ("/dir/file2", "/dir/file1", "/dir", "/dir/file3", "/file4", "/dir/a")
    assert heal.pending_entries == 10 and heal.split_brain_entries == 6
    clean = parse_heal_info(read("gluster", "heal-info-glusterdocs-r2-no-entries.txt"))
    assert clean.pending_entries == 0 and clean.split_brain_entries == 0 and clean.unreachable_bricks == ()
    summary = parse_heal_info(read("gluster", "heal-info-summary-glusterdocs-3.13-release-notes.txt"))
    assert [(b.number_heal_pending, b.number_possibly_healing) for b in summary.bricks] == [(2, 0), (3, 0)]
    assert summary.split_brain_entries == 2
    connected = parse_heal_info(read("gluster", "heal-info-glusterdocs-status-connected-root-split-brain.txt"))
    assert connected.bricks[0].host == "10.70.47.45" and connected.bricks[0].path == "/bricks/brick2/b0"


@pytest.mark.parametrize("name, unreachable", [
    ("heal-info-glusterdocs-3x-brick-down-status-only.txt", ["Server1:/home/gfs/r2_0"]),
    ("heal-info-glusterfs-issue1216-root-pending-one-brick-unreachable.txt", ["garage:/mnt/hdd2/gluster"]),
    ("heal-info-glusterfs-issue2706-brick-transport-not-connected.txt",
     ["virtual-machine-73.vdc.com:/var/lib/gluster/.bricks/roi-prod-files"]),
])
def test_unreachable_brick_leaves_the_totals_unknown(name, unreachable):
    heal = parse_heal_info(read("gluster", name))
    assert [b.brick for b in heal.unreachable_bricks] == unreachable
    assert heal.pending_entries is None and heal.split_brain_entries is None  # not 0: a brick was not read


def test_heal_info_gluster_3x_layouts():
    old = parse_heal_info(read("gluster", "heal-info-glusterdocs-3x-count-before-entries-elided.txt"))
    # 3.x printed the count before the entries; the doc elides them with "...", read as listed
    assert old.pending_entries == 101 and old.split_brain_entries == 0
    assert old.bricks[1].entries[:2] == ("/95.txt", "/32.txt") and len(old.bricks[1].entries) == 10
    assert (old.bricks[1].host, old.bricks[1].path) == (None, "/gfs/test-volume_1")  # the doc blanked the host
    down = parse_heal_info(read("gluster", "heal-info-glusterdocs-3x-brick-down-status-only.txt"))
    assert down.bricks[1].entries == ("/",) and down.bricks[1].connected is None  # 3.7 printed no Status when connected
    root = parse_heal_info(read("gluster", "heal-info-glusterfs-issue1216-root-pending-one-brick-unreachable.txt"))
    assert [b.entries for b in root.bricks] == [("/",), (), ("/",)]
    split = parse_heal_info(read("gluster", "heal-info-split-brain-glusterdocs-2bricks.txt"))
    assert split.pending_entries is None and split.split_brain_entries == 6  # that variant states no pending count


def test_heal_info_unreachable_brick():
    heal = parse_heal_info(
        "Brick pica01:/gluster-data\nStatus: Connected\nNumber of entries: 0\n\n"
        "Brick pica02:/gluster-data\nStatus: Transport endpoint is not connected\nNumber of entries: -\n"
    )
    assert [b.brick for b in heal.unreachable_bricks] == ["pica02:/gluster-data"]
    assert heal.bricks[1].number_of_entries is None and heal.bricks[1].connected is False


@pytest.mark.parametrize("parser, text, fragment", [
    (parse_peer_status, "", "no 'Number of Peers:'"),
    (parse_peer_status, "Number of Peers: 1\n\nHostname: x\nState: weird\n", "(Connected|Disconnected)"),
    (parse_peer_status, "Number of Peers: 1\nHostname: x\n", "no 'State:'"),
    (parse_peer_status, "Number of Peers: 1\nbanana\n", "line 2"),
    (parse_volume_info, "", "empty output"),
    (parse_volume_info, "Type: Replicate\n", "'Volume Name:' first"),
    (parse_volume_info, "Volume Name: x\nOptions Reconfigured:\nno colon here\n", "option.name"),
    (parse_volume_status, "hello\n", "no 'Status of volume:'"),
    (parse_volume_status, "Status of volume: v\nBrick a:/b  49152  0  Y\n", "no port/online/pid"),
    (parse_heal_info, "/file\n", "'Brick host:/path' first"),
    (parse_heal_info, "", "no 'Brick' line"),
])
def test_gluster_garbage(parser, text, fragment):
    with pytest.raises(ParseError) as caught:
        parser(text)
    assert fragment in str(caught.value)


def test_other_names_with_ipv6():
    status = parse_peer_status(
        "Number of Peers: 1\n\nHostname: pica02\nUuid: 36530258-860b-4403-85b3-3de1fd6bb47a\n"
        "State: Peer in Cluster (Connected)\nOther names:\n192.168.10.12\nfe80::1\n"
    )
    assert status.peers[0].other_names == ("192.168.10.12", "fe80::1") and status.peer("fe80::1") is status.peers[0]
