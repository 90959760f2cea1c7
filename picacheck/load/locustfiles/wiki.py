"""The wiki under load: users read pages (the start page most, then the page index and the
syntax page, which DokuWiki renders from its data directory on /DATA).

    locust -f picacheck/load/locustfiles/wiki.py --host https://wiki.picasoft.test \\
        --ca-file /var/lib/picacheck-lab/services/acme-roots.pem \\
        --node-address 172.30.42.11,172.30.42.12 --headless -u 4 -r 4 -t 20s

    --paths P1,P2,…   PICACHECK_PATHS   the pages to read (default: the three below); the
                                        first is read three times as often as each other

Every task is one request; a page must answer 200 with HTML. Plus the common options
(see common.py).
"""

from __future__ import annotations

from locust import task

from picacheck.load.locustfiles.common import PicacheckUser, http_error, option

PAGES = ("/doku.php?id=start", "/doku.php?do=index", "/doku.php?id=wiki:syntax")


class WikiReader(PicacheckUser):
    default_think_time = (0.5, 2.0)

    def on_start(self) -> None:
        given = [part.strip() for part in str(option(self.environment, "paths", "")).split(",") if part.strip()]
        pages = given or list(PAGES)
        self.pages = [pages[0]] * 3 + pages[1:]
        self.turn = self.number

    @task
    def read_a_page(self) -> None:
        self.turn += 1
        page = self.pages[self.turn % len(self.pages)]
        with self.client.get(page, name=page, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(http_error(response))
            elif "<html" not in (response.text or "")[:2000].lower():
                response.failure("not an HTML page")
