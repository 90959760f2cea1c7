"""The lab's own SSH node is a host the Docker-over-SSH transport can use (its client, its
dial command, its share of sshd's sessions): the lab's backups part drives the Swarm through
it. A real sshd on 127.0.0.1 stands in for the lab's node."""

import time

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


def test_a_response_read_through_the_channels_file_leaves_the_rest_on_the_channel(node):
    """docker-py reads an exec's output from the channel itself after http.client has read
    the headers through the channel's file: the file must not have taken the output too."""
    transport = node.client.get_transport()
    channel = transport.open_session()
    channel.exec_command("printf 'HTTP/1.1 200 OK\\r\\n\\r\\n\\001\\000\\000\\000\\000\\000\\000\\005hello'")
    while not channel.exit_status_ready():  # everything sent before the first read
        time.sleep(0.05)
    time.sleep(0.2)
    channel = docker_remote._reading_no_further_than_asked(channel)
    headers = channel.makefile("rb")
    assert headers.readline() == b"HTTP/1.1 200 OK\r\n" and headers.readline() == b"\r\n"
    assert channel.recv(100) == b"\x01\x00\x00\x00\x00\x00\x00\x05hello"
    channel.close()
