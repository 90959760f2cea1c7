"""The locustfiles against small fake services on 127.0.0.1 (no lab, no other address).

Each fake speaks just enough of its service's API (Etherpad's HTTP API, Synapse's admin
registration and Matrix client API, a wiki's pages) over HTTPS with a certificate for the
service's real name from a CA made here. Locust runs as a child process, as the suite runs
it, pinned to 127.0.0.1 with the name as Host and SNI: the runs prove that the scenarios
work, that certificates are verified against the given CA (another CA fails every
request), and that no secret reaches locust's reports.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import secrets
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from picacheck.inventory.model import Slo
from picacheck.load import runner
from picacheck.load.capacity import StepPlan
from picacheck.load.results import RunFiles
from picacheck.load.slo import task_rate
from picacheck.load.target import Target

APIKEY = "fake-etherpad-key-" + secrets.token_hex(8)
SHARED_SECRET = "fake-shared-secret-" + secrets.token_hex(8)


# --- a CA and certificates -------------------------------------------------------------------


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_ca(directory: Path, label: str):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder().subject_name(_name(f"{label} test CA")).issuer_name(_name(f"{label} test CA"))
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False, key_agreement=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    path = directory / f"{label}-ca.pem"
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return key, certificate, path


def issue(directory: Path, ca, names: list[str]) -> tuple[Path, Path]:
    ca_key, ca_certificate, _ = ca
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder().subject_name(_name(names[0])).issuer_name(ca_certificate.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    cert_path, key_path = directory / "leaf.pem", directory / "leaf.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


# --- the fake services -------------------------------------------------------------------------


class FakeState:
    def __init__(self, login_limit: int = 1000):
        self.lock = threading.Lock()
        self.pads: dict[str, str] = {}
        self.nonces: set[str] = set()
        self.accounts: dict[str, str] = {}
        self.tokens: set[str] = set()
        self.rooms: dict[str, list[dict]] = {}
        self.aliases: dict[str, str] = {}
        self.logins_left = login_limit
        self.hosts: set[str] = set()
        self.snis: set[str] = set()
        self.seen_apikey_in_url = False
        self.failing_creates = 0  # createPad answers 500 this many times


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state: FakeState

    def log_message(self, *args):  # quiet
        pass

    def _send(self, status: int, body: dict | str, content_type: str = "application/json") -> None:
        data = (json.dumps(body) if isinstance(body, dict) else body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _authorised(self) -> bool:
        token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
        return token in self.state.tokens

    def do_GET(self):
        self._route("GET")

    def do_POST(self):
        self._route("POST")

    def do_PUT(self):
        self._route("PUT")

    def _route(self, method: str) -> None:
        state = self.state
        state.hosts.add((self.headers.get("Host") or "").split(":")[0])
        url = urlsplit(self.path)
        if "apikey" in url.query:
            state.seen_apikey_in_url = True
        body = self._body() if method in ("POST", "PUT") else b""
        if url.path.startswith("/api/"):
            return self._etherpad(url.path.rsplit("/", 1)[-1], {k: v[0] for k, v in parse_qs(body.decode()).items()})
        if url.path.startswith("/_synapse/") or url.path.startswith("/_matrix/"):
            return self._matrix(method, url, json.loads(body or b"{}"))
        if url.path == "/doku.php" or url.path == "/":
            return self._send(200, "<!DOCTYPE html><html><body>page</body></html>", "text/html")
        return self._send(404, {"error": "not found"})

    def _etherpad(self, method: str, form: dict) -> None:
        state = self.state
        if form.get("apikey") != APIKEY:
            return self._send(200, {"code": 4, "message": "no or wrong API Key", "data": None})
        pad = form.get("padID", "")
        with state.lock:
            if method == "createPad" and state.failing_creates > 0:
                state.failing_creates -= 1
                return self._send(500, "Internal Server Error", "text/plain")
            if method == "createPad":
                state.pads[pad] = form.get("text", "")
            elif method == "appendText":
                state.pads[pad] = state.pads.get(pad, "") + form.get("text", "")
            elif method == "getText":
                return self._send(200, {"code": 0, "message": "ok", "data": {"text": state.pads.get(pad, "")}})
            elif method == "deletePad":
                state.pads.pop(pad, None)
        return self._send(200, {"code": 0, "message": "ok", "data": None})

    def _matrix(self, method: str, url, body: dict) -> None:
        state = self.state
        path = unquote(url.path)
        with state.lock:
            if path == "/_synapse/admin/v1/register" and method == "GET":
                nonce = secrets.token_hex(8)
                state.nonces.add(nonce)
                return self._send(200, {"nonce": nonce})
            if path == "/_synapse/admin/v1/register":
                mac = hmac.new(SHARED_SECRET.encode(), digestmod=hashlib.sha1)
                mac.update(b"\x00".join([body["nonce"].encode(), body["username"].encode(), body["password"].encode(),
                                         b"admin" if body.get("admin") else b"notadmin"]))
                if body["nonce"] not in state.nonces or mac.hexdigest() != body.get("mac"):
                    return self._send(403, {"errcode": "M_FORBIDDEN", "error": "HMAC incorrect"})
                state.nonces.discard(body["nonce"])
                state.accounts[body["username"]] = body["password"]
                token = secrets.token_hex(8)
                state.tokens.add(token)
                return self._send(200, {"access_token": token, "user_id": f"@{body['username']}:x"})
            if path == "/_matrix/client/v3/login":
                if state.logins_left <= 0:
                    return self._send(429, {"errcode": "M_LIMIT_EXCEEDED", "retry_after_ms": 300000})
                state.logins_left -= 1
                user = body["identifier"]["user"]
                if state.accounts.get(user) != body.get("password"):
                    return self._send(403, {"errcode": "M_FORBIDDEN"})
                token = secrets.token_hex(8)
                state.tokens.add(token)
                return self._send(200, {"access_token": token})
            if not self._authorised():
                return self._send(401, {"errcode": "M_UNKNOWN_TOKEN"})
            if path.startswith("/_matrix/client/v3/join/"):
                alias = path.removeprefix("/_matrix/client/v3/join/")
                if alias not in state.aliases:
                    return self._send(404, {"errcode": "M_NOT_FOUND"})
                return self._send(200, {"room_id": state.aliases[alias]})
            if path == "/_matrix/client/v3/createRoom":
                alias = f"#{body['room_alias_name']}:{(self.headers.get('Host') or '').split(':')[0]}"
                if alias in state.aliases:
                    return self._send(400, {"errcode": "M_ROOM_IN_USE"})
                room = f"!{secrets.token_hex(6)}:x"
                state.aliases[alias] = room
                state.rooms[room] = []
                return self._send(200, {"room_id": room})
            if "/send/" in path:
                room = path.split("/rooms/")[1].split("/")[0]
                state.rooms[room].append(body)
                return self._send(200, {"event_id": f"${secrets.token_hex(6)}"})
            if path.endswith("/messages"):
                room = path.split("/rooms/")[1].split("/")[0]
                return self._send(200, {"chunk": state.rooms.get(room, [])[-20:]})
            if path == "/_matrix/client/v3/logout":
                return self._send(200, {})
        return self._send(404, {"errcode": "M_UNRECOGNIZED"})


@pytest.fixture
def fake(tmp_path):
    """An HTTPS fake on 127.0.0.1 for *.picasoft.test, its CA, and its state."""
    ca = make_ca(tmp_path, "fake")
    cert, key = issue(tmp_path, ca, ["pad.picasoft.test", "team.picasoft.test", "wiki.picasoft.test"])
    state = FakeState()
    handler = type("BoundHandler", (Handler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    def remember_sni(sock, server_name, _context):
        state.snis.add(server_name)

    context.sni_callback = remember_sni
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    (tmp_path / "apikey").write_text(APIKEY + "\n")
    (tmp_path / "shared").write_text(SHARED_SECRET + "\n")
    yield {"port": server.server_address[1], "ca": str(ca[2]), "state": state, "dir": tmp_path}
    server.shutdown()
    server.server_close()


def target(fake, kind: str, domain: str, ca_file: str | None = None, secrets_: dict | None = None) -> Target:
    return Target(service=kind, kind=kind, domain=f"{domain}:{fake['port']}", scenario=kind,
                  addresses=("127.0.0.1",), ca_file=ca_file or fake["ca"], secret_files=secrets_ or {})


# The scenario runs check what a scenario does, not how fast this machine is: no throughput
# objective (a 5 s run on a busy CI machine measures 2.3 req/s as easily as 3), but users
# paced as they would be for 2.5 req/s (about one task per second each).
SLO = Slo(p95_ms=2000, max_failure_ratio=0.0, min_rps=0, users=3, duration_s=5)
PACE = task_rate(SLO.model_copy(update={"min_rps": 2.5}))


def run_slo(target_: Target, slo: Slo, out_dir: Path):
    return runner.run_slo(target_, slo, out_dir, rate=PACE)


def _all_output(directory: Path) -> str:
    return "\n".join(path.read_text(errors="replace") for path in directory.iterdir()
                     if path.is_file() and path.suffix in (".csv", ".html", ".log", ".out", ".json"))


def test_etherpad_scenario_creates_appends_and_reads_back_without_leaking_the_key(fake, tmp_path):
    run = run_slo(target(fake, "etherpad", "pad.picasoft.test", secrets_={"--apikey-file": str(fake["dir"] / "apikey")}),
                  SLO, tmp_path / "etherpad")
    assert run.verdict.ok, run.evidence()
    names = {row.name for row in run.files.read_stats()}
    assert {"/api/1.2.13/createPad", "/api/1.2.13/appendText", "/api/1.2.13/getText"} <= names
    assert fake["state"].hosts == {"pad.picasoft.test"} and fake["state"].snis == {"pad.picasoft.test"}
    assert not fake["state"].seen_apikey_in_url
    assert APIKEY not in _all_output(tmp_path / "etherpad")
    assert fake["state"].pads == {}, "every user deletes its pad when it stops"
    assert run.chart and run.chart.stat().st_size > 10_000
    assert (tmp_path / "etherpad" / "locust.html").stat().st_size > 10_000


def test_an_etherpad_user_whose_pad_failed_tries_again_instead_of_failing_every_task(fake, tmp_path):
    fake["state"].failing_creates = 1
    run = run_slo(target(fake, "etherpad", "pad.picasoft.test", secrets_={"--apikey-file": str(fake["dir"] / "apikey")}),
                  SLO.model_copy(update={"max_failure_ratio": 0.1}), tmp_path / "etherpad")
    assert run.measured.failures == 1 and run.verdict.ok, run.evidence()
    assert fake["state"].pads == {}


def test_chat_scenario_registers_logs_in_posts_and_reads(fake, tmp_path):
    fake["state"].logins_left = 2  # the third login is refused as Synapse's per-address limit would
    # One task in five posts, drawn at random: 10 s make a run without a post unlikely on a busy machine.
    run = run_slo(target(fake, "chat", "team.picasoft.test",
                         secrets_={"--registration-secret-file": str(fake["dir"] / "shared")}),
                  SLO.model_copy(update={"duration_s": 10}), tmp_path / "chat")
    assert run.verdict.ok, run.evidence()
    rows = {row.name: row for row in run.files.read_stats()}
    assert rows["/_matrix/client/v3/rooms/[room]/send"].requests > 0
    assert rows["/_matrix/client/v3/rooms/[room]/messages"].requests > 0
    assert rows["/login [rate-limited per address]"].requests == 1 and rows["/_matrix/client/v3/login"].requests == 2
    assert len(fake["state"].rooms) == 1, "all users share the run's room"
    assert len(fake["state"].accounts) == 3 and not any("register" in name for name in rows), \
        "accounts are made as set-up, outside the measured load"
    assert SHARED_SECRET not in _all_output(tmp_path / "chat")
    ready = json.loads((tmp_path / "chat" / "locust_ready.json").read_text())
    assert ready["users"] == 3, "the throughput is measured from when every user is set up"


def test_wiki_scenario_reads_pages(fake, tmp_path):
    run = run_slo(target(fake, "wiki", "wiki.picasoft.test"), SLO, tmp_path / "wiki")
    assert run.verdict.ok, run.evidence()
    assert {"/doku.php?id=start", "/doku.php?do=index"} <= {row.name for row in run.files.read_stats()}


def test_paced_users_never_offer_more_than_their_pace_and_a_throughput_objective_is_checked(fake, tmp_path):
    # 3 users paced for 2.5 req/s with headroom offer ~3.1 req/s: a busy machine can only
    # slow them (so no lower bound here, the lab's L1 measures that), never speed them up,
    # and 50 req/s is out of their reach: the objective breaks with the measured figure.
    greedy = SLO.model_copy(update={"min_rps": 50, "duration_s": 10})
    run = run_slo(target(fake, "wiki", "wiki.picasoft.test"), greedy, tmp_path / "wiki")
    offered = PACE * greedy.users
    assert 0 < run.measured.rps <= offered * 1.5, run.evidence()
    assert run.verdict.checked_rps and not run.verdict.ok
    assert run.verdict.breaches == (f"throughput {run.measured.rps:.2f} req/s < 50 req/s",), run.verdict.breaches


def test_another_ca_fails_every_request(fake, tmp_path):
    other = make_ca(tmp_path, "other")
    run = run_slo(target(fake, "wiki", "wiki.picasoft.test", ca_file=str(other[2])), SLO, tmp_path / "wiki")
    assert run.measured.requests > 0 and run.measured.failures == run.measured.requests
    assert any("CERTIFICATE_VERIFY_FAILED" in f.error for f in run.failures), run.failures
    assert not run.verdict.ok and "failure ratio 100.00%" in run.verdict.message()


def test_a_name_the_certificate_does_not_carry_fails_every_request(fake, tmp_path):
    run = run_slo(target(fake, "wiki", "kanban.picasoft.test"), SLO, tmp_path / "wiki")
    assert run.measured.requests > 0 and run.measured.failures == run.measured.requests
    assert any("Hostname mismatch" in f.error or "doesn't match" in f.error for f in run.failures), run.failures
    assert fake["state"].hosts == set(), "no request got through"


def test_a_refused_registration_is_a_counted_failure(fake, tmp_path):
    (fake["dir"] / "wrong").write_text("not the shared secret")
    run = run_slo(target(fake, "chat", "team.picasoft.test",
                         secrets_={"--registration-secret-file": str(fake["dir"] / "wrong")}),
                  SLO, tmp_path / "chat")
    assert not run.verdict.ok and run.measured.failures == 3
    assert any(f.name == "[setup] /_synapse/admin/v1/register" and "HTTP 403" in f.error for f in run.failures)


def test_a_missing_secret_stops_the_run_with_a_clear_message(fake, tmp_path):
    run = run_slo(target(fake, "etherpad", "pad.picasoft.test",
                         secrets_={"--apikey-file": str(tmp_path / "nowhere")}), SLO, tmp_path / "etherpad")
    assert not run.verdict.ok
    assert any("--apikey-file" in warning for warning in run.warnings), run.warnings


def test_step_load_finds_the_capacity_and_writes_its_report(fake, tmp_path):
    plan = StepPlan(max_users=4, step_users=2, step_seconds=4)
    capacity, run = runner.run_capacity(target(fake, "wiki", "wiki.picasoft.test"), SLO, plan, tmp_path / "cap", rate=PACE)
    assert [step.users for step in capacity.steps] == [2, 4]
    assert capacity.users == 4 and capacity.reached_max and capacity.rps > 0, capacity.summary()
    saved = json.loads((tmp_path / "cap" / "capacity.json").read_text())
    assert saved["capacity"]["users"] == 4 and len(saved["steps"]) == 2
    assert (tmp_path / "cap" / "capacity.png").exists() and (tmp_path / "cap" / "chart.png").exists()


def test_step_load_stops_at_the_first_breach(fake, tmp_path):
    impossible = SLO.model_copy(update={"p95_ms": 0.001})
    plan = StepPlan(max_users=6, step_users=2, step_seconds=4)
    capacity, _ = runner.run_capacity(target(fake, "wiki", "wiki.picasoft.test"), impossible, plan, tmp_path / "cap",
                                      rate=PACE)
    assert capacity.stopped_early and capacity.capacity is None
    assert capacity.first_breach is not None and capacity.first_breach.users == 2
    assert len(capacity.steps) == 1, "the run ended after the first step"
    assert "no capacity within SLO" in capacity.summary()


def test_distributed_step_load_with_two_local_workers(fake, tmp_path):
    plan = StepPlan(max_users=4, step_users=2, step_seconds=6)
    capacity, run = runner.run_capacity(target(fake, "wiki", "wiki.picasoft.test"), SLO, plan, tmp_path / "dist",
                                        workers=2, rate=PACE)
    assert capacity.users == 4 and capacity.rps > 0, capacity.summary()
    assert RunFiles(tmp_path / "dist", "worker0").log.exists() and RunFiles(tmp_path / "dist", "worker1").log.exists()
    assert "Worker" in (tmp_path / "dist" / "locust.log").read_text() or run.measured.requests > 0
