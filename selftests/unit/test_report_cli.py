"""`picacheck report diff A B` (exit 0: nothing changed, 1: something did, 2: bad input,
one line) and `picacheck report render RUN_DIR` (the report again, history not touched)."""

from __future__ import annotations

import pytest

from picacheck import cli
from selftests.unit.report_runs import make_two_nights


@pytest.fixture
def two_runs(tmp_path):
    return make_two_nights(tmp_path)



def test_diff_exit_status_tells_whether_anything_changed(two_runs, capsys):
    first, second, _ = two_runs
    assert cli.main(["report", "diff", str(first), str(first / "summary.json")]) == 0
    assert "no change" in capsys.readouterr().out
    assert cli.main(["report", "diff", str(first), str(second)]) == 1
    out = capsys.readouterr().out
    assert "newly broken: H3 (was holds)" in out and "fixed: B9 (now holds)" in out
    assert "new finding: C5: CRITICAL data loss risk" in out and "finding gone: B5" in out


@pytest.mark.parametrize("bad", ["missing", "empty-dir", "not-json", "no-claims"])
def test_diff_bad_input_is_one_line_and_exit_2(two_runs, tmp_path, capsys, bad):
    target = tmp_path / bad
    if bad == "empty-dir":
        target.mkdir()
    elif bad == "not-json":
        target.write_text("{")
    elif bad == "no-claims":
        target.write_text('{"counts": {}}')
    assert cli.main(["report", "diff", str(two_runs[0]), str(target)]) == 2
    captured = capsys.readouterr()
    assert len(captured.err.strip().splitlines()) == 1 and str(target) in captured.err
    assert "Traceback" not in captured.err


def test_render_rewrites_the_report_and_the_summary_with_the_history_beside(two_runs, capsys):
    _, second, history = two_runs
    assert cli.main(["report", "render", str(second)]) == 0  # history.jsonl beside the run folders
    assert (second / "report.html").is_file() and (second / "summary.md").is_file()
    assert 'data-run="20261130-030000"' in (second / "report.html").read_text()
    assert len(history.read_text().splitlines()) == 2  # rendering does not record
    assert cli.main(["report", "render", str(second.parent / "nothing")]) == 2


def test_publish_run_records_then_writes_the_report_and_the_summary(tmp_path):
    from picacheck.report import publish_run
    from selftests.unit.report_runs import make_run

    history = tmp_path / "reports" / "history.jsonl"
    run = make_run(tmp_path / "reports", "20261203-030000", 1796300000.0, extras=False)
    report = publish_run(run, history)
    assert report == run / "report.html" and (run / "summary.md").is_file()
    assert len(history.read_text().splitlines()) == 1
    assert 'data-run="20261203-030000"' in report.read_text()
