"""The lab's own secrets reach no output, also where a check that uses them fails: the
registry's password and the databases' passwords replaced by wrong ones in a copy of the
lab's inventory, the checks that send them fail (401, access denied), and neither the
planted values nor the lab's real ones appear in the output or the run folder. The
experiments' journals are checked the same way in test_chaos_lab."""

from __future__ import annotations

import base64
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.lab
REPO = Path(__file__).resolve().parents[2]
PLANTED = {"registry": "planted-wrong-registry-6c1e", "mysql": "planted-wrong-mysql-0b7d",
           "postgresql": "planted-wrong-postgres-58fa"}


def test_failing_checks_with_wrong_secrets_show_none_of_them(lab, tmp_path):
    from selftests.lab.test_chaos_lab import lab_secrets

    data = yaml.safe_load(Path(lab).read_text())
    for name, value in PLANTED.items():
        path = tmp_path / name
        path.write_text(value + "\n")
        entry = data["registry"] if name == "registry" else next(d for d in data["databases"] if d["name"] == name)
        entry["password_file"] = str(path)
    inventory = tmp_path / "planted.yml"
    inventory.write_text(yaml.safe_dump(data, sort_keys=False))
    reports = tmp_path / "reports"
    result = subprocess.run([sys.executable, "-m", "picacheck.cli", "verify", "--inventory", str(inventory),
                             "--reports", str(reports), "--layer", "services", "--layer", "backup", "--", "-k",
                             "registry or restore"], cwd=REPO, capture_output=True, text=True, timeout=900)
    texts = {"stdout": result.stdout, "stderr": result.stderr}
    texts.update({str(p): p.read_text(errors="replace") for p in reports.rglob("*")
                  if p.is_file() and p.suffix in (".json", ".html", ".xml", ".md", ".jsonl")})
    summary = next(text for name, text in texts.items() if name.endswith("summary.json"))
    import json

    verdicts = {row["id"]: row["verdict"] for row in json.loads(summary)["claims"]}
    assert verdicts["S9"] == "broken" and verdicts["B5"] == "broken", verdicts  # the wrong secrets were sent
    forms = {f"planted {name}": value for name, value in PLANTED.items()}
    user = data["registry"]["user"]
    forms |= {f"planted {name} (base64 pair)": base64.b64encode(f"{user}:{value}".encode()).decode()
              for name, value in PLANTED.items()}
    forms |= {f"lab {name}": value for name, value in lab_secrets().items()}
    for label, value in forms.items():
        for where, text in texts.items():
            assert value not in text, f"{label} is in {where}"
