"""`picacheck inventory discover` and `picacheck inventory diff`, behind the thin CLI.

discover: exit 0 when everything discoverable was discovered and the result validates, 1
when a host was unreachable, a section could not be read or the result does not validate
(the file is written all the same, with the reasons in it), 2 on bad input.
diff: exit 0 without drift, 1 with drift, 2 on bad input.
"""

from __future__ import annotations

import sys
from pathlib import Path

from picacheck import guard
from picacheck.discover import differ, writer
from picacheck.discover.run import discover
from picacheck.discover.undiscoverable import FILL_IN, fill_from
from picacheck.errors import UserError
from picacheck.inventory import Inventory, load_inventory
from picacheck.probes.remote import HostPool


def _say(line: str) -> None:
    print(f"picacheck: {line}", file=sys.stderr, flush=True)


def header(source: str, at: str) -> list[str]:
    return [
        f"Discovered by `picacheck inventory discover --from {source}` ({at}): what the hosts show,",
        "read through the suite's own probes (nothing was changed on them).",
        "Lines \"# key: …  # not discoverable: …\" are what hosts cannot show (documented objectives, the",
        f"claims items carry, secrets): fill them in from the documentation, as the values {FILL_IN} that",
        "the model requires. `picacheck inventory diff DOCUMENTED THIS-FILE` shows the drift; it compares",
        "neither those nor the parts listed under x-discovered.not_discovered.",
    ]


def selected_hosts(minimal, names: str | None) -> list[str] | None:
    if names is None:
        return None
    chosen = [name.strip() for name in names.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in minimal.hosts]
    if not chosen or unknown:
        raise UserError(f"--hosts {names!r}: {'no host named ' + ', '.join(unknown) if unknown else 'no host given'}"
                        f" (the hosts of the inventory: {', '.join(minimal.hosts)})")
    return chosen


def asked_part(minimal: Inventory, selected: list[str] | None) -> Inventory:
    """The hosts to ask and their jump hosts: the pool's pre-flight contacts no other."""
    if selected is None:
        return minimal
    wanted = []
    for name in selected:
        while name and name not in wanted:
            wanted.append(name)
            name = minimal.hosts[name].ssh.jump
    return minimal.model_copy(update={"hosts": {name: minimal.hosts[name] for name in minimal.hosts if name in wanted}})


def discover_command(source: str, hosts: str | None = None, output: str | None = None,
                     allow_production: bool = False, fill: str | None = None) -> int:
    minimal = load_inventory(source)
    selected = selected_hosts(minimal, hosts)
    documented = load_inventory(fill) if fill else None
    grant = guard.decide(minimal, guard.Access.read, allow_production=allow_production, what="inventory discover")
    pool = HostPool(asked_part(minimal, selected), remember_unreachable=True, grant=grant)
    try:
        found = discover(minimal, pool, selected, say=_say, source=source)
    finally:
        pool.close()
    tree = found.tree
    if documented:
        tree = fill_from(tree, documented, f"from {fill}", tree["x-discovered"].get("not_discovered", {}))
    text = writer.render(tree, header(source, found.tree["x-discovered"]["at"]))
    if output:
        Path(output).write_text(text)
        _say(f"wrote {output}")
    else:
        sys.stdout.write(text)
    for problem in found.problems:
        _say(problem)
    if found.valid is not None:
        _say(f"the discovered inventory does not validate: {found.valid}")
    return 0 if found.complete else 1


def diff_command(documented: str, discovered: str) -> int:
    differences, not_compared = differ.compare_files(documented, discovered)
    print(differ.render(differences, not_compared, documented, discovered), end="")
    return 1 if differences else 0

