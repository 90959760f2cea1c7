"""The report in a real browser: headless Chromium (Debian's chromium and chromium-driver,
driven by selenium) opens report.html from the disk and finds no console error, every
picture loaded, the run's broken claims in the findings section and the previous run in the
history strip; it prints the page to PDF, a page per section (the changes follow the findings). The first screen
is saved to reports/ci/report-first-screen.png for CI to keep.

Chromium missing is a failure, not a skip: scripts/bootstrap installs it, and a report
nobody opened in a browser is not tested."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import pytest

from picacheck.report import record_run, write_report
from selftests.unit.report_runs import make_two_nights

REPO = Path(__file__).resolve().parents[2]
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
SCREENSHOTS = REPO / "reports" / "ci"
SAMPLE_RUNS = Path("/work/sample-runs")  # real run folders on a developer's machine; not in CI
# Without these, Chromium tries Google's services at every start (this machine has no route).
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-sync", "--window-size=1400,1000")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.fail(f"the browser test needs {', '.join(missing)}: run scripts/bootstrap "
                    "(Debian packages chromium and chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def open_report(driver, report: Path) -> list[dict]:
    """Load the page from the disk; the console's messages while it loaded."""
    driver.get_log("browser")  # what an earlier page left
    driver.get(report.resolve().as_uri())
    assert driver.execute_script("return document.readyState") == "complete"
    assert driver.execute_script("return document.title").startswith("picacheck: ")
    return driver.get_log("browser")


def check_report(driver, report: Path, previous_run: str) -> None:
    console = open_report(driver, report)
    errors = [entry for entry in console if entry.get("level") == "SEVERE"]
    assert errors == [], f"console errors: {errors}"
    images = driver.execute_script(
        "return Array.from(document.images).map(i => [i.alt, i.complete, i.naturalWidth])")
    assert images, "the report shows no picture"
    assert [alt for alt, complete, width in images if not complete or width <= 0] == []
    summary = json.loads((report.parent / "summary.json").read_text())
    broken = [claim["id"] for claim in summary["claims"] if claim["status"] == "broken"]
    findings_text = driver.execute_script("return document.getElementById('wrong').innerText")
    for claim in broken:
        assert f"\n{claim} " in f"\n{findings_text}" or f" {claim} " in findings_text, f"{claim} not in the findings"
    squares = driver.execute_script(f"return document.querySelectorAll('.sq[data-run=\"{previous_run}\"]').length")
    assert squares == len(summary["claims"]), "the history strip does not show the previous run for every claim"
    pdf = base64.b64decode(driver.print_page())
    sections = driver.execute_script("return document.querySelectorAll('section').length")
    pages = pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")
    # Page 1: the run, what is wrong, the changes; then each other section on pages of its own.
    assert pdf.startswith(b"%PDF") and pages >= 1 + (sections - 2)


def first_screen(driver, name: str) -> Path:
    driver.execute_script("window.scrollTo(0, 0)")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    assert driver.save_screenshot(str(path))
    return path


def test_synthetic_report_in_chromium(browser, tmp_path):
    first, second, history = make_two_nights(tmp_path)
    report = write_report(second, history)
    check_report(browser, report, previous_run=first.name)
    assert first_screen(browser, "report-first-screen.png").stat().st_size > 10_000


def _samples() -> list[Path]:
    return sorted(p for p in SAMPLE_RUNS.glob("*") if (p / "summary.json").is_file()) if SAMPLE_RUNS.is_dir() else []


@pytest.mark.skipif(not _samples(), reason=f"no real run folder in {SAMPLE_RUNS} (a developer's machine only; "
                                           "the synthetic test covers every section)")
@pytest.mark.parametrize("sample", _samples(), ids=lambda p: p.name)
def test_real_run_report_in_chromium(browser, tmp_path, sample):
    """A copy of a real run folder, after a made-up previous night where every claim held."""
    run = tmp_path / "20261202-030000"
    shutil.copytree(sample, run, ignore=shutil.ignore_patterns("report.html", "summary.md"))
    previous = tmp_path / "20261201-030000"
    previous.mkdir()
    summary = json.loads((run / "summary.json").read_text())
    held = {**summary, "started": summary["started"] - 86400,
            "claims": [{**claim, "status": "holds", "verdict": "holds", "findings": []} for claim in summary["claims"]]}
    (previous / "summary.json").write_text(json.dumps(held))
    history = tmp_path / "history.jsonl"
    record_run(history, previous)
    record_run(history, run)
    check_report(browser, write_report(run, history), previous_run=previous.name)
    first_screen(browser, f"report-first-screen-{sample.name}.png")


@pytest.mark.parametrize("damage, seen", [
    ('<img src="data:image/png;base64,AAAA" alt="a cut picture">', "a cut picture"),
    ("<script>no_such_function()</script>", "console errors"),
])
def test_the_browser_check_sees_a_broken_picture_and_a_script_error(browser, tmp_path, damage, seen):
    first, second, history = make_two_nights(tmp_path)
    report = write_report(second, history)
    report.write_text(report.read_text().replace("</footer>", f"</footer>{damage}"))
    with pytest.raises(AssertionError, match=seen):
        check_report(browser, report, previous_run=first.name)
