"""What a part's `up` did, step by step: which steps changed something (so that a second
`up` can say "nothing to change"), and one line naming the step when one fails."""

from __future__ import annotations

import contextlib
import traceback

from picacheck.errors import UserError
from picacheck.lab import topology as T


class Steps:
    """steps.run("swarm", ensure_swarm, conns) runs a step; its result is truthy (or, for a
    tuple, its last item is) when it changed something."""

    def __init__(self, part: str) -> None:
        self.part = part
        self.changed: list[str] = []
        self.current = "starting"

    def run(self, name: str, function, *args, **kwargs):
        self.current = name
        result = function(*args, **kwargs)
        if (result[-1] if isinstance(result, tuple) else bool(result)):
            self.changed.append(name)
        return result

    @contextlib.contextmanager
    def one_line_errors(self):
        """Anything unexpected becomes one UserError naming the step (traceback in the logs)."""
        try:
            yield
        except (UserError, KeyboardInterrupt):
            raise
        except Exception as error:  # noqa: BLE001 - the CLI prints one line, not a traceback
            log = T.LOG_DIR / f"{self.part.replace(' ', '-')}-last-error.log"
            with contextlib.suppress(OSError):
                log.parent.mkdir(parents=True, exist_ok=True)
                log.write_text(f"step: {self.current}\n{traceback.format_exc()}")
            explanation = getattr(error, "explanation", None) or str(error) or type(error).__name__
            raise UserError(f"lab {self.part}: step '{self.current}' failed: {explanation}",
                            hint=f"traceback in {log}") from None
