"""The Docker SDK over the host's existing SSH connection.

docker-py's own ssh:// transport reads only ~/.ssh/config and opens a second connection;
here its SSH adapter is handed the paramiko client that testinfra already holds, so the
Docker API shares the inventory's ssh_config (port, key, jump host) and the one
connection per host. Each API request runs `docker system dial-stdio` on the host.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Iterator

import docker
import requests.adapters
from docker.transport.sshconn import RecentlyUsedContainer, SSHConnection, SSHConnectionPool, SSHHTTPAdapter

from picacheck.probes import ssh
from picacheck.probes.remote import RemoteHost


class _DialConnection(SSHConnection):
    """docker-py's SSH connection, with the dial command of the host (through sudo for a CI
    user that is not root), on one of the host's limited SSH sessions (see remote.MAX_SESSIONS)."""

    def __init__(self, ssh_transport, timeout: int, dial_command: str, sessions):
        super().__init__(ssh_transport=ssh_transport, timeout=timeout)
        self.dial_command = dial_command
        self.sessions = sessions

    def connect(self) -> None:
        if not self.sessions.acquire(timeout=self.timeout):
            raise OSError(f"every SSH session of the host busy for {self.timeout}s (the Docker API waits for one)")
        try:
            channel = ssh.open_session(self.ssh_transport, time.monotonic() + self.timeout, "the Docker host")
            channel.settimeout(self.timeout)
            channel.exec_command(self.dial_command)
        except BaseException:
            self.sessions.release()
            raise
        self.sock = _reading_no_further_than_asked(_released_on_close(channel, self.sessions))


def _released_on_close(channel, sessions):
    """The channel, giving its session slot back once, when it closes."""
    close = channel.close
    released = []

    def close_and_release() -> None:
        try:
            close()
        finally:
            if not released:
                released.append(True)
                sessions.release()

    channel.close = close_and_release
    return channel


def _reading_no_further_than_asked(channel):
    """The channel, whose files never read ahead of what they are asked for.

    http.client reads a response's headers through `channel.makefile()`, whose readline
    takes 8 KiB at a time from the channel; for an exec or attach, docker-py then reads the
    multiplexed output from the channel itself (`_get_raw_response_socket`), so output that
    came in the same packet as the headers was left in the file's buffer: the stream lost
    its frame boundaries ("ValueError: 97 is not a valid stream" in a restore drill). One
    byte at a time for lines, exactly what is asked for otherwise."""
    makefile = channel.makefile

    def makefile_reading_lines_bytewise(*args):
        file = makefile(*args)
        file._bufsize = 1  # paramiko's BufferedFile: readline reads this much per call
        return file

    channel.makefile = makefile_reading_lines_bytewise
    return channel


class _DialPool(SSHConnectionPool):
    def __init__(self, remote: RemoteHost, timeout: int, maxsize: int):
        super().__init__(ssh_client=remote.backend.client, timeout=timeout, maxsize=maxsize)
        self.dial_command = remote.backend.docker_dial_command
        self.sessions = remote.backend.sessions

    def _new_conn(self):
        return _DialConnection(self.ssh_transport, self.timeout, self.dial_command, self.sessions)


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

    def get_connection(self, url, proxies=None):
        with self.pools.lock:
            pool = self.pools.get(url)
            if pool is None:
                pool = self.pools[url] = _DialPool(self.remote, self.timeout, self.max_pool_size)
            return pool

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
