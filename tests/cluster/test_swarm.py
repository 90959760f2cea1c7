"""Docker Swarm: both nodes managers with one leader, the overlay network, and every service's
image present on every node (claims C10–C12). Read through the Docker API over SSH."""

import pytest

from picacheck.facts.swarm import tagged
from picacheck.kit.applicability import not_applicable
from picacheck.probes import cluster


@pytest.mark.claim("C10")
def test_nodes_are_ready_active_managers_with_one_leader(hosts, swarm, swarm_node):
    nodes = {node.hostname: node for node in cluster.swarm_nodes(hosts[swarm_node])}
    assert set(nodes) >= set(swarm.managers + swarm.workers), (
        f"{swarm_node} sees the nodes {sorted(nodes)}, expected {sorted(swarm.managers + swarm.workers)}"
    )
    for name in swarm.managers + swarm.workers:
        node = nodes[name]
        assert node.ready and node.active, f"{name} is {node.status}/{node.availability} (seen from {swarm_node})"
    for name in swarm.managers:
        assert nodes[name].is_manager, f"{name} is a worker, documented as a manager"
    leaders = [node.hostname for node in nodes.values() if node.is_leader]
    assert len(leaders) == 1, f"{swarm_node} sees {len(leaders)} leaders: {leaders}"


@pytest.mark.claim("C11")
def test_overlay_networks_exist(hosts, swarm, swarm_node):
    networks = cluster.swarm_networks(hosts[swarm_node])
    for network in swarm.networks:
        assert network.name in networks, f"{swarm_node}: no network {network.name}"
        assert networks[network.name] == network.driver, f"{network.name} uses the {networks[network.name]} driver"


@pytest.mark.claim("C12")
def test_every_service_image_is_on_every_node(hosts, swarm):
    if not swarm.images_on_every_node:
        not_applicable("the inventory does not require images on every node")
    images = cluster.service_images(hosts[swarm.managers[0]])
    assert images, "the swarm runs no service"
    missing = {}
    for node in swarm.managers + swarm.workers:
        present = cluster.local_images(hosts[node])
        absent = sorted(image for image in set(images.values()) if tagged(image) not in present)
        if absent:
            missing[node] = absent
    assert not missing, f"images missing (Swarm will pin their services to the other node): {missing}"

