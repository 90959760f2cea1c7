"""The Docker SDK over the host's existing SSH connection.

docker-py's own ssh:// transport reads only ~/.ssh/config and opens a second connection;
here its SSH adapter is handed the paramiko client that testinfra already holds, so the
Docker API shares the inventory's ssh_config (port, key, jump host) and the one
connection per host. Each API request runs `docker system dial-stdio` on the host.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import docker
import requests.adapters
from docker.transport.sshconn import SSHHTTPAdapter
from docker.transport.sshconn import RecentlyUsedContainer

from picacheck.probes.remote import RemoteHost


class _SharedConnectionAdapter(SSHHTTPAdapter):
    def __init__(self, remote: RemoteHost, timeout: int):
        # Deliberately not calling SSHHTTPAdapter.__init__: it would open its own connection.
        self.remote = remote
        self.ssh_host = remote.name
        self.timeout = timeout
        self.max_pool_size = 4
        self.pools = RecentlyUsedContainer(4, dispose_func=lambda pool: pool.close())
        requests.adapters.HTTPAdapter.__init__(self)

    @property  # type: ignore[override]
    def ssh_client(self):
        return self.remote.backend.client

    @ssh_client.setter
    def ssh_client(self, value) -> None:  # the parent's __init__ and close() assign it
        pass

    def _connect(self) -> None:  # the shared client reconnects by itself
        pass

    def close(self) -> None:  # the connection belongs to the host pool
        self.pools.clear()


@contextmanager
def docker_client(remote: RemoteHost, timeout: int = 30) -> Iterator[docker.DockerClient]:
    """A DockerClient talking to the Docker engine of `remote` through its SSH connection."""
    client = docker.DockerClient(base_url="tcp://127.0.0.1:9", version="1.41", timeout=timeout)
    adapter = _SharedConnectionAdapter(remote, timeout)
    client.api.mount("http+docker://ssh", adapter)
    client.api._custom_adapter = adapter
    client.api.base_url = "http+docker://ssh"
    try:
        yield client
    finally:
        client.close()
