"""The restore drill (B5, B9), a small package:

- `drill.restore_drill(hosts, inventory, policy) -> DrillResult`: the drill itself;
- `scratch`: the throwaway server a dump is restored into (and leftovers of interrupted drills);
- `compare`: the restored data against the live data, the previous dump as witness;
- `replay`: the report's own restore.sh, replayed on the same dump (B9);
- `result`: what the drill found and how it says it.
"""

from picacheck.restore.drill import restore_drill
from picacheck.restore.result import DrillResult, ScriptReplay, TableCheck
from picacheck.restore.scratch import remove_leftovers

__all__ = ["restore_drill", "DrillResult", "ScriptReplay", "TableCheck", "remove_leftovers"]
