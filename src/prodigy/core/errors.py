"""The one exception hierarchy. Every error names the place and the fix."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
# EX_TEMPFAIL (sysexits.h): the run ended paused (budget spent or usage limit reached) and
# `prodigy resume` continues it; a script can tell "try later" from a failure.
EXIT_PAUSED = 75
EXIT_INTERRUPTED = 130


class ProdigyError(Exception):
    """Base of every error prodigy reports to the user."""

    exit_code: int = EXIT_FAILED


class UsageError(ProdigyError):
    """Bad input from the user: arguments, configuration, workflow files."""

    exit_code = EXIT_USAGE


class NotImplementedYetError(UsageError):
    """A command or feature that a later release builds; never a silent no-op."""

    def __init__(self, what: str) -> None:
        super().__init__(f"{what}: not implemented yet")


class ConfigError(UsageError):
    """An invalid configuration value; the message names the file and key."""


class WorkflowError(UsageError):
    """A workflow file that cannot be loaded; the message names file:line:col and YAML path."""


class StoreError(ProdigyError):
    """The state database is unusable (corrupt, newer schema, locked)."""


class GitError(ProdigyError):
    """A git operation failed; the message shows the command and its output."""


class StepFailedError(ProdigyError):
    """A workflow step failed and no handler recovered it."""


class LockedError(ProdigyError):
    """Another live process holds the lock on a session or job."""


class PausedRunError(ProdigyError):
    """The run ended paused by its budget or a usage limit; the message says how to go on."""

    exit_code = EXIT_PAUSED


class InterruptedRunError(ProdigyError):
    """The run was interrupted by SIGINT or SIGTERM."""

    exit_code = EXIT_INTERRUPTED


class BudgetSpentError(ProdigyError):
    """A setup or reduce step was not started (or was stopped) because the budget is spent:
    the run ends paused, or failed with `on_exhausted: fail`, not as a broken step."""
