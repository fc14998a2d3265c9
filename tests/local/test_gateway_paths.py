"""Encoded paths through the gateway, as an HTTP API passes them on (docs/local.md).

The HTTP API decodes the path once, matches its routes against the decoded path and gives the
integration the decoded path; the services then decide what an ID may hold. Whatever the client
sends, the gateway answers in JSON and never with its own 5xx, and its log line stays one line.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any

import pytest

from scripts.local import LocalStack
from scripts.local.apigateway import RequestTarget
from scripts.local.users import User, sign_up
from tests.local.conftest import STACK_OUTPUT, RawResponse, raw_request


@pytest.fixture(scope="module")
def user(stack: LocalStack) -> User:
    return sign_up(stack)


def send(stack: LocalStack, user: User, target: bytes, method: str = "GET") -> RawResponse:
    return raw_request(stack.api_url, method, target, {"Authorization": f"Bearer {user.id_token}"})


def seen_by_service(response: RawResponse) -> dict[str, Any]:
    assert response.status == 200, response.body[:300]
    assert response.headers["Content-Type"] == "application/json"
    seen: dict[str, Any] = json.loads(response.body)
    return seen


@pytest.mark.parametrize(
    ("target", "service", "path", "wire"),
    [
        (b"/todos/%C3%A9", "main", "/todos/é", "/todos/%C3%A9"),
        ("/todos/é".encode(), "main", "/todos/é", "/todos/%C3%A9"),  # raw UTF-8 on the wire
        (b"/todos/%FF", "main", "/todos/\\xff", "/todos/%FF"),  # not UTF-8: kept as a byte
        (b"/todos/%00", "main", "/todos/\x00", "/todos/%00"),
        (b"/todos/%20", "main", "/todos/ ", "/todos/%20"),
        (b"/todos/a%0Ab", "main", "/todos/a\nb", "/todos/a%0Ab"),
        (b"/todos/a%25b", "main", "/todos/a%b", "/todos/a%25b"),
        # a decoded %2F is a path separator: the files rule takes it, as it takes /t1/files
        (b"/todos/t1%2Ffiles", "files", "/todos/t1/files", "/todos/t1/files"),
        # a decoded ? stays in the path: the service gets it, not a query string
        (b"/todos/t1%3Fx=1", "main", "/todos/t1?x=1", "/todos/t1%3Fx=1"),
        (b"/todos/t1%23top", "main", "/todos/t1#top", "/todos/t1%23top"),
    ],
)
def test_the_service_gets_the_decoded_path(
    stack: LocalStack, user: User, target: bytes, service: str, path: str, wire: str
) -> None:
    seen = seen_by_service(send(stack, user, target))
    assert (seen["service"], seen["path"], seen["rawUri"], seen["query"]) == (
        service,
        path,
        wire,
        "",
    )


def test_the_query_string_is_passed_on_as_it_came(stack: LocalStack, user: User) -> None:
    seen = seen_by_service(send(stack, user, b"/todos/t1?search=a%2Fb+c&x=%3F&y=\xc3\xa9"))
    assert seen["path"] == "/todos/t1"
    assert seen["query"] == "search=a%2Fb+c&x=%3F&y=%C3%A9"


@pytest.mark.parametrize("target", [b"/todos%2Ft1", b"/%74odos/t1"])
def test_routes_match_the_decoded_path(stack: LocalStack, user: User, target: bytes) -> None:
    seen = seen_by_service(send(stack, user, target))
    assert (seen["service"], seen["path"]) == ("main", "/todos/t1")


def test_paths_outside_the_routes_stay_api_gateways_404(stack: LocalStack, user: User) -> None:
    response = send(stack, user, b"/todo%73x/%FF")
    assert response.status == 404
    assert json.loads(response.body) == {"message": "Not Found"}


def test_a_newline_in_a_path_cannot_forge_a_log_line(stack: LocalStack, user: User) -> None:
    marker = f"/todos/forge-{uuid.uuid4().hex[:8]}"
    forged = "%0D%0A%20gateway%20|%20GET%20/todos%20200%201%20ms%1B[2K%E2%80%AE%5Cn"
    send(stack, user, (marker + forged).encode())
    lines: list[str] = []
    for _ in range(100):  # the line is written once the answer is closed, just after the client
        lines = [line for line in STACK_OUTPUT.getvalue().splitlines() if marker in line]
        if lines:
            break
        time.sleep(0.05)
    (line,) = lines
    assert line.startswith(f" gateway | GET {marker}\\r\\n gateway | GET /todos 200 1 ms")
    # escape, bidirectional override and a backslash the client sent, each shown escaped
    assert line.split(" ms", 1)[1].startswith("\\x1b[2K\\u202e\\\\n 200 ")
    assert " gateway | GET /todos 200 1 ms" not in STACK_OUTPUT.getvalue().splitlines()


@pytest.mark.parametrize(
    ("raw", "path", "query", "integration"),
    [
        (b"/todos/%C3%A9?a=%C3%A9", "/todos/é", "a=%C3%A9", "/todos/%C3%A9?a=%C3%A9"),
        (b"/todos/%e2%82%ac", "/todos/€", "", "/todos/%E2%82%AC"),
        (b"/todos/%zz%", "/todos/%zz%", "", "/todos/%25zz%25"),  # not an encoding: kept
        (b"/todos/a%2Fb%3F", "/todos/a/b?", "", "/todos/a/b%3F"),
        (b"/todos/x?q=a b", "/todos/x", "q=a b", "/todos/x?q=a%20b"),
        (b"/todos/x?q=#frag", "/todos/x", "q=#frag", "/todos/x?q=%23frag"),
        (b"http://api.example:443/todos/x?y=1", "/todos/x", "y=1", "/todos/x?y=1"),
        (b"/todos/\xff\x7f", "/todos/\udcff\x7f", "", "/todos/%FF%7F"),
    ],
)
def test_request_targets_are_read_once_and_written_back_safely(
    raw: bytes, path: str, query: str, integration: str
) -> None:
    target = RequestTarget.parse(raw)
    assert (target.path, target.query, target.integration_target) == (path, query, integration)
    assert re.fullmatch(r"[!-~]+", target.integration_target)  # printable ASCII only
