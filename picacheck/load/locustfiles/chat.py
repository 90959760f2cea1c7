"""The team chat under load, through the Matrix client API (the lab's Synapse stands in for
Mattermost): each user gets an account through Synapse's shared-secret admin registration,
logs in with /login, joins the run's room (the first user creates it; set-up, not measured
either), then posts messages and reads the channel back.

    locust -f picacheck/load/locustfiles/chat.py --host https://team.picasoft.test \\
        --ca-file /var/lib/picacheck-lab/services/acme-roots.pem \\
        --node-address 172.30.42.11,172.30.42.12 \\
        --registration-secret-file /var/lib/picacheck-lab/secrets/synapse_registration_secret \\
        --headless -u 4 -r 4 -t 20s

    --registration-secret-file FILE   PICACHECK_CHAT_REGISTRATION_SECRET_FILE
                                      Synapse's registration_shared_secret
    --server-name NAME                PICACHECK_CHAT_SERVER_NAME
                                      the homeserver's name (default: the host's name)

The account is made as set-up (not counted in the statistics, unless it fails): it stands
for an administrator's work, not a user's. Synapse limits logins per client address (rc_login.address: a burst of 5, then one per
~5 minutes by default), and a load generator is one address. A /login answered 429 is
recorded under its own name ("/login [rate-limited per address]", not a failure: real users
come from many addresses) and the user goes on with the session its registration opened.
Posting stays under Synapse's per-user message limit (0.2/s, burst 10) at the rates the
suite uses (one post in five tasks). Every task is one request.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from urllib.parse import quote

import gevent
from locust import events, task

from picacheck.load.locustfiles.common import MissingSecret, PicacheckUser, http_error, option, read_secret

CLIENT = "/_matrix/client/v3"
ADMIN_REGISTER = "/_synapse/admin/v1/register"
ROOM_ALIAS = "picacheck-load"
LOGIN_RATE_LIMITED = "/login [rate-limited per address]"


@events.init_command_line_parser.add_listener
def _options(parser) -> None:
    parser.add_argument("--registration-secret-file", env_var="PICACHECK_CHAT_REGISTRATION_SECRET_FILE", default="",
                        include_in_web_ui=False, help="picacheck chat: file holding Synapse's registration shared secret")
    parser.add_argument("--server-name", env_var="PICACHECK_CHAT_SERVER_NAME", default="", include_in_web_ui=False,
                        help="picacheck chat: the homeserver's server_name (default: the host's name)")


def registration_mac(shared_secret: str, nonce: str, user: str, password: str, admin: bool = False) -> str:
    """Synapse's shared-secret registration MAC (HMAC-SHA1 of nonce, user, password, admin)."""
    mac = hmac.new(shared_secret.encode(), digestmod=hashlib.sha1)
    mac.update(b"\x00".join([nonce.encode(), user.encode(), password.encode(), b"admin" if admin else b"notadmin"]))
    return mac.hexdigest()


class ChatUser(PicacheckUser):
    default_think_time = (1.0, 3.0)

    def on_start(self) -> None:
        try:
            shared_secret = read_secret(option(self.environment, "registration_secret_file"),
                                        "--registration-secret-file")
        except MissingSecret as error:
            self.stop_run(f"chat: {error}")
        self.server_name = option(self.environment, "server_name", self.domain)
        self.username = f"load{self.label}".lower()
        self.password = secrets.token_urlsafe(18)
        self.token = None
        self.room = None
        self.sent = 0
        registered = self.register(shared_secret)
        if registered is None:
            return
        self.token = self.login() or registered
        self.room = self.join_room()

    # --- set-up ----------------------------------------------------------------------------

    def register(self, shared_secret: str) -> str | None:
        """The account, made as an administrator would (set-up: not in the statistics
        unless it fails; Synapse hashes the password, which takes it about a second)."""
        status, answer = self.setup_request("GET", ADMIN_REGISTER)
        nonce = answer.get("nonce")
        if status != 200 or not nonce:
            self.setup_failed("GET", f"{ADMIN_REGISTER} (nonce)", f"no registration nonce (HTTP {status}: "
                                                                  f"{_answer_error(answer)})")
            return None
        body = {"nonce": nonce, "username": self.username, "password": self.password, "admin": False,
                "mac": registration_mac(shared_secret, nonce, self.username, self.password)}
        status, answer = self.setup_request("POST", ADMIN_REGISTER, body)
        token = answer.get("access_token")
        if status != 200 or not token:
            self.setup_failed("POST", ADMIN_REGISTER, f"registration refused (HTTP {status}: {_answer_error(answer)})")
            return None
        return token

    def login(self) -> str | None:
        body = {"type": "m.login.password", "identifier": {"type": "m.id.user", "user": self.username},
                "password": self.password, "initial_device_display_name": "picacheck load"}
        with self.client.post(f"{CLIENT}/login", json=body, name=f"{CLIENT}/login", catch_response=True) as response:
            if response.status_code == 429:
                response.request_meta["name"] = LOGIN_RATE_LIMITED
                response.success()
                return None
            token = _json(response).get("access_token")
            if response.status_code != 200 or not token:
                response.failure(f"login refused (HTTP {response.status_code}: {_error(response)})")
                return None
            return token

    def join_room(self) -> str | None:
        """The run's room (set-up, not measured): join it by its alias, or create it when it
        does not exist yet. Users start together, so another one may be creating it: its
        alias can exist before the room accepts joins (403 for a moment); retry a while."""
        alias = quote(f"#{ROOM_ALIAS}-{self.run_id}:{self.server_name}", safe="")
        answer: dict = {}
        status = 0
        for _attempt in range(30):
            status, answer = self.setup_request("POST", f"{CLIENT}/join/{alias}", {}, self.auth)
            if status == 200 and answer.get("room_id"):
                return answer["room_id"]
            if status == 404:
                body = {"room_alias_name": f"{ROOM_ALIAS}-{self.run_id}", "preset": "public_chat",
                        "name": f"picacheck load {self.run_id}"}
                status, answer = self.setup_request("POST", f"{CLIENT}/createRoom", body, self.auth)
                if status == 200 and answer.get("room_id"):
                    return answer["room_id"]
                if status != 409 and answer.get("errcode") != "M_ROOM_IN_USE":
                    break  # (409 or M_ROOM_IN_USE: another user made it meanwhile; join it)
            elif status not in (403, 429):
                break
            gevent.sleep(0.5)
        self.setup_failed("POST", f"{CLIENT}/join/[room]", f"cannot join the run's room (HTTP {status}: "
                                                             f"{_answer_error(answer)})")
        return None

    @property
    def auth(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}

    # --- tasks -----------------------------------------------------------------------------

    @task(1)
    def post_a_message(self) -> None:
        if not self.room:
            return
        self.sent += 1
        transaction = f"{self.label}-{self.sent}"
        body = {"msgtype": "m.text", "body": f"picacheck load message {self.sent} from {self.username}"}
        with self.client.put(f"{CLIENT}/rooms/{quote(self.room)}/send/m.room.message/{transaction}", json=body,
                             headers=self.auth, name=f"{CLIENT}/rooms/[room]/send", catch_response=True) as response:
            if response.status_code != 200 or not _json(response).get("event_id"):
                response.failure(f"message refused (HTTP {response.status_code}: {_error(response)})")

    @task(4)
    def read_the_channel(self) -> None:
        if not self.room:
            return
        with self.client.get(f"{CLIENT}/rooms/{quote(self.room)}/messages?dir=b&limit=20", headers=self.auth,
                             name=f"{CLIENT}/rooms/[room]/messages", catch_response=True) as response:
            if response.status_code != 200 or not isinstance(_json(response).get("chunk"), list):
                response.failure(f"channel unreadable (HTTP {response.status_code}: {_error(response)})")

    def on_stop(self) -> None:
        if self.token:
            self.client.post(f"{CLIENT}/logout", json={}, headers=self.auth, name=f"{CLIENT}/logout")


def _json(response) -> dict:
    try:
        value = json.loads(response.text or "")
    except (ValueError, TypeError):
        return {}
    return value if isinstance(value, dict) else {}


def _answer_error(answer: dict) -> str:
    return f"{answer.get('errcode', '')} {answer.get('error', '')}".strip()


def _error(response) -> str:
    if not response.status_code:
        return http_error(response)
    answer = _json(response)
    return f"{answer.get('errcode', '')} {answer.get('error', '')}".strip() or (response.text or "")[:80]
