"""The one error type that users see.

Anything a user can cause (bad inventory, unreachable host, missing tool or key) is raised
as a `UserError`; the CLI prints its message on one line and exits with status 2, never a
traceback.
"""

EXIT_USER_ERROR = 2


class UserError(Exception):
    """A problem the user can fix: printed as one line, exit status 2."""

    def __init__(self, message: str, *, hint: str | None = None):
        self.message = message
        self.hint = hint
        super().__init__(message if hint is None else f"{message} ({hint})")

    def __str__(self) -> str:
        return self.message if self.hint is None else f"{self.message} ({self.hint})"
