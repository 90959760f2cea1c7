"""The report room from synthetic run folders: report.html (findings first, never a finding
in green, evidence that says what it means, escaped host output, one file), the history
strip and the changes since the previous run, summary.md, and `picacheck report`."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

from picacheck.report import record_run, write_report, write_summary_md
from picacheck.report.history import read_history
from selftests.unit.report_runs import DAY, FIRST_NIGHT, HOSTILE, make_run, make_two_nights

FIRST = FIRST_NIGHT



class Elements(HTMLParser):
    """Every element's tag, attributes and own text, and the page's text per section id."""

    def __init__(self):
        super().__init__()
        self.elements: list[dict] = []
        self._open: list[dict] = []

    def handle_starttag(self, tag, attrs):
        element = {"tag": tag, "attrs": dict(attrs), "text": ""}
        self.elements.append(element)
        if tag not in ("img", "meta", "br", "input", "link"):
            self._open.append(element)

    def handle_endtag(self, tag):
        while self._open:
            if self._open.pop()["tag"] == tag:
                break

    def handle_data(self, data):
        for element in self._open:
            element["text"] += data

    def find(self, tag=None, **attrs) -> list[dict]:
        return [e for e in self.elements if (tag is None or e["tag"] == tag)
                and all(e["attrs"].get(k) == v for k, v in attrs.items())]

    def with_class(self, css_class: str) -> list[dict]:
        return [e for e in self.elements if css_class in (e["attrs"].get("class") or "").split()]


def parse(path) -> Elements:
    elements = Elements()
    elements.feed(path.read_text(encoding="utf-8"))
    return elements


@pytest.fixture
def one_run(tmp_path):
    return make_run(tmp_path, "20261130-030000", FIRST)


@pytest.fixture
def two_runs(tmp_path):
    return make_two_nights(tmp_path)


# --- report.html -------------------------------------------------------------------------


def test_title_names_the_environment_and_its_kind(one_run):
    page = parse(write_report(one_run))
    assert page.find("title")[0]["text"] == "picacheck: picalab (lab)"
    assert page.find("h1")[0]["text"] == "picacheck: picalab (lab)"


def test_every_broken_claim_is_in_the_findings_section_with_its_truth_and_evidence(one_run):
    page = parse(write_report(one_run))
    wrong = page.find("section", id="wrong")[0]["text"]
    for claim in ("B9", "X1", "C13"):
        assert claim in wrong
    b9 = page.find("article", id="wrong-B9")[0]["text"]
    assert "The report's restore scripts" in b9  # the claim's text
    assert "Measured: postgresql: the report's restore.sh does not restore 2026.12.01.075501.sql" in b9
    assert "AssertionError" not in b9.split("Evidence")[0]  # the sentence, not pytest's wording
    assert "Evidence (3)" in b9  # behind a click
    html = (one_run / "report.html").read_text()
    article = html[html.index('id="wrong-B9"'):]
    assert article.index("<details>") < article.index("input file appears to be a text format dump. Please use psql.")


def test_every_finding_is_in_the_findings_section(one_run):
    page = parse(write_report(one_run))
    wrong = page.find("section", id="wrong")[0]["text"]
    assert "HIGH security" in wrong and "the Traefik dashboard answers from outside the cluster" in wrong
    assert "MEDIUM documented procedure fails" in wrong


def test_a_claim_that_holds_with_a_finding_is_never_green(one_run):
    page = parse(write_report(one_run))
    rows = [row for row in page.find("tr") if row["text"].startswith("S4")]
    assert len(rows) == 1 and rows[0]["attrs"]["class"] == "finding"
    green = page.with_class("holds")
    assert not [e for e in green if "finding" in e["text"] or "HIGH" in e["text"]]
    assert not [e for e in green if "Traefik dashboard answers" in e["text"]]
    for badge in page.with_class("badge"):
        if "with a finding" in badge["text"]:
            assert badge["attrs"]["class"] == "badge finding"
    css = (one_run / "report.html").read_text()
    colour = dict(re.findall(r"--(holds|finding): (#[0-9a-f]{6})", css))
    assert colour["finding"] != colour["holds"]


def test_counts_exit_status_and_unreachable_hosts_are_on_the_cover(tmp_path):
    run = make_run(tmp_path, "r", FIRST, unreachable={"bob": "SSH port closed"}, extras=False)
    page = parse(write_report(run))
    cover = page.find("header", id="run")[0]["text"]
    counts = {e["attrs"]["class"]: e["text"] for e in page.with_class("count")}
    assert counts["count broken"].startswith("3") and counts["count finding"].startswith("2")
    assert "Unreachable: bob: SSH port closed" in cover
    assert "Exit status" in cover and "2026-11-" in cover and "12 min 34 s" in cover


def test_evidence_says_what_it_means(one_run):
    page = parse(write_report(one_run))
    row = next(r for r in page.find("tr") if r["text"].startswith("H12"))
    measured = row["text"]
    assert "Every check of it passed (2 checks); not applicable to the rest: bob documents no port forward" in measured
    assert "not applicable here: bob" not in measured
    na = next(r for r in page.find("tr") if r["text"].startswith("H7"))
    assert "there is no GRUB" in na["text"] and "not applicable here: H7" not in na["text"]
    unchecked = next(r for r in page.find("tr") if r["text"].startswith("X6"))
    assert "picacheck verify --chaos" in unchecked["text"]


def test_host_output_is_escaped(one_run):
    html = write_report(one_run).read_text()
    assert "<script" not in html and "<b>bold</b>" not in html
    assert "&lt;script&gt;alert(&#x27;from a host&#x27;)&lt;/script&gt;" in html


def test_the_report_is_one_file_with_no_fetch_and_prints_per_section(one_run):
    html = write_report(one_run).read_text()
    page = parse(one_run / "report.html")
    assert not page.find("link") and not page.find("script")
    sources = [img["attrs"]["src"] for img in page.find("img")]
    assert len(sources) == 4  # 2 timelines (one drawn from its journal), 1 load chart drawn from the CSV, 1 capacity
    assert all(src.startswith("data:image/png;base64,") for src in sources)
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert "@media print" in html and "section { break-before: page; }" in html  # the sections
    assert "#wrong, #changes { break-before: auto; }" in html  # the first page: the run and what is wrong
    for href in ("tests.html", "junit.xml", "summary.json"):
        assert f'href="{href}"' in html


def test_sections_in_reading_order(one_run):
    page = parse(write_report(one_run))
    order = [e["attrs"].get("id") for e in page.elements if e["tag"] in ("header", "section")]
    assert order == ["run", "wrong", "changes", "matrix", "drills", "load", "backups"]


def test_matrix_by_section(one_run):
    page = parse(write_report(one_run))
    matrix = page.find("section", id="matrix")[0]
    headings = [h["text"] for h in page.find("h3") if h["text"] in matrix["text"]]
    for section in ("Hosts", "Cluster", "Services", "Backups", "Failures", "Load"):
        assert section in headings


def test_failure_drills_show_their_figures_and_pictures(one_run):
    page = parse(write_report(one_run))
    drills = page.find("section", id="drills")[0]["text"]
    assert "kill-service-node · pica02" in drills and "lose-database · mysql" in drills
    lose = page.find("article", id="drill-lose-database-mysql")[0]["text"]
    assert "Recovery (RTO)8.5 s" in lose and "Recovery point (RPO)42.0 s" in lose
    assert "3 of 120 acknowledged writes" in lose and "Data loss bound (B8)" in lose
    kill = page.find("article", id="drill-kill-service-node-pica02")[0]["text"]
    assert "pad.picasoft.test via pica01" in kill and "40%" in kill  # available 8 of 20 s


def test_no_drill_says_how_to_run_them(tmp_path):
    run = make_run(tmp_path, "r", FIRST, extras=False)
    page = parse(write_report(run))
    drills = page.find("section", id="drills")[0]["text"]
    assert "No failure drill ran" in drills and "X6, X7 are not checked" in drills
    assert "No load test ran" in page.find("section", id="load")[0]["text"]
    assert "No restore drill ran" in page.find("section", id="backups")[0]["text"]


def test_load_shows_the_slo_verdict_and_the_capacity(one_run):
    page = parse(write_report(one_run))
    load = page.find("section", id="load")[0]["text"]
    assert "etherpad" in load and "breaks its SLO" in load and "p95 1900 ms > 1500 ms" in load
    assert "Capacity within the SLO: 24 users, 11.5 req/s" in load


def test_backups_show_the_restore_drill_per_database(one_run):
    page = parse(write_report(one_run))
    backups = page.find("section", id="backups")[0]["text"]
    assert "mysql" in backups and "postgresql" in backups
    assert "restores it" in backups
    assert "fails pg_restore: error: input file appears to be a text format dump" in backups.replace("✗ ", "")


def test_an_unreadable_journal_is_named_not_fatal(one_run):
    (one_run / "chaos" / "cut.json").write_text('{"experiment": ')
    page = parse(write_report(one_run))
    assert "cut.json in chaos/ could not be read" in page.find("header", id="run")[0]["text"]


# --- history -------------------------------------------------------------------------------


def test_history_strip_shows_the_previous_run(two_runs):
    _, second, history = two_runs
    page = parse(write_report(second, history))
    row = next(i for i, e in enumerate(page.elements) if e["tag"] == "tr" and e["text"].startswith("H3"))
    squares = [e for e in page.elements[row:] if "sq" in (e["attrs"].get("class") or "").split()][:2]
    assert [s["attrs"]["data-run"] for s in squares] == ["20261130-030000", "20261201-030000"]
    assert squares[0]["attrs"]["class"] == "sq holds" and squares[1]["attrs"]["class"] == "sq broken current"
    assert "2026-11-" in squares[0]["attrs"]["title"]


def test_changes_since_the_previous_run(two_runs):
    _, second, history = two_runs
    page = parse(write_report(second, history))
    changes = page.find("section", id="changes")[0]["text"]
    assert "Newly broken" in changes and "H3 (was holds)" in changes
    assert "Fixed" in changes and "B9 (now holds)" in changes
    assert "New findings" in changes and "C5: CRITICAL data loss risk: a brick sits on the root filesystem" in changes
    assert "Findings gone" in changes and "B5: MEDIUM documented procedure fails" in changes
    assert "Other changes" not in changes  # C5 and B5 only gained or lost a finding: said above
    assert "4 changes" in page.find("header", id="run")[0]["text"]


def test_first_run_has_no_changes_and_one_square(one_run, tmp_path):
    history = tmp_path / "history.jsonl"
    record_run(history, one_run)
    page = parse(write_report(one_run, history))
    assert "No previous run" in page.find("section", id="changes")[0]["text"]
    assert len(page.with_class("sq")) == len(page.find("tr", **{"class": "holds"})) + sum(
        len(page.find("tr", **{"class": c})) for c in ("finding", "broken", "na", "unchecked"))


def test_recording_a_run_again_replaces_it(one_run, tmp_path):
    history = tmp_path / "history.jsonl"
    record_run(history, one_run)
    record_run(history, one_run)
    assert len(history.read_text().splitlines()) == 1


def test_a_cut_last_line_costs_one_run_not_the_file(two_runs, tmp_path):
    history = two_runs[2]
    with history.open("a") as out:
        out.write('{"run": "killed", "statu')
    third = make_run(tmp_path, "20261202-030000", FIRST + 2 * DAY)
    record_run(history, third)
    assert [e["run"] for e in read_history(history)] == ["20261130-030000", "20261201-030000", "20261202-030000"]


def test_the_strip_keeps_the_last_14_runs_of_the_same_environment(tmp_path):
    history = tmp_path / "history.jsonl"
    for night in range(16):
        record_run(history, make_run(tmp_path, f"n{night:02d}", FIRST + night * DAY, extras=False))
    other = json.loads(history.read_text().splitlines()[0])
    with history.open("a") as out:
        out.write(json.dumps({**other, "run": "staging", "environment": "staging", "started": FIRST + 15.5 * DAY}) + "\n")
    page = parse(write_report(tmp_path / "n15", history))
    first_row = [s["attrs"]["data-run"] for s in page.with_class("sq")][:14]  # H1's squares
    assert first_row == [f"n{night:02d}" for night in range(2, 16)]
    assert 'data-run="staging"' not in (tmp_path / "n15" / "report.html").read_text()


# --- summary.md ------------------------------------------------------------------------------


def test_summary_md_has_the_findings_and_the_matrix(one_run):
    summary = json.loads((one_run / "summary.json").read_text())
    x1 = next(c for c in summary["claims"] if c["id"] == "X1")
    x1["evidence"] = [f"AssertionError: X1 refuted | {HOSTILE}"]
    (one_run / "summary.json").write_text(json.dumps(summary))
    text = write_summary_md(one_run).read_text()
    assert text.startswith("# picacheck: picalab (lab)\n")
    wrong = text[text.index("## What the documentation gets wrong"):text.index("## Claims matrix")]
    assert "**B9** broken" in wrong and "**X1** broken" in wrong and "HIGH security on **S4**" in wrong
    assert "| S4 | ! holds, with a finding |" in text
    assert "| B9 | ✗ broken |" in text and "### Failures" in text
    assert "<script>" not in text and "\\<script\\>" in text  # host output stays text in GitLab too
    assert "X1 refuted \\| " in text  # a pipe in host output does not cut the table's row


def test_a_drill_that_failed_says_so_without_empty_tables(one_run):
    journal = {"experiment": "partition-service-nodes", "environment": "picalab", "claims": ["C9"], "plan": [],
               "phases": [], "timeline": [], "figures": {}, "verdicts": [], "outcome": "failed",
               "error": f"CommandTimeout: pica01: iptables did not finish {HOSTILE}"}
    (one_run / "chaos" / "partition-service-nodes-pica01.json").write_text(json.dumps(journal))
    page = parse(write_report(one_run))
    drill = page.find("article", id="drill-partition-service-nodes-pica01")[0]
    assert "failed" in drill["text"] and "CommandTimeout: pica01: iptables did not finish" in drill["text"]
    assert "It gave no verdict, so its claims (C9) are broken" in drill["text"]
    assert "Nothing was observed during the fault." in drill["text"]
