"""The report room: the claims matrix, the pictures, and the report people read.

What a run calls (picacheck/run.py, after pytest): `publish_run(run_dir, history_file)`,
which is `record_run(history_file, run_dir)`, then `write_report(run_dir, history_file)` and
`write_summary_md(run_dir)`.
"""

from picacheck.report.commands import publish_run
from picacheck.report.history import record_run
from picacheck.report.markdown import write_summary_md
from picacheck.report.page import write_report

__all__ = ["publish_run", "record_run", "write_report", "write_summary_md"]
