"""The production guard: the one decision of whether a command may touch an environment.

- Anything but production: every access.
- Production, **reading** (the checks of the layers): only with an explicit opt-in, the
  `--allow-production` flag or PICACHECK_ALLOW_PRODUCTION=1 on an administrator's machine.
- Production, **changing** it (chaos in any form, `verify --chaos`, load): `--allow-production`
  *and* the environment's name typed back on a terminal. No terminal, end of input, or a
  name that does not match is a refusal (exit 2). The environment variable never counts here.

The decision is a `Grant`, handed explicitly to what needs it (the host pool, the chaos
runner, the load runner): nothing passes it through the process environment.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from enum import IntEnum
from typing import Callable

from picacheck.errors import UserError
from picacheck.inventory import EnvironmentKind, Inventory

READ_OPT_IN_VARIABLE = "PICACHECK_ALLOW_PRODUCTION"


class Access(IntEnum):
    read = 1  # run commands that only read (the checks)
    change = 2  # break, restart or load the target


@dataclass(frozen=True)
class Grant:
    environment: str
    access: Access


Confirm = Callable[[str], "str | None"]  # a prompt → what was typed (None: no answer)


def decide(inventory: Inventory, access: Access, *, allow_production: bool = False,
           confirm: Confirm | None = None, what: str = "this command") -> Grant:
    """The grant for `access` to the inventory's environment, or a UserError saying why not."""
    environment = inventory.environment
    if environment.kind != EnvironmentKind.production:
        return Grant(environment.name, Access.change)
    if access == Access.read:
        if allow_production or os.environ.get(READ_OPT_IN_VARIABLE) == "1":
            return Grant(environment.name, Access.read)
        raise UserError(f"{environment.name!r} is a production inventory: {what} reads it only with "
                        f"--allow-production (or {READ_OPT_IN_VARIABLE}=1 on an administrator's machine)")
    if not allow_production:
        raise UserError(f"{environment.name!r} is a production inventory: {what} changes it and needs "
                        "--allow-production and its name typed back")
    if not environment.name.strip():
        raise UserError("the production inventory has an empty environment.name: there is nothing to type back")
    typed = (confirm or terminal_confirm)(
        f"{what} will change the production environment {environment.name!r}. Type its name to go on: ")
    if typed is None:
        raise UserError(f"no confirmation for {environment.name!r} (no terminal, or end of input): nothing was done")
    if typed.strip() != environment.name:
        raise UserError("the confirmation did not match the environment's name: nothing was done")
    return Grant(environment.name, Access.change)


def require(inventory: Inventory, grant: Grant | None, access: Access, what: str) -> None:
    """The last line of defence where a host is contacted or the target changed."""
    environment = inventory.environment
    if environment.kind != EnvironmentKind.production:
        return
    if grant is None or grant.environment != environment.name or grant.access < access:
        verb = "read" if access == Access.read else "changed"
        raise UserError(f"{environment.name!r} is a production inventory and was not allowed to be {verb} "
                        f"by {what}")


def terminal_confirm(prompt: str) -> str | None:
    """Ask on the terminal; None when there is none or the input ends."""
    if not (sys.stdin and sys.stdin.isatty()):
        return None
    try:
        return input(prompt)
    except EOFError:
        return None
