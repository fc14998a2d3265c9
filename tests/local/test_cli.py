"""`python -m scripts.local`: usage errors, busy ports, start-up, Ctrl-C and its exit codes."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from scripts.local.processes import ensure_port_free, free_port
from tests.local.conftest import FIXTURE, ROOT


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scripts.local", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def busy_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield int(listener.getsockname()[1])


@pytest.mark.parametrize(
    ("args", "env"),
    [(["--port", "web"], {}), (["--emulator-port", "70000"], {}), ([], {"TODO_PORT": "x"})],
)
def test_usage_errors_exit_2(args: list[str], env: dict[str, str]) -> None:
    result = run(*args, env=env)
    assert result.returncode == 2
    assert "usage: python -m scripts.local" in result.stderr


@pytest.mark.parametrize(
    ("flag", "variable", "what"),
    [
        ("--port", "TODO_PORT", "the website"),
        ("--api-port", "TODO_API_PORT", "the API"),
        ("--emulator-port", "TODO_EMULATOR_PORT", "the AWS emulator"),
    ],
)
def test_a_busy_port_is_named_with_the_way_to_change_it(
    busy_port: int, flag: str, variable: str, what: str
) -> None:
    ports = {"--port": "0", "--api-port": "0", "--emulator-port": "0", flag: str(busy_port)}
    result = run(*[item for pair in ports.items() for item in pair], "--root", str(FIXTURE))
    assert result.returncode == 1
    message = result.stderr.strip()
    assert message == (
        f"make up: port {busy_port} on 127.0.0.1 ({what}) is already in use; stop whatever "
        f"uses it or choose another port with {flag} PORT or {variable}=PORT"
    )


def test_busy_port_from_the_environment(busy_port: int) -> None:
    env = {"TODO_PORT": "0", "TODO_API_PORT": "0", "TODO_EMULATOR_PORT": str(busy_port)}
    result = run("--root", str(FIXTURE), env=env)
    assert result.returncode == 1
    assert f"port {busy_port} on 127.0.0.1 (the AWS emulator) is already in use" in result.stderr


def test_a_broken_template_fails_start_up_naming_the_resource(tmp_path: Path) -> None:
    (tmp_path / "templates").mkdir()
    text = (FIXTURE / "templates" / "core.yaml").read_text()
    broken = text.replace("Fn::Sub: ${AWS::StackName}-files", "Fn::GetAZs: ''")
    assert broken != text
    (tmp_path / "templates" / "core.yaml").write_text(broken)
    result = run("--port", "0", "--api-port", "0", "--emulator-port", "0", "--root", str(tmp_path))
    assert result.returncode == 1
    assert "Resources.FilesTable.Properties.TableName" in result.stderr
    assert "Fn::GetAZs is not supported by the local stack" in result.stderr


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_prints_one_url_and_stops_everything_on_a_signal(sig: signal.Signals) -> None:
    site, emulator = free_port(), free_port()
    api = free_port()
    ports = ["--port", str(site), "--api-port", str(api), "--emulator-port", str(emulator)]
    process = subprocess.Popen(
        [sys.executable, "-m", "scripts.local", *ports, "--root", str(FIXTURE)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        lines.append(line)
        if "running at" in line or not line:
            break
    urls = re.findall(r"The to-do app is running at (\S+)", "".join(lines))
    assert urls == [f"http://127.0.0.1:{site}"], "".join(lines)
    assert requests.get(urls[0] + "/config.js", timeout=10).status_code == 200
    pids = [int(p) for p in re.findall(r"\[(\d+)\] \[INFO\] Booting worker", "".join(lines))]
    process.send_signal(sig)
    out, _ = process.communicate(timeout=30)
    assert process.returncode == 0, out
    assert "stopping" in out
    assert pids
    assert not [pid for pid in pids if _alive(pid)]
    for port in (site, api, emulator):
        ensure_port_free("127.0.0.1", port, "a port of the stopped stack", "-", "-")


def _processes_with(argument: str) -> list[int]:
    """PIDs whose command line contains `argument` (Linux /proc; no psutil)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if argument.encode() in argv:
                found.append(int(entry.name))
    return found


def test_ctrl_c_during_start_up_stops_cleanly() -> None:
    emulator = free_port()
    ports = ["--port", "0", "--api-port", "0", "--emulator-port", str(emulator)]
    # --verbose: the emulator's first line of output is the moment to press Ctrl-C.
    process = subprocess.Popen(
        [sys.executable, "-m", "scripts.local", *ports, "--verbose", "--root", str(FIXTURE)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    assert first.strip().startswith("emulator |"), first
    assert _processes_with(str(emulator))  # the emulator runs
    process.send_signal(signal.SIGINT)
    out, _ = process.communicate(timeout=30)
    assert process.returncode == 0, out
    assert "running at" not in out
    assert _processes_with(str(emulator)) == []
    ensure_port_free("127.0.0.1", emulator, "the emulator", "-", "-")
