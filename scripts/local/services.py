"""Run an app service with the command its container runs (the Dockerfile's CMD)."""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

from scripts.local.processes import StartupError


def dockerfile_cmd(dockerfile: Path) -> list[str]:
    """The exec-form CMD of a Dockerfile (the last CMD wins, as in Docker)."""
    if not dockerfile.is_file():
        raise StartupError(f"{dockerfile} does not exist")
    text = re.sub(r"\\\r?\n", " ", dockerfile.read_text(encoding="utf-8"))
    commands = [
        line.strip()[3:].strip()
        for line in text.splitlines()
        if re.match(r"\s*CMD\s", line, re.IGNORECASE)
    ]
    if not commands:
        raise StartupError(f"{dockerfile} has no CMD")
    try:
        argv = json.loads(commands[-1])
    except json.JSONDecodeError as err:
        raise StartupError(
            f"{dockerfile}: CMD must be a JSON array (exec form) for the local stack to run it"
        ) from err
    if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
        raise StartupError(f"{dockerfile}: CMD must be a non-empty JSON array of strings")
    return argv


def _executable(name: str) -> str:
    """A console script of this interpreter's environment first, then PATH."""
    beside = Path(sys.executable).with_name(name)
    if beside.is_file():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise StartupError(f"{name} is not installed in this environment (run `make venv`)")
    return found


def local_command(cmd: list[str]) -> list[str]:
    """The container's command, as written, minus any listening address.

    In its container a service binds 0.0.0.0:$PORT inside its own network namespace; on one machine
    each service needs a port of its own, and only the gateway should be reachable. The local
    address goes in through GUNICORN_CMD_ARGS (see `gunicorn_settings`), which outranks gunicorn's
    config file; an address written in the command itself would outrank it, so it is dropped.
    """
    argv = [_executable(cmd[0]) if "/" not in cmd[0] else cmd[0]]
    skip = False
    for arg in cmd[1:]:
        if skip:
            skip = False
            continue
        if arg in ("-b", "--bind"):
            skip = True
            continue
        if arg.startswith("--bind=") or (arg.startswith("-b") and len(arg) > 2):
            continue
        argv.append(arg)
    return argv


def gunicorn_settings(host: str, port: int) -> str:
    """GUNICORN_CMD_ARGS for a local service: its own address (it outranks gunicorn.conf.py).

    gunicorn.conf.py turns gunicorn's control socket off, so two services on one machine do not
    take its per-user default path from each other.
    """
    return f"--bind {host}:{port}"
