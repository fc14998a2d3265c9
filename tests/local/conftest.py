"""Fixtures: the local stack on a small fixture repository (tests/local/fixture) and its users."""

from __future__ import annotations

import http.client
import io
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from rich.console import Console

from scripts.local import LocalStack, Log, Ports

FIXTURE = Path(__file__).parent / "fixture"
ROOT = Path(__file__).resolve().parents[2]
# Everything the fixture stack prints (gateway lines included), for the tests that read it.
STACK_OUTPUT = io.StringIO()


@pytest.fixture(scope="session")
def stack() -> Iterator[LocalStack]:
    """The local stack on the fixture repository: echo services instead of the app's."""
    console = Console(file=STACK_OUTPUT, width=400, soft_wrap=True, color_system=None)
    with LocalStack(
        Ports(site=0, api=0, emulator=0),
        root=FIXTURE,
        website_template=ROOT / "templates" / "website.yaml",
        log=Log(console),
    ) as running:
        yield running


@dataclass(frozen=True)
class RawResponse:
    status: int
    headers: http.client.HTTPMessage
    body: bytes


def raw_request(
    url: str,
    method: str,
    target: bytes,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
) -> RawResponse:
    """Send a request line byte for byte (an HTTP library would encode or refuse the target)."""
    where = urlsplit(url)
    lines = [method.encode() + b" " + target + b" HTTP/1.1", f"Host: {where.netloc}".encode()]
    lines += [f"{name}: {value}".encode() for name, value in (headers or {}).items()]
    lines += [f"Content-Length: {len(body)}".encode(), b"Connection: close"]
    with socket.create_connection((where.hostname, where.port), timeout=30) as sock:
        sock.sendall(b"\r\n".join(lines) + b"\r\n\r\n" + body)
        response = http.client.HTTPResponse(sock, method=method)
        response.begin()
        return RawResponse(response.status, response.headers, response.read())


def group_alive(pgid: int) -> bool:
    """Whether any process of the group is left (each child of the stack leads its own)."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True
