"""Child processes with prefixed logs, free and busy ports, and waiting for a URL to answer."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import threading
import time
import unicodedata
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from rich.console import Console
from rich.text import Text


class StartupError(Exception):
    """The local stack could not start; the message says why and what to do."""


class Interrupted(StartupError):
    """Start-up was asked to stop (Ctrl-C) before it finished."""


class PortInUse(StartupError):
    def __init__(self, host: str, port: int, what: str, option: str, env: str) -> None:
        super().__init__(
            f"port {port} on {host} ({what}) is already in use; "
            f"stop whatever uses it or choose another port with {option} PORT or {env}=PORT"
        )
        self.port = port


def ensure_port_free(host: str, port: int, what: str, option: str, env: str) -> None:
    """Raise PortInUse, naming the option and variable that move it, when `port` is taken."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As the servers bind: connections of a previous run in TIME_WAIT do not make it busy.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as err:
            raise PortInUse(host, port, what, option, env) from err


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


# Characters that would end, rewrite or disguise a log line: controls (newline, carriage
# return, escape), line and paragraph separators, invisible format characters (bidirectional
# overrides) and the surrogates that stand for bytes that were not UTF-8.
_HIDDEN = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}


def printable(text: str) -> str:
    """`text` with every character that could forge or hide part of a log line escaped, Python
    style (`\\n`, `\\x00`, `\\u202e`, `\\xff` for a byte that was not UTF-8); a backslash is
    doubled, so an escape in the input cannot pass for one made here."""

    def escape(char: str) -> str:
        if char in _SHORT:
            return _SHORT[char]
        if unicodedata.category(char) not in _HIDDEN:
            return char
        code = ord(char)
        if 0xDC80 <= code <= 0xDCFF:  # surrogateescape of a byte
            return f"\\x{code - 0xDC00:02x}"
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return "".join(escape(char) for char in text)


class Log:
    """Prints lines prefixed with a padded, coloured source name (plain when not a terminal)."""

    COLOURS = ("cyan", "magenta", "green", "yellow", "blue", "red")

    def __init__(
        self, console: Console | None = None, quiet: bool = False, verbose: bool = False
    ) -> None:
        self.console = console or Console(highlight=False, soft_wrap=True)
        self.quiet = quiet
        self.verbose = verbose  # also print the lines a child's `show` filter hides
        self._styles: dict[str, str] = {}
        self._lock = threading.Lock()

    def line(self, source: str, message: str) -> None:
        if self.quiet:
            return
        with self._lock:
            style = self._styles.setdefault(
                source, self.COLOURS[len(self._styles) % len(self.COLOURS)]
            )
            text = Text(f"{source:>8} | ", style=style)
            # Children colour some lines themselves; rich keeps or drops that with its own styles.
            text.append_text(Text.from_ansi(message))
            self.console.print(text)


class Child:
    """A child process in its own process group, its output copied line by line to the log."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log: Log,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        show: Callable[[str], bool] | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log = log
        self.show = show  # which output lines reach the log; all are kept for failure reports
        self.recent: deque[str] = deque(maxlen=40)
        # A session of its own: Ctrl-C in the terminal reaches only the parent, which stops the
        # children in order; killpg then reaches every process the child started (gunicorn workers).
        self.process = subprocess.Popen(
            self.argv,
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.pid = self.process.pid
        self._reader = threading.Thread(target=self._copy_output, name=f"log-{name}", daemon=True)
        self._reader.start()

    def _copy_output(self) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            line = raw.decode("utf-8", "replace").rstrip()
            self.recent.append(line)
            if self.show is None or self.log.verbose or self.show(line):
                self.log.line(self.name, line)

    def running(self) -> bool:
        return self.process.poll() is None

    def terminate(self) -> None:
        """Ask the whole process group to stop (SIGTERM)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGTERM)

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM the process group, SIGKILL it after `timeout`, and reap the child."""
        self.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=timeout)
        # SIGKILL whatever is left: a master that ignored SIGTERM, or workers outliving it.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        self.process.wait()
        self._reader.join(timeout=2)
        if self.process.stdout is not None:
            self.process.stdout.close()

    def failure(self) -> str:
        tail = "\n".join(self.recent) or "(no output)"
        return f"{self.name} exited with code {self.process.returncode}; its last output:\n{tail}"


# The emulator's werkzeug banner and its access lines for requests that went well.
_EMULATOR_ROUTINE = re.compile(
    r'"[A-Z]+ \S+ HTTP/[\d.]+" [23]\d\d |^WARNING: This is a development server|'
    r"^ \* Running on |^Press CTRL\+C to quit"
)


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def emulator_line_worth_showing(line: str) -> bool:
    """Hide the emulator's routine output (one line per AWS call); keep errors and 4xx/5xx."""
    return not _EMULATOR_ROUTINE.search(_ANSI.sub("", line))


def stop_all(children: Sequence[Child], timeout: float = 5.0) -> None:
    """Stop children together: SIGTERM every group first, so their shutdowns overlap."""
    for child in children:
        child.terminate()
    for child in children:
        child.stop(timeout)


def wait_until_ok(
    url: str,
    child: Child | None,
    timeout: float,
    accept: Callable[[int], bool] = lambda status: status == 200,
    cancel: threading.Event | None = None,
) -> None:
    """Poll `url` until it answers an accepted status; fail early when `child` exits."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if cancel is not None and cancel.is_set():
            raise Interrupted("start-up interrupted")
        if child is not None and not child.running():
            raise StartupError(child.failure())
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
                if accept(response.status):
                    return
                last = f"HTTP {response.status}"
        except urllib.error.HTTPError as err:
            if accept(err.code):
                return
            last = f"HTTP {err.code}"
        except (urllib.error.URLError, OSError) as err:
            last = str(getattr(err, "reason", err))
        time.sleep(0.1)
    who = child.name if child is not None else url
    raise StartupError(f"{who} did not answer {url} within {timeout:.0f} s (last: {last})")
