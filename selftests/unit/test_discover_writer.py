"""The discovered inventory's YAML: it loads back to the data it was made from (quoting is
PyYAML's), placeholders are comments, notes trail their values; what cannot be discovered
is marked from one table and filled from a documented inventory."""

from __future__ import annotations

import string

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from picacheck.discover.tree import Noted, Unknown, not_known, plain
from picacheck.discover.undiscoverable import FILL_IN, fill_from, mark, undiscoverable
from picacheck.discover.writer import render
from picacheck.inventory.model import Inventory

TRICKY = ["* * * * *", "0 3 * * *", "pica01:/gluster-data", "fe80::31", "yes", "no", "null", "~", "010", "1e3",
          "'quoted'", 'say "hi"', "# not a comment", "a: b", "- x", "@daily", "%Y.%m.%d.%H%M%S.sql", "", " padded ",
          "tab\there", "é", "true"]


def test_a_tree_with_marks_renders_to_yaml_that_loads_back_to_its_data():
    tree = {
        "x-discovered": {"not_discovered": {"hosts.bob": "bob is unreachable: SSH port closed"}},
        "hosts": {"alice": {"roles": ["hypervisor"], "raid": [
            {"name": "md0", "members": Noted(["sda1"], "sdb1 faulty"), "claim": Unknown("not discoverable: …", "H2")},
            {"claim": Unknown("only a placeholder")},
        ], "daemons": Noted(["sshd"], "not running: corosync"), "network": Unknown("bob is unreachable")}},
        "swarm": {"managers": ["pica01"], "workers": [], "networks": [{"name": "pica-net", "driver": "overlay"}]},
        "scalars": {"none": None, "true": True, "int": 3, "float": 1 / 60, "empty": {}, "tricky": TRICKY},
        "dumps": [Noted({"database": "mysql", "cron_time": "* * * * *"}, "the dump job mysql-backup"), [1, [2]]],
        "long": ["a" * 60, "b" * 60],
    }
    text = render(tree, ["a header", ""])
    assert yaml.safe_load(text) == plain(tree)
    lines = text.splitlines()
    assert lines[0] == "# a header" and "        # claim: H2  # not discoverable: …" in lines
    assert "    daemons: [sshd]  # not running: corosync" in lines
    assert "    # network: …  # bob is unreachable" in lines
    assert "  # the dump job mysql-backup" in lines
    assert "        members: [sda1]  # sdb1 faulty" in lines


scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.sampled_from(TRICKY),
                    st.text(string.printable, max_size=12), st.floats(allow_nan=False, allow_infinity=False))
keys = st.text(string.ascii_letters + "_-.", min_size=1, max_size=10)
trees = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                      st.dictionaries(keys, inner, max_size=4)), max_leaves=25)


@settings(max_examples=300, deadline=None)
@given(tree=st.dictionaries(keys, trees, min_size=1, max_size=5))
def test_any_data_renders_to_yaml_that_loads_back(tree):
    assert yaml.safe_load(render(tree)) == tree


def test_what_cannot_be_discovered_is_marked_from_the_table_and_required_fields_get_fill_in():
    tree = {"services": [{"name": "etherpad", "kind": "etherpad", "domain": "pad.test"}],
            "registry": {"host": "admin", "url": "https://r.test:5000"},
            "backups": {"dumps": [Noted({"database": "mysql"}, "the dump job")]}}
    mark(tree)
    service = tree["services"][0]
    assert isinstance(service["slo"], Unknown) and "documented objectives" in service["slo"].reason
    assert tree["registry"]["user"] == Noted(FILL_IN, tree["registry"]["user"].note)
    assert isinstance(tree["backups"]["dumps"][0].value["grace_minutes"], Unknown)
    assert isinstance(tree["dns"], Unknown) and isinstance(tree["not_applicable"], Unknown)
    assert not_known({"a": Unknown("x"), "b": Unknown("y", known=True), "c": [Noted(1, "z", known=False)]}) == {
        "a": "x", "c.0": "z"}
    assert undiscoverable(("services", "pad", "slo", "p95_ms")) and not undiscoverable(("services", "pad", "domain"))


def test_fill_from_takes_what_cannot_be_discovered_from_the_documented_inventory():
    documented = Inventory.model_validate({
        "environment": {"name": "t", "kind": "lab"},
        "hosts": {"admin": {"roles": ["registry"], "ssh": {"address": "10.0.0.2"}}},
        "services": [{"name": "etherpad", "kind": "etherpad", "domain": "pad.test", "health_path": "/p/x",
                      "slo": {"p95_ms": 800, "max_failure_ratio": 0.01, "min_rps": 4}}],
        "registry": {"host": "admin", "url": "https://r.test:5000", "user": "pica", "password_env": "REG_PASS"},
        "not_applicable": {"H7": "no GRUB"},
    })
    tree = mark({"services": [{"name": "etherpad", "kind": "etherpad", "domain": "pad.test"},
                              {"name": "wiki", "kind": "wiki", "domain": "wiki.test"}],
                 "registry": {"host": "admin", "url": "https://r.test:5000"}})
    filled = plain(fill_from(tree, documented, note="from documented.yml"))
    assert filled["services"][0]["slo"]["p95_ms"] == 800 and filled["services"][0]["health_path"] == "/p/x"
    assert "slo" not in filled["services"][1], "a service the documentation lacks keeps its placeholder"
    assert filled["registry"]["user"] == "pica" and filled["registry"]["password_env"] == "REG_PASS"
    assert filled["not_applicable"] == {"H7": "no GRUB"}
    assert fill_from(tree, documented, note="from d.yml")["registry"]["user"].note == "from d.yml"
    unknown = {"services": [{"name": "etherpad", "kind": Noted("other", "not recognised", known=False)}]}
    filled = plain(fill_from(unknown, documented, None, ["services.etherpad.kind", "services.gone.kind"]))
    assert filled["services"][0]["kind"] == "etherpad", "what discovery did not know is filled too"
