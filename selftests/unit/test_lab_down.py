"""The whole lab's `down`, once every part is down, leaves nothing but the cache: files that
no part claims (an older version's, a forgotten one) are removed and named, instead of
passing for a running part (which kept IP forwarding and the lab key forever)."""

from __future__ import annotations

import pytest

from picacheck.lab import topology as T
from picacheck.lab.vms import lifecycle


@pytest.fixture
def lab_dirs(tmp_path, monkeypatch):
    run_dir, lab_dir = tmp_path / "run", tmp_path / "lib"
    for name, value in {"RUN_DIR": run_dir, "LAB_DIR": lab_dir, "SSH_KNOWN_HOSTS": lab_dir / "ssh" / "known_hosts",
                        "INVENTORY_FILE": lab_dir / "inventory.yml"}.items():
        monkeypatch.setattr(T, name, value)
    monkeypatch.setattr(lifecycle.engine, "ENGINE_STATE", run_dir / "engine.json")  # none: nothing to restore
    said: list[str] = []
    monkeypatch.setattr(lifecycle, "say", said.append)
    run_dir.mkdir()
    (run_dir / "lock").write_text("")  # an older version's lock file
    (lab_dir / "share").mkdir(parents=True)
    (lab_dir / "share" / "picalab-base.tar").write_text("old")
    (lab_dir / "ssh").mkdir()
    (lab_dir / "ssh" / "id_ed25519").write_text("key")
    (lab_dir / "cache").mkdir()
    (lab_dir / "cache" / "rootfs.img").write_text("kept")
    return run_dir, lab_dir, said


def test_the_sweep_removes_what_no_part_claims_and_names_it(lab_dirs):
    run_dir, lab_dir, said = lab_dirs
    (run_dir / "lock").unlink()  # only LAB_DIR has something left: still a change to report
    assert lifecycle.restore_host(sweep=True) is True
    run_dir.mkdir(exist_ok=True)
    (run_dir / "lock").write_text("")
    (lab_dir / "share").mkdir()
    assert lifecycle.restore_host(sweep=True) is True
    assert not run_dir.exists()
    assert sorted(p.name for p in lab_dir.iterdir()) == ["cache"]
    assert (lab_dir / "cache" / "rootfs.img").read_text() == "kept"
    assert any("removing what none of them claims" in line and str(run_dir / "lock") in line for line in said), said


def test_without_the_sweep_an_unknown_entry_is_taken_for_a_running_part(lab_dirs):
    """A part's own `down` (the VMs' alone) must not remove what another part may still use."""
    run_dir, lab_dir, said = lab_dirs
    lifecycle.restore_host()
    assert (run_dir / "lock").exists() and (lab_dir / "ssh" / "id_ed25519").exists()
    assert any("other parts of the lab still run (lock in" in line for line in said), said
