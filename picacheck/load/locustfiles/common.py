"""What every picacheck locustfile shares: its options, and HTTPS to a chosen node with the
service's real name and full certificate verification.

The services' names often resolve only through the environment's own DNS (the lab's bind9),
and each node must be loadable on its own, as DNS round robin would send a user to either.
So each simulated user is pinned to one node address (users are spread over the nodes in
turn), while the URL keeps the service's name: the TLS SNI, the certificate's name check and
the Host header all use that name, and the certificate must chain to `--ca-file`. There is
no way to turn verification off here.

Options (each also from an environment variable, for plain `locust -f`):

    --host https://pad.example.test          locust's own: the service's URL (its real name)
    --ca-file PEM          PICACHECK_CA_FILE          trust anchor (default: the system's)
    --node-address A,B     PICACHECK_NODE_ADDRESSES   connect to these addresses (round robin)
    --dns-server S,T       PICACHECK_DNS_SERVERS      else resolve the name through these servers
    --task-rate R          PICACHECK_TASK_RATE        tasks per second per user (pacing; 0: think time)
    --think-time MIN,MAX   PICACHECK_THINK_TIME       seconds between tasks when --task-rate is 0
    --run-id ID            PICACHECK_RUN_ID           names the pads, accounts, rooms of this run
    --paths P1,P2          PICACHECK_PATHS            the pages the wiki and static scenarios read
    --ready-file FILE      PICACHECK_READY_FILE       noted when every user has set up and run a task

Scenario options (--apikey-file, --registration-secret-file) are documented in
their locustfiles. Secrets are read from files, never passed as values, and never appear in
request names (so not in locust's CSV or HTML either).
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import secrets
import socket
import time
from functools import cache
from urllib.parse import urlsplit

import gevent.ssl
from geventhttpclient.client import HTTPClient, HTTPClientPool
from geventhttpclient.url import URL
from locust import FastHttpUser, events

logger = logging.getLogger("picacheck.load")

# A run id for names (pads, accounts): the master's is forwarded to its workers.
_DEFAULT_RUN_ID = os.environ.get("PICACHECK_RUN_ID") or f"{time.strftime('%H%M%S')}{secrets.token_hex(2)}"


@events.init_command_line_parser.add_listener
def _add_options(parser) -> None:
    add = parser.add_argument
    add("--ca-file", env_var="PICACHECK_CA_FILE", default="", include_in_web_ui=False,
        help="picacheck: PEM file of the CA the service certificates must chain to (default: the system store)")
    add("--node-address", env_var="PICACHECK_NODE_ADDRESSES", default="", include_in_web_ui=False,
        help="picacheck: comma-separated node addresses to connect to (the URL's name stays Host and SNI); "
             "users are spread over them in turn")
    add("--dns-server", env_var="PICACHECK_DNS_SERVERS", default="", include_in_web_ui=False,
        help="picacheck: without --node-address, resolve the host's name through these DNS servers")
    add("--task-rate", env_var="PICACHECK_TASK_RATE", type=float, default=0.0, include_in_web_ui=False,
        help="picacheck: tasks per second per user (constant throughput; each task is one request). "
             "0: random think time instead")
    add("--think-time", env_var="PICACHECK_THINK_TIME", default="", include_in_web_ui=False,
        help="picacheck: MIN,MAX seconds between a user's tasks when --task-rate is 0 (default: per scenario)")
    add("--paths", env_var="PICACHECK_PATHS", default="", include_in_web_ui=False,
        help="picacheck wiki/static: comma-separated paths to request")
    add("--ready-file", env_var="PICACHECK_READY_FILE", default="", include_in_web_ui=False,
        help="picacheck: where to note (JSON) when every user has finished its set-up and run a task")
    add("--run-id", env_var="PICACHECK_RUN_ID", default=_DEFAULT_RUN_ID, include_in_web_ui=False,
        help="picacheck: names this run's pads, accounts and rooms")
    add("--request-log", env_var="PICACHECK_REQUEST_LOG", default="", include_in_web_ui=False,
        help="picacheck: append one JSON line per request (wall time, name, ms, ok, node) to this file "
             "(the users' view during a failure drill)")
    add("--failover", env_var="PICACHECK_FAILOVER", action="store_true", default=False, include_in_web_ui=False,
        help="picacheck: a user whose node does not answer at all moves to the next node, as a browser tries "
             "the next address of a round-robin name")


# --- the users' view: every request, one JSON line (names, times, outcome: no URL, no body) -----------

_request_log: dict = {"file": None, "lines": []}


@events.test_start.add_listener
def _open_request_log(environment, **_kwargs) -> None:
    path = option(environment, "request_log", "")
    if path:
        _request_log["file"] = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed at test_stop
        gevent.spawn(_flush_request_log_every_second)


def _flush_request_log_every_second() -> None:
    while _request_log["file"] is not None:
        _flush_request_log()
        gevent.sleep(1.0)


def _flush_request_log() -> None:
    handle, lines = _request_log["file"], _request_log["lines"]
    if handle is not None and lines:
        handle.write("".join(lines))
        handle.flush()
        lines.clear()


@events.request.add_listener
def _log_request(request_type, name, response_time, response=None, context=None, exception=None, **_kwargs) -> None:
    user = (context or {}).get("picacheck_user")
    if _request_log["file"] is not None:
        status = getattr(response, "status_code", 0) or 0
        _request_log["lines"].append(json.dumps(
            {"t": round(time.time(), 3), "name": name, "ms": round(response_time or 0, 1), "ok": exception is None,
             "status": status, "node": getattr(user, "node", None)}) + "\n")
    if user is not None and exception is not None and not getattr(response, "status_code", 0):
        user.fail_over()  # no HTTP answer at all: a browser would try the next address


@events.test_stop.add_listener
def _close_request_log(environment, **_kwargs) -> None:
    _flush_request_log()
    handle, _request_log["file"] = _request_log["file"], None
    if handle is not None:
        handle.close()


# --- HTTPS to a pinned node, certificate verified against the CA file ---------------------


def verified_context_factory(ca_file: str | None):
    """An SSLContext factory for geventhttpclient: CERT_REQUIRED, hostname checked, trust in
    `ca_file` (or the system store). geventhttpclient offers its own default bundle as
    `cafile`: the CA file named for the environment replaces it."""

    def factory(cafile=None, **_ignored):
        context = gevent.ssl.create_default_context(cafile=ca_file or None)
        context.check_hostname = True
        context.verify_mode = gevent.ssl.CERT_REQUIRED
        return context

    return factory


class PinnedClientPool(HTTPClientPool):
    """geventhttpclient's per-host client pool, but connections for a pinned name go to the
    given address; the request (Host header, SNI, certificate check) keeps the name."""

    def __init__(self, pins: dict[str, str], **client_args) -> None:
        super().__init__(**client_args)
        self.pins = dict(pins)

    def get_client(self, url):
        if not isinstance(url, URL):
            url = URL(url)
        key = (url.host, url.port)
        client = self.clients.get(key)
        if client is None:
            client = HTTPClient.from_url(url, **self.client_args)
            address = self.pins.get(url.host)
            if address:
                pin_connection(client, address)
            self.clients[key] = client
        return client


def pin_connection(client: HTTPClient, address: str) -> None:
    pool = client._connection_pool  # noqa: SLF001 - geventhttpclient has no public knob for this
    if not hasattr(pool, "_connection_host") or not hasattr(pool, "_request_host"):
        raise RuntimeError("this geventhttpclient cannot connect to a chosen address (its connection pool changed)")
    pool._connection_host = address  # noqa: SLF001 - where to connect; _request_host (the name) stays


@cache
def node_addresses(domain: str, node_option: str, dns_option: str) -> tuple[str, ...]:
    """Where users connect for `domain`: the given nodes, else the name's addresses through
    the given DNS servers, else through the system resolver."""
    nodes = tuple(part.strip() for part in node_option.split(",") if part.strip())
    if nodes:
        return nodes
    servers = [part.strip() for part in dns_option.split(",") if part.strip()]
    if servers:
        import dns.resolver

        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = servers
        resolver.lifetime = 5
        addresses = tuple(sorted(record.address for record in resolver.resolve(domain, "A")))
    else:
        addresses = tuple(sorted({info[4][0] for info in socket.getaddrinfo(domain, 443, socket.AF_INET)}))
    if not addresses:
        raise RuntimeError(f"{domain} resolves to no address")
    return addresses


def options_of(environment):
    """The parsed options, or an empty namespace when locust is used as a library."""
    options = environment.parsed_options
    if options is None:
        import argparse

        options = argparse.Namespace()
    return options


def option(environment, name: str, default=None):
    value = getattr(options_of(environment), name, None)
    return default if value in (None, "") else value


def read_secret(path: str | None, what: str) -> str:
    if not path:
        raise MissingSecret(f"{what} is not set")
    try:
        with open(path, encoding="utf-8") as handle:
            value = handle.read().strip()
    except OSError as error:
        raise MissingSecret(f"{what} {path}: {error.strerror}") from None
    if not value:
        raise MissingSecret(f"{what} {path} is empty")
    return value


class MissingSecret(Exception):
    pass


def http_error(response) -> str:
    """Why a request failed: the connection or TLS error when there was no HTTP answer."""
    error = getattr(response, "error", None)
    if not response.status_code and error is not None:
        return f"{type(error).__name__}: {error}"
    return f"HTTP {response.status_code}"


def worker_index(environment) -> int:
    return int(getattr(environment.runner, "worker_index", 0) or 0) if environment.runner else 0


class PicacheckUser(FastHttpUser):
    """A FastHttpUser pinned to one node, verifying the service's certificate.

    Subclasses set `default_think_time` and define tasks; `self.node` is the address this
    user talks to, `self.label` a name unique in the run (worker and user number)."""

    abstract = True
    insecure = False  # certificate and host name verified: never changed by any option
    network_timeout = 30.0
    connection_timeout = 10.0
    max_retries = 0
    default_think_time: tuple[float, float] = (0.5, 2.0)
    _numbers = itertools.count()
    _ready_users = 0  # users of this process that have run their first task
    _ready_noted = False

    def __init__(self, environment) -> None:
        self.number = next(PicacheckUser._numbers)
        self.ssl_context_factory = verified_context_factory(option(environment, "ca_file"))
        super().__init__(environment)
        self.domain = urlsplit(self.host).hostname or ""
        addresses = node_addresses(self.domain, option(environment, "node_address", ""),
                                   option(environment, "dns_server", ""))
        self.worker = worker_index(environment)
        self.addresses = addresses
        self.node = addresses[(self.number + self.worker) % len(addresses)]
        self._pin(self.node)
        self._failover = bool(option(environment, "failover", False))
        self.run_id = str(option(environment, "run_id", _DEFAULT_RUN_ID))
        self.label = f"{self.run_id}w{self.worker}u{self.number}"
        self._task_rate = float(option(environment, "task_rate", 0.0) or 0.0)
        self._think = _think_time(option(environment, "think_time", ""), self.default_think_time)
        self._last_start: float | None = None
        self._ready = False

    def _pin(self, node: str) -> None:
        agent = self.client.client
        agent.clientpool = PinnedClientPool({self.domain: node}, **agent.clientpool.client_args)

    def context(self) -> dict:
        return {"picacheck_user": self}  # the request listener finds the user through it

    def fail_over(self) -> None:
        """With --failover: move to the next node (the user keeps it, as a browser would)."""
        if self._failover and len(self.addresses) > 1:
            self.node = self.addresses[(self.addresses.index(self.node) + 1) % len(self.addresses)]
            self._pin(self.node)

    def wait_time(self) -> float:
        """Constant throughput (--task-rate) or a random think time."""
        if not self._ready:
            self._note_ready()
        if self._task_rate > 0:
            interval = 1.0 / self._task_rate
            now = time.monotonic()
            if self._last_start is None:
                # Spread the first tasks of a batch of users over one interval.
                self._last_start = now - interval * ((self.number % 10) / 10)
            self._last_start = max(self._last_start + interval, now)
            return max(0.0, self._last_start - now)
        low, high = self._think
        return low + secrets.SystemRandom().random() * (high - low)

    def _note_ready(self) -> None:
        """This user has set itself up and run a task; when all have, say so in --ready-file
        (an SLO run measures its throughput from then on)."""
        self._ready = True
        PicacheckUser._ready_users += 1
        path = option(self.environment, "ready_file", "")
        target = getattr(self.environment.runner, "target_user_count", 0) if self.environment.runner else 0
        if path and target and PicacheckUser._ready_users >= target and not PicacheckUser._ready_noted:
            PicacheckUser._ready_noted = True
            with open(path, "w", encoding="utf-8") as handle:
                json.dump({"all_ready_at": time.time(), "users": PicacheckUser._ready_users}, handle)

    def setup_request(self, method: str, path: str, body: dict | None = None,
                      headers: dict | None = None) -> tuple[int, dict]:
        """A request that prepares the run rather than acting as a user (an account made
        through an admin API): same pinned, verified connection, but left out of locust's
        statistics, so the SLO figures are those of the users' own actions. Use
        `setup_failed` to record it when it fails (failures do count)."""
        headers = {**({"Content-Type": "application/json", "Accept": "application/json"} if body is not None else {}),
                   **(headers or {})}
        payload = json.dumps(body) if body is not None else None
        self._setup_started = time.perf_counter()
        try:
            response = self.client.client.urlopen(self.host + path, method=method, headers=headers, payload=payload)
        except Exception as error:  # noqa: BLE001 - a bad status carries its response; anything else is status 0
            response = getattr(error, "response", None)
            if response is None:
                return 0, {"error": f"{type(error).__name__}: {error}"}
        try:
            answer = json.loads(response.content or b"{}")
        except ValueError:
            answer = {}
        return response.status_code, answer if isinstance(answer, dict) else {}

    def setup_failed(self, method: str, name: str, message: str) -> None:
        elapsed = (time.perf_counter() - getattr(self, "_setup_started", time.perf_counter())) * 1000
        self.environment.events.request.fire(request_type=method, name=f"[setup] {name}", response_time=elapsed,
                                             response_length=0, response=None, context={},
                                             exception=RuntimeError(message))

    def stop_run(self, message: str) -> None:
        """A problem of the run's set-up (a missing secret): say it once and stop the run."""
        logger.error("picacheck: %s", message)
        from locust.exception import StopUser

        if self.environment.runner is not None:
            self.environment.runner.quit()
        raise StopUser()


def _think_time(value: str, default: tuple[float, float]) -> tuple[float, float]:
    if not value:
        return default
    low, _, high = str(value).partition(",")
    low_f = float(low)
    return (low_f, float(high or low_f))
