"""parse_curator_script: the curator_cli commands of a daily job (S11's index clean-up)."""

from __future__ import annotations

import pytest

from picacheck.facts import ParseError, parse_curator_script

# As curator 5's documentation writes a singleton action (curator_cli … --filter_list JSON).
JOB = """\
#!/bin/sh
# remove metricbeat indices older than 3 days
/usr/local/bin/curator_cli --host 127.0.0.1 --port 9200 delete_indices --ignore_empty_list --filter_list \\
  '[{"filtertype":"age","source":"creation_date","direction":"older","unit":"days","unit_count":3},
    {"filtertype":"pattern","kind":"prefix","value":"metricbeat-"}]'
"""


def test_delete_indices_older_than_three_days():
    jobs = parse_curator_script(JOB.replace("},\n    {", "},{"))
    assert [(job.action, job.line_no) for job in jobs] == [("delete_indices", 3)]
    assert jobs[0].deletes_older_than(3) and not jobs[0].deletes_older_than(7)
    assert jobs[0].age_filters[0].source == "creation_date"


def test_yaml_flow_filters_and_other_actions():
    jobs = parse_curator_script(
        "curator_cli close --filter_list '{filtertype: age, direction: older, unit: days, unit_count: 30}'; "
        "echo done\n")
    assert jobs[0].action == "close" and not jobs[0].deletes_older_than(30)
    assert parse_curator_script("#!/bin/sh\necho nothing to do\n") == ()


def test_an_unreadable_filter_list_raises():
    with pytest.raises(ParseError):
        parse_curator_script("curator_cli delete_indices --filter_list '[{'\n")
    with pytest.raises(ParseError):
        parse_curator_script("curator_cli delete_indices --filter_list '\"text\"'\n")
