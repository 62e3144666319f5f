"""The one error family of mlwarden, and the exit codes of DESIGN.md.

Every error a user can cause is an :class:`MlwardenError`. The CLI catches the family once, at its
edge, prints :meth:`MlwardenError.one_line` and exits with :attr:`MlwardenError.exit_code`; a
traceback is shown only with ``-v``. Anything else that escapes is a bug (exit 3).
"""

from __future__ import annotations

import enum
from pathlib import Path


class ExitCode(enum.IntEnum):
    """Process exit codes shared by every command."""

    OK = 0
    """Allowed, clean, or verified."""
    FINDINGS = 1
    """Findings at or over the threshold, a deny decision, or a failed verification."""
    USAGE = 2
    """A usage error or bad input (a file that is missing, malformed, or of the wrong kind)."""
    INTERNAL = 3
    """A bug in mlwarden."""


class MlwardenError(Exception):
    """Base of every error mlwarden raises on purpose.

    ``path`` names the file the problem is about (if any) and ``advice`` tells the user what to do.
    """

    exit_code: ExitCode = ExitCode.INTERNAL

    def __init__(self, message: str, *, path: str | Path | None = None, advice: str | None = None):
        super().__init__(message)
        self.message = message
        self.path = str(path) if path is not None else None
        self.advice = advice

    def one_line(self) -> str:
        """The single line shown to the user: ``path: message (advice)``."""
        text = f"{self.path}: {self.message}" if self.path else self.message
        if self.advice:
            text += f" ({self.advice})"
        return " ".join(text.split())


class UsageError(MlwardenError):
    """The command line itself is wrong: a bad option value, a missing argument."""

    exit_code = ExitCode.USAGE


class InputError(MlwardenError):
    """An input file or directory is missing, unreadable, malformed or of the wrong kind."""

    exit_code = ExitCode.USAGE


class PolicyError(InputError):
    """A policy file is malformed; the message names the file and the field."""


class ConfigError(InputError):
    """A configuration value (environment, database URL, key store) is unusable."""


class VerificationError(MlwardenError):
    """A signature, digest or chain did not verify. The message names exactly what failed."""

    exit_code = ExitCode.FINDINGS


class DeniedError(MlwardenError):
    """A policy or permission check refused the action."""

    exit_code = ExitCode.FINDINGS


class InternalError(MlwardenError):
    """An invariant inside mlwarden broke: a bug, reported with exit code 3."""

    exit_code = ExitCode.INTERNAL
