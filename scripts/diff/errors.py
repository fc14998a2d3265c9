"""Named failures of `make diff`, each with the exit code `main()` returns for it."""

from __future__ import annotations


class DiffError(Exception):
    """Bad input the reader can fix (a BASE that is not a commit, an unreadable template)."""

    exit_code = 2


class ToolMissing(DiffError):
    """Node.js or the pinned differ in .venv-cfndiff is not installed."""


class ToolFailed(DiffError):
    """The differ ran and failed; the message carries its error output."""

    exit_code = 1
