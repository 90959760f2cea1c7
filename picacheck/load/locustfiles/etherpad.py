"""Etherpad under load: each user creates its own pad through the HTTP API, then appends
lines and reads the pad back (checking that its last line is there), and deletes the pad
when it stops.

    locust -f picacheck/load/locustfiles/etherpad.py --host https://pad.picasoft.test \\
        --ca-file /var/lib/picacheck-lab/services/acme-roots.pem \\
        --node-address 172.30.42.11,172.30.42.12 \\
        --apikey-file /var/lib/picacheck-lab/secrets/etherpad_apikey \\
        --headless -u 4 -r 4 -t 20s

    --apikey-file FILE   PICACHECK_ETHERPAD_APIKEY_FILE   Etherpad's APIKEY.txt (sent in POST
                                                          bodies, never in a URL or a name)

Every task is one request (a user whose pad could not be made tries to make it at its next
task instead). Plus the common options (see common.py).
"""

from __future__ import annotations

import json
import secrets
from urllib.parse import urlencode

from locust import events, task

from picacheck.load.locustfiles.common import MissingSecret, PicacheckUser, http_error, option, read_secret

API = "/api/1.2.13"  # appendText came with API 1.2.13 (Etherpad 1.6)
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@events.init_command_line_parser.add_listener
def _options(parser) -> None:
    parser.add_argument("--apikey-file", env_var="PICACHECK_ETHERPAD_APIKEY_FILE", default="", include_in_web_ui=False,
                        help="picacheck etherpad: file holding Etherpad's HTTP API key")


class EtherpadUser(PicacheckUser):
    default_think_time = (0.5, 2.0)

    def on_start(self) -> None:
        try:
            self.apikey = read_secret(option(self.environment, "apikey_file"), "--apikey-file")
        except MissingSecret as error:
            self.stop_run(f"etherpad: {error}")
        self.pad = f"picacheck-load-{self.label}"
        self.last_line = f"picacheck load pad {self.pad}"
        self.appended = 0
        self.created = False
        self.create_the_pad()

    def create_the_pad(self) -> bool:
        """A user whose pad could not be made tries again at its next task (one failure per
        try, rather than a failure of every later task on a pad that does not exist)."""
        # "already exists": an earlier try was applied although its answer was lost.
        self.created = self.api("createPad", padID=self.pad, text=self.last_line + "\n",
                                tolerate="already exist") is not None
        return self.created

    @task(2)
    def append_a_line(self) -> None:
        if not self.created and not self.create_the_pad():
            return
        self.appended += 1
        line = f"line {self.appended} {secrets.token_hex(4)}"
        if self.api("appendText", padID=self.pad, text=line + "\n") is not None:
            self.last_line = line

    @task(3)
    def read_the_pad_back(self) -> None:
        if not self.created and not self.create_the_pad():
            return
        self.api("getText", padID=self.pad, expect=self.last_line)

    def on_stop(self) -> None:
        if getattr(self, "created", False):
            self.api("deletePad", padID=self.pad)

    def api(self, method: str, expect: str | None = None, tolerate: str | None = None, **params: str) -> dict | None:
        """One API call (POST, key in the body); a non-zero `code` or a missing expected
        text is a failure. Returns `data` on success."""
        body = urlencode({"apikey": self.apikey, **params})
        with self.client.post(f"{API}/{method}", data=body, headers=FORM, name=f"{API}/{method}",
                              catch_response=True) as response:
            if response.status_code != 200:
                response.failure(http_error(response))
                return None
            try:
                answer = json.loads(response.text or "")
            except ValueError:
                response.failure("answer is not JSON")
                return None
            if answer.get("code") != 0 and not (tolerate and tolerate in str(answer.get("message"))):
                response.failure(f"Etherpad API code {answer.get('code')}: {answer.get('message')}")
                return None
            data = answer.get("data") or {}
            if expect is not None and expect not in str(data.get("text", "")):
                response.failure("the pad does not hold the line appended last")
                return None
            response.success()
            return data
