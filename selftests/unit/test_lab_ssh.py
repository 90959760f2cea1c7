"""The lab's own SSH node is a host the Docker-over-SSH transport can use (its client, its
dial command, its share of sshd's sessions): the lab's backups part drives the Swarm through
it. A real sshd on 127.0.0.1 stands in for the lab's node."""

import pytest

from picacheck.lab import ssh as lab_ssh
from picacheck.probes import docker_remote, ssh
from selftests.unit.sshd import start_sshd


@pytest.fixture
def node(tmp_path, monkeypatch):
    server = start_sshd(tmp_path)
    local = ssh.Target("pica01", "127.0.0.1", server.port, "root", str(server.key_file), None)
    monkeypatch.setattr(lab_ssh, "target", lambda name, connect_timeout=10: local)
    node = lab_ssh.Node("pica01", connect_timeout=10)
    yield node
    node.close()
    server.stop()


def test_the_docker_transport_opens_its_connections_on_a_lab_node(node):
    pool = docker_remote._DialPool(node, timeout=5, maxsize=1)
    connection = pool._new_conn()
    assert connection.dial_command == "docker system dial-stdio"
    assert connection.sessions is node.sessions
    assert node.run("echo reached", what="a command beside it").stdout.strip() == "reached"
