"""The one error every `cohortbot` command stops with, carrying the process exit code."""

from __future__ import annotations

EXIT_USAGE = 2
"""The exit code of a usage error: a missing option, an unknown cohort, an unusable file."""


class UsageError(Exception):
    """Why a command stops before doing its work, and the exit code the process ends with.

    Command bodies raise it; the `cohortbot` group (bot.cli.main) prints the message on
    standard error and exits with `exit_code`, and nothing else does. With `command`, the
    message is printed as `cohortbot <command>: <message>`.
    """

    def __init__(
        self, message: str, *, exit_code: int = EXIT_USAGE, command: str | None = None
    ) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.command = command

    def __str__(self) -> str:
        message = super().__str__()
        return f"cohortbot {self.command}: {message}" if self.command else message
