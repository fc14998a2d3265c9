"""Request bodies through the gateway: an HTTP API takes payloads up to 10 MB, and a service's own
413 reaches the client even when the service answers before it has read the body."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from scripts.local import LocalStack
from scripts.local.gateway import MAX_PAYLOAD_BYTES
from scripts.local.users import User, sign_up


@pytest.fixture(scope="module")
def user(stack: LocalStack) -> User:
    return sign_up(stack)


def patch(
    stack: LocalStack, user: User, path: str, body: bytes | Iterator[bytes]
) -> requests.Response:
    return requests.patch(
        stack.api_url + path,
        data=body,
        headers={"Authorization": f"Bearer {user.id_token}", "Content-Type": "application/json"},
        timeout=60,
    )


def test_a_service_refusing_a_body_unread_is_heard(stack: LocalStack, user: User) -> None:
    # The service answers 413 at once and closes while the gateway is still sending: the client
    # gets that answer, as API Gateway passes an integration's answer on, never a 503.
    body = b"x" * (5 * 1024 * 1024)
    for _ in range(5):
        response = patch(stack, user, "/todos/t1/refuse-large", body)
        assert response.status_code == 413
        assert response.json() == {
            "error": {"code": "too_large", "message": "body over 1024 bytes"}
        }


def test_a_small_body_still_reaches_that_service(stack: LocalStack, user: User) -> None:
    response = patch(stack, user, "/todos/t1/refuse-large", b'{"title": "x"}')
    assert response.status_code == 200
    assert response.json()["body"] == '{"title": "x"}'


def test_payloads_up_to_ten_megabytes_reach_the_service(stack: LocalStack, user: User) -> None:
    response = patch(stack, user, "/todos/t1", b"x" * MAX_PAYLOAD_BYTES)
    assert response.status_code == 200
    assert response.json()["bodyLength"] == MAX_PAYLOAD_BYTES == 10 * 1024 * 1024


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_larger_payload_gets_api_gateways_413(
    stack: LocalStack, user: User, chunked: bool
) -> None:
    body = b"x" * (MAX_PAYLOAD_BYTES + 1)
    response = patch(stack, user, "/todos/t1", iter([body]) if chunked else body)
    assert response.status_code == 413
    assert response.json() == {"message": "Request Entity Too Large"}
