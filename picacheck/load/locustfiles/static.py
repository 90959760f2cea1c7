"""A static page (or any page that needs no login) under load: users GET the given paths
in turn and expect 200.

    locust -f picacheck/load/locustfiles/static.py --host https://traefik.picasoft.test \\
        --ca-file /var/lib/picacheck-lab/services/acme-roots.pem \\
        --node-address 172.30.42.11,172.30.42.12 --paths /dashboard/ --headless -u 4 -r 4 -t 15s

    --paths P1,P2,…   PICACHECK_PATHS   the paths to request (default: /)

Every task is one request. Plus the common options (see common.py).
"""

from __future__ import annotations

from locust import task

from picacheck.load.locustfiles.common import PicacheckUser, http_error, option


class StaticPageReader(PicacheckUser):
    default_think_time = (0.5, 2.0)

    def on_start(self) -> None:
        given = [part.strip() for part in str(option(self.environment, "paths", "")).split(",") if part.strip()]
        self.paths = given or ["/"]
        self.turn = self.number

    @task
    def get_a_page(self) -> None:
        self.turn += 1
        path = self.paths[self.turn % len(self.paths)]
        with self.client.get(path, name=path, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(http_error(response))
