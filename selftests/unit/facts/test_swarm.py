"""Swarm text parsers on every docker_swarm sample and the report's `docker node ls`."""

from __future__ import annotations

import pytest

from picacheck.facts import ParseError, ToolError, parse_docker_info_swarm, parse_node_ls, parse_service_ps
from picacheck.facts.swarm import node_from_api, service_from_api, tagged, task_from_api

from .datafiles import data_files, read

# node ls: file → [(hostname, self, status, availability, manager status, engine version)]
NODES = {
    "node-ls-docs-3nodes-leader.txt": [
        ("swarm-worker2", False, "Ready", "Active", None, None),
        ("swarm-worker1", False, "Ready", "Active", None, None),
        ("swarm-manager1", True, "Ready", "Active", "Leader", None),
    ],
    "node-ls-docs-4nodes-engine-version-reachable.txt": [
        ("swarm-test-01", True, "Ready", "Active", "Leader", "23.0.3"),
        ("swarm-test-02", False, "Ready", "Active", "Reachable", "23.0.3"),
        ("swarm-test-03", False, "Ready", "Active", "Reachable", "23.0.3"),
        ("swarm-test-04", False, "Ready", "Active", None, "23.0.3"),
    ],
    "node-ls-for-linux-issue1506-stale-down-nodes.txt": [
        ("docker-desktop", False, status, "Active", None, "27.3.1")
        for status in ("Down", "Ready", "Down", "Down", "Down", "Down", "Down")
    ],
    "node-ls-moby-issue35740-2nodes-down.txt": [
        ("node-1", True, "Ready", "Active", "Leader", None),
        ("node-2", False, "Down", "Active", None, None),
        ("node-3", False, "Down", "Active", None, None),
    ],
    "node-ls-moby-issue36729-manager-unreachable.txt": [
        ("node1", False, "Ready", "Active", "Unreachable", "18.03.0-ce"),
        ("node2", False, "Ready", "Active", "Leader", "18.03.0-ce"),
        ("node3", True, "Ready", "Active", "Reachable", "18.03.0-ce"),
        ("node4", False, "Ready", "Active", None, "18.03.0-ce"),
    ],
    "node-ls-moby-docs-1.13-3nodes-leader.txt": [
        ("swarm-worker2", False, "Ready", "Active", None, None),
        ("swarm-worker1", False, "Ready", "Active", None, None),
        ("swarm-manager1", True, "Ready", "Active", "Leader", None),
    ],
    "node-ls-swarmkit-issue901-1.12dev-down-unreachable.txt": [
        ("ip-172-19-241-146", False, "Ready", "Active", "Reachable", None),
        ("manager", True, "Ready", "Active", "Leader", None),
        ("ip-172-19-241-144", False, "Ready", "Active", "Reachable", None),
        ("ip-172-19-241-145", False, "Down", "Active", "Unreachable", None),
    ],
}

# service ps: file → [(name, node, desired, state (Docker's word, lower case), error, history)]
TASKS = {
    "service-ps-caprover-issue1133-failed-nonzero-exit-no-header.txt": [
        ("captain-captain.1", "scraper", "Running", "running", None, False),
        *[("captain-captain.1", "scraper", "Shutdown", "failed", "task: non-zero exit (1)", True)] * 4,
    ],
    "service-ps-docs-no-trunc-rejected-no-such-image.txt": [
        ("redis.1", "manager1", "Running", "running", None, False),
        ("redis.1", "worker2", "Shutdown", "shutdown", None, True),
        ("redis.2", "worker2", "Running", "running", None, False),
        ("redis.2", "worker2", "Shutdown", "rejected",
         "No such image: redis@sha256:6a692a76c2081888b589e26e6ec835743119fe453d67ecf03df7de5b73d69842", True),
    ],
    "service-ps-docs-task-history-rejected.txt": [
        ("redis.1", "manager1", "Running", "running", None, False),
        ("redis.1", "manager1", "Shutdown", "shutdown", None, True),
        ("redis.2", "worker2", "Running", "running", None, False),
        ("redis.2", "worker2", "Shutdown", "rejected", "No such image: redis@sha256:6…", True),
        ("redis.2", "worker2", "Shutdown", "shutdown", None, True),
        ("redis.3", "worker1", "Running", "running", None, False),
        ("redis.3", "worker1", "Shutdown", "shutdown", None, True),
        ("redis.4", "worker1", "Running", "running", None, False),
        ("redis.4", "worker1", "Shutdown", "shutdown", None, True),
    ],
    "service-ps-moby-docs-1.12-desired-before-last-state.txt": [("redis.1", "manager1", "Running", "running", None, False)],
    "service-ps-moby-docs-1.12-service-column-last-state.txt": [
        (f"redis.{slot}", node, "Running", "running", None, False)
        for slot, node in enumerate(["manager1", "worker2", "worker1", "worker1", "manager1", "worker2", "worker2",
                                     "worker1", "manager1", "manager1"], start=1)
    ],
    "service-ps-moby-issue25951-rejected-no-such-image.txt": [
        ("web.1", "moby", "Ready", "preparing", None, False),
        *[("web.1", "moby", "Shutdown", "rejected", "No such image: blabla:somethi…", True)] * 4,
    ],
}

# docker info: file → (state, node id, is manager, managers, nodes, node address, manager addresses, error);
# state None: the output says nothing of swarm mode (docker before 1.12, a classic Swarm manager)
INFOS = {
    "docker-info-classicswarm-issue2537-swarm-state-empty.txt": (None, None, False, None, None, None, (), None),
    "docker-info-insights-1.9.1-no-swarm-line.txt": (None, None, None, None, None, None, (), None),
    "docker-info-moby-docs-1.10-no-swarm-line.txt": (None, None, None, None, None, None, (), None),
    "docker-info-moby-docs-1.13-manager-two-node-addresses.txt": (
        "active", "rdjq45w1op418waxlairloqbm", True, 1, 2, "172.16.66.128 172.16.66.129", ("172.16.66.128:2477",), None,
    ),
    "docker-info-moby-docs-1.13-windows-swarm-inactive.txt": ("inactive", None, None, None, None, None, (), None),
    "docker-info-moby-issue25009-1.12rc4-ismanager-yes-truncated.txt": (
        "active", "b0oprcm5gvg3nuuhibo9vibut", True, 0, 0, None, (), None,
    ),
    "docker-info-classicswarm-issue2656-swarm-worker-truncated.txt": (
        "active", "vigx3z6f7fb3kkwj1ephila4k", False, None, None, "10.0.0.80",
        ("10.0.0.216:2377", "10.0.0.243:2377", "10.0.0.66:2377"), None,
    ),
    "docker-info-cli-golden-swarm-active-manager.txt": (
        "active", "qo2dfdig9mmxqkawulggepdih", True, 1, 1, "165.227.107.89", ("165.227.107.89:2377",), None,
    ),
    "docker-info-moby-issue29520-manager-out-of-quorum-error-truncated.txt": (
        "active", "ljj1zkm5nzejtpglvtmy72ykm", True, 0, 0, "10.1.4.106",
        ("10.1.4.105:2377", "10.1.4.106:2377", "10.1.4.210:2377"), "rpc error: code = 4 desc = context deadline exceeded",
    ),
    "docker-info-moby-issue34835-manager-active-1mgr-9nodes-truncated.txt": (
        "active", "r5foch3j3tlsr4cwc6kh7dggg", True, 1, 9, "172.24.19.230", ("172.24.19.230:2377",), None,
    ),
}


ERROR_FILES = ["docker-info-insights-daemon-down-error.txt"]


def test_every_swarm_file_has_expectations():
    assert sorted([*NODES, *TASKS, *INFOS, *ERROR_FILES]) == data_files("docker_swarm")


@pytest.mark.parametrize("name", sorted(NODES))
def test_node_ls_file(name):
    nodes = parse_node_ls(read("docker_swarm", name))
    assert [(n.hostname, n.self, n.status, n.availability, n.manager_status, n.engine_version) for n in nodes] == NODES[name]
    assert sum(n.is_leader for n in nodes) == 1 or name.startswith("node-ls-for-linux")


def test_node_ls_down_and_unreachable():
    nodes = parse_node_ls(read("docker_swarm", "node-ls-moby-issue35740-2nodes-down.txt"))
    assert [n.hostname for n in nodes if not n.ready] == ["node-2", "node-3"]
    assert nodes[0].id == "h5kvzzs28gng3js6hv4d1z8km" and nodes[0].is_manager
    old = parse_node_ls(read("docker_swarm", "node-ls-swarmkit-issue901-1.12dev-down-unreachable.txt"))
    assert old[1].id == "1miz8ojqfvbd" and old[1].membership == "Accepted"
    assert [n.hostname for n in old if n.manager_status == "Unreachable"] == ["ip-172-19-241-145"]


def test_report_node_ls_before_promotion():
    nodes = parse_node_ls(read("report", "docker-node-ls-pica.txt"))
    pica02, pica01 = nodes
    assert (pica01.hostname, pica01.self, pica01.is_leader) == ("pica01", True, True)
    assert (pica02.hostname, pica02.is_manager, pica02.status, pica02.availability) == ("pica02", False, "Ready", "Active")
    assert pica01.id == "alpfdvrzjrbiuvya7nyiwhbjg"


@pytest.mark.parametrize("name", sorted(TASKS))
def test_service_ps_file(name):
    tasks = parse_service_ps(read("docker_swarm", name))
    assert [(t.name, t.node, t.desired_state, t.state, t.error, t.history) for t in tasks] == TASKS[name]


def test_service_ps_details():
    tasks = parse_service_ps(read("docker_swarm", "service-ps-docs-task-history-rejected.txt"))
    assert tasks[3].current_state == "Rejected 23 seconds ago" and tasks[3].image == "redis:7.4.1"
    assert tasks[2].current_state == "Running less than a second ago" and tasks[2].running
    headerless = parse_service_ps(read("docker_swarm", "service-ps-caprover-issue1133-failed-nonzero-exit-no-header.txt"))
    assert headerless[0].id == "3dgnenb0nlis5uw2jxpwg668t" and headerless[0].image == "caprover/caprover:1.9.0"


@pytest.mark.parametrize("name", sorted(INFOS))
def test_docker_info_file(name):
    info = parse_docker_info_swarm(read("docker_swarm", name))
    got = (info.state, info.node_id, info.is_manager, info.managers, info.nodes, info.node_address,
           info.manager_addresses, info.error)
    assert got == INFOS[name]
    assert info.active is (None if info.state is None else info.state == "active")


def test_docker_info_error_and_inactive():
    broken = parse_docker_info_swarm(read("docker_swarm", "docker-info-moby-issue29520-manager-out-of-quorum-error-truncated.txt"))
    assert broken.error and broken.cluster_id is None and broken.managers == 0
    inactive = parse_docker_info_swarm("Containers: 0\nSwarm: inactive\nRuntimes: runc\n")
    assert inactive.state == "inactive" and inactive.active is False and inactive.node_id is None


def test_docker_1_12_service_ps_and_info_layouts():
    tasks = parse_service_ps(read("docker_swarm", "service-ps-moby-docs-1.12-service-column-last-state.txt"))
    first = tasks[0]
    # the header reads "SERVICE IMAGE" one space apart: two columns, not one
    assert (first.service, first.image, first.current_state) == ("redis", "redis:3.0.6", "Running 8 seconds")
    assert first.error is None and first.ports is None and first.running
    swapped = parse_service_ps(read("docker_swarm", "service-ps-moby-docs-1.12-desired-before-last-state.txt"))[0]
    assert (swapped.desired_state, swapped.current_state, swapped.node) == ("Running", "Running 8 seconds", "manager1")
    rc = parse_docker_info_swarm(read("docker_swarm", "docker-info-moby-issue25009-1.12rc4-ismanager-yes-truncated.txt"))
    assert rc.is_manager is True and rc.managers == 0  # 1.12.0-rc4 printed "IsManager: Yes"


def test_unknown_columns_are_none():
    nodes = parse_node_ls("ID                          HOSTNAME\nalpfdvrzjrbiuvya7nyiwhbjg   pica01\n")
    assert (nodes[0].status, nodes[0].ready, nodes[0].is_manager, nodes[0].is_leader) == (None, None, None, None)
    tasks = parse_service_ps("ID            NAME\n50qe8lfnxaxk  redis.1\n")
    assert (tasks[0].image, tasks[0].current_state, tasks[0].state, tasks[0].running) == (None, None, None, None)


def test_daemon_down_is_a_tool_error():
    with pytest.raises(ToolError) as caught:
        parse_docker_info_swarm(read("docker_swarm", "docker-info-insights-daemon-down-error.txt"))
    assert caught.value.message.startswith("Cannot connect to the Docker daemon")


# Written by us from `docker node ls`'s layout: pica01 down after promoting pica02.
PICA01_DOWN = """\
ID                            HOSTNAME   STATUS    AVAILABILITY   MANAGER STATUS   ENGINE VERSION
alpfdvrzjrbiuvya7nyiwhbjg     pica01     Down      Active         Unreachable      24.0.7
9c3xnjjo1u6mbol5qtbeh92cb *   pica02     Ready     Active         Leader           24.0.7
"""


def test_node_down_variant():
    pica01, pica02 = parse_node_ls(PICA01_DOWN)
    assert not pica01.ready and pica01.manager_status == "Unreachable" and pica01.is_manager
    assert pica02.self and pica02.is_leader


@pytest.mark.parametrize("parser, text, fragment", [
    (parse_node_ls, "", "empty output"),
    (parse_node_ls, "abc def\n", "expected a header"),
    (parse_service_ps, "", "empty output"),
    (parse_service_ps, "just two  cells\n", "6 to 8 columns"),
    (parse_docker_info_swarm, "hello\nworld\n", "line 1: expected `docker info` output"),
    (parse_docker_info_swarm, "Swarm: active\n NodeID abc\n", "'Key: value'"),
])
def test_swarm_garbage(parser, text, fragment):
    with pytest.raises(ParseError) as caught:
        parser(text)
    assert fragment in str(caught.value)


def test_swarm_tool_errors():
    with pytest.raises(ToolError):
        parse_node_ls("Error response from daemon: This node is not a swarm manager.\n")
    with pytest.raises(ToolError):
        parse_docker_info_swarm("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n")


# ---------------------------------------------------------------------------- the Docker API
# Shapes of the Engine API v1.41 (GET /nodes, /services, /tasks), trimmed to what is read.

API_NODE = {
    "ID": "alpfdvrzjrbiuvya7nyiwhbjg",
    "Spec": {"Role": "manager", "Availability": "active"},
    "Description": {"Hostname": "pica01", "Engine": {"EngineVersion": "24.0.7"}},
    "Status": {"State": "ready", "Addr": "172.30.42.11"},
    "ManagerStatus": {"Leader": True, "Reachability": "reachable", "Addr": "172.30.42.11:2377"},
}
API_WORKER = {"ID": "w1", "Spec": {"Role": "worker", "Availability": "drain"},
              "Description": {"Hostname": "pica02"}, "Status": {"State": "down"}}
API_SERVICE = {
    "ID": "s1",
    "Spec": {
        "Name": "traefik", "Labels": {"traefik.enable": "true"}, "Mode": {"Global": {}},
        "TaskTemplate": {"ContainerSpec": {"Image": "registry.picasoft.test:5000/tx-traefik:3.1@sha256:abc"},
                         "Networks": [{"Target": "net1"}]},
        "EndpointSpec": {"Ports": [{"Protocol": "tcp", "TargetPort": 80, "PublishedPort": 80, "PublishMode": "host"},
                                   {"Protocol": "tcp", "TargetPort": 443, "PublishedPort": 443}]},
    },
}
API_TASK = {"ID": "t1", "NodeID": "alpfdvrzjrbiuvya7nyiwhbjg", "DesiredState": "running",
            "Spec": {"ContainerSpec": {"Image": "tx-traefik:3.1@sha256:abc"}},
            "Status": {"State": "running", "ContainerStatus": {"ContainerID": "c1"}}}


def test_a_node_of_the_api_reads_as_docker_node_ls_shows_it():
    leader = node_from_api(API_NODE, self_id="alpfdvrzjrbiuvya7nyiwhbjg")
    assert (leader.hostname, leader.status, leader.availability, leader.manager_status) == ("pica01", "Ready", "Active", "Leader")
    assert leader.ready and leader.active and leader.is_manager and leader.is_leader and leader.self
    assert leader.engine_version == "24.0.7"
    worker = node_from_api(API_WORKER)
    assert (worker.ready, worker.active, worker.is_manager, worker.is_leader, worker.self) == (False, False, False, False, False)
    unreachable = node_from_api({**API_NODE, "ManagerStatus": {"Reachability": "unreachable"}})
    assert unreachable.manager_status == "Unreachable" and unreachable.is_manager and not unreachable.is_leader


def test_a_service_of_the_api_with_its_tasks():
    service = service_from_api(API_SERVICE, [API_TASK, {**API_TASK, "ID": "t2", "NodeID": "gone",
                                                        "Status": {"State": "rejected", "Err": "no such image"}}],
                               {"alpfdvrzjrbiuvya7nyiwhbjg": "pica01"}, {"net1": "pica-net"})
    assert (service.name, service.mode, service.replicas, service.networks, service.published_ports) == (
        "traefik", "global", None, ("pica-net",), (80, 443))
    assert service.image == "registry.picasoft.test:5000/tx-traefik:3.1" and service.labels == {"traefik.enable": "true"}
    running, rejected = service.tasks
    assert (running.node, running.state, running.running, running.desired_state) == ("pica01", "running", True, "Running")
    assert running.name == "traefik.alpfdvrzjrbiuvya7nyiwhbjg" and running.image == "tx-traefik:3.1"
    assert (rejected.node, rejected.state, rejected.running, rejected.error) == ("gone", "rejected", False, "no such image")
    replicated = service_from_api({"Spec": {**API_SERVICE["Spec"], "Mode": {"Replicated": {"Replicas": 2}}}},
                                  [{**API_TASK, "Slot": 1}], {}, {})
    assert replicated.mode == "replicated" and replicated.replicas == 2 and replicated.tasks[0].name == "traefik.1"


def test_an_answer_of_another_shape_is_a_parse_error():
    with pytest.raises(ParseError):
        node_from_api({"ID": "x"})
    with pytest.raises(ParseError):
        task_from_api({"ID": "t"}, "traefik", {})
    with pytest.raises(ParseError):
        service_from_api({"Spec": None}, [], {}, {})


def test_tagged_references_as_the_image_store_lists_them():
    assert tagged("tx-debian") == "tx-debian:latest"
    assert tagged("registry.picasoft.test:5000/tx-debian") == "registry.picasoft.test:5000/tx-debian:latest"
    assert tagged("registry.picasoft.test:5000/tx-debian:12@sha256:abc") == "registry.picasoft.test:5000/tx-debian:12"
