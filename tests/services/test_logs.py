"""Every line a service process writes is one record: a path, a header or an error message
cannot start a line of its own, and no control character reaches the terminal or log shipper."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import requests

from scripts.local import LocalStack
from scripts.local.processes import free_port, wait_until_ok
from scripts.local.services import local_command
from tests.services.conftest import APP, Api

FORGED = '{"level": "INFO", "message": "forged"}'
# gunicorn's own format: "[2030-01-31 12:00:00 +0000] [123] [INFO] Booting worker with pid: 124"
GUNICORN_LINE = re.compile(r"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}\] \[\d+\] \[[A-Z]+\] .*")
# C0 and C1 controls, DEL, and the separators str.splitlines() and many viewers break lines on.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Decoded in the path, each is a line break, a control character or a line separator.
HOSTILE = ["%0A", "%0D", "%0D%0A", "%1B%5B31m", "%7F", "%C2%85", "%E2%80%A8", "%00", "%08"]


@pytest.fixture(scope="module")
def logged(
    stack: LocalStack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    """The main service once more, at INFO, with every byte it writes kept in a file."""
    service = stack.description.service("main")
    port = free_port()
    env = {**stack.service_environment(service, port), "LOG_LEVEL": "INFO"}
    path = tmp_path_factory.mktemp("logs") / "main.log"
    with path.open("wb") as log:
        process = subprocess.Popen(
            local_command(list(service.command)),
            cwd=APP,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            wait_until_ok(f"{url}/health", None, 60)
            yield url, path
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)


def raw_request(url: str, request_line: bytes) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(request_line + b"\r\nHost: x\r\nConnection: close\r\n\r\n")
        return connection.recv(100)


def test_no_input_forges_or_breaks_a_log_line(api: Api, logged: tuple[str, Path]) -> None:
    url, path = logged
    paths = []
    for hostile in HOSTILE:
        paths.append(f"/todos/{hostile}{quote(FORGED, safe='')}")
        paths.append(f"/todos?search={hostile}")
    for sent in paths:
        response = requests.get(url + sent, headers=api.user.headers(), timeout=30)
        assert response.status_code < 500, (sent, response.text)
    # Request lines gunicorn refuses before the app sees them: it logs why.
    for request_line in (b"GET /todos/\x1b[31mred HTTP/1.1", b"GET /todos/a\x7fb HTTP/1.1"):
        assert raw_request(url, request_line).startswith(b"HTTP/1.1 400")
    time.sleep(0.5)  # the log lines are written after the answers

    lines = path.read_bytes().decode().split("\n")
    assert lines[-1] == ""
    records = []
    for line in lines[:-1]:
        assert not CONTROL.search(line), repr(line)
        if line.startswith("{"):
            records.append(json.loads(line))
        else:
            assert GUNICORN_LINE.fullmatch(line), repr(line)
    assert not any(record.get("message") == "forged" for record in records)
    logged_paths = [r["path"] for r in records if r.get("logger") == "app.request"]
    # Escaped, not lost: each record holds the exact decoded path.
    assert "/todos/\n" + FORGED in logged_paths
    assert "/todos/\x7f" + FORGED in logged_paths
    assert any("Invalid request from ip=" in line for line in lines)


def test_gunicorn_tracebacks_are_one_line(tmp_path: Path) -> None:
    """gunicorn logs an error it cannot hand to the app with a multi-line traceback."""
    script = (
        "from gunicorn.config import Config\n"
        "from common.gunicorn_log import OneLineLogger\n"
        "log = OneLineLogger(Config())\n"
        "try:\n"
        "    raise ValueError('first line\\nforged line')\n"
        "except ValueError:\n"
        "    log.exception('Error handling request %s', '/todos/x\\r\\ny')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=APP,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    lines = result.stderr.split("\n")
    assert lines[1:] == [""], result.stderr
    assert GUNICORN_LINE.fullmatch(lines[0]), lines[0]
    assert "/todos/x\\r\\ny" in lines[0]
    assert "ValueError: first line\\nforged line" in lines[0]
