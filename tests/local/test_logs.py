"""`make up` logs stay readable: the emulator's line per AWS call is hidden unless asked for."""

from __future__ import annotations

import io
import sys

import pytest
from rich.console import Console

from scripts.local.processes import Child, Log, emulator_line_worth_showing

ROUTINE = [
    "WARNING: This is a development server. Do not use it in a production deployment.",
    " * Running on http://127.0.0.1:4566",
    "Press CTRL+C to quit",
    "\x1b[31m\x1b[1mWARNING: This is a development server. Do not use it in production.\x1b[0m",
    "Press CTRL+C to quit\x1b[0m",
    '127.0.0.1 - - [22/Nov/2026 02:26:46] "POST / HTTP/1.1" 200 -',
    '127.0.0.1 - - [22/Nov/2026 02:26:46] "PUT /todo-local-core-filesbucket?cors HTTP/1.1" 200 -',
    '127.0.0.1 - - [22/Nov/2026 02:26:46] "GET /bucket/key HTTP/1.1" 304 -',
]
WORTH_SHOWING = [
    '127.0.0.1 - - [22/Nov/2026 02:26:46] "POST / HTTP/1.1" 400 -',
    '127.0.0.1 - - [22/Nov/2026 02:26:46] "GET /bucket/key HTTP/1.1" 500 -',
    "Traceback (most recent call last):",
    "botocore.exceptions.ClientError: An error occurred (ValidationException)",
]


@pytest.mark.parametrize("line", ROUTINE)
def test_routine_emulator_lines_are_hidden(line: str) -> None:
    assert not emulator_line_worth_showing(line)


@pytest.mark.parametrize("line", WORTH_SHOWING)
def test_failures_and_errors_are_shown(line: str) -> None:
    assert emulator_line_worth_showing(line)


@pytest.mark.parametrize("verbose", [False, True])
def test_a_child_prints_what_its_filter_keeps_and_remembers_everything(verbose: bool) -> None:
    out = io.StringIO()
    log = Log(Console(file=out, width=200), verbose=verbose)
    routine = '127.0.0.1 - - [22/Nov/2026 02:26:46] "POST / HTTP/1.1" 200 -'
    assert routine in ROUTINE
    lines = [routine, WORTH_SHOWING[0]]
    script = "import sys; sys.stdout.write(sys.argv[1] + '\\n' + sys.argv[2] + '\\n')"
    child = Child(
        "emulator", [sys.executable, "-c", script, *lines], log, show=emulator_line_worth_showing
    )
    child.process.wait(timeout=10)
    child.stop()
    printed = out.getvalue()
    assert WORTH_SHOWING[0] in printed
    assert (routine in printed) is verbose
    assert list(child.recent) == lines  # a failure report still shows every line
