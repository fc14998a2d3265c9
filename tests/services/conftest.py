"""One local stack (emulator, the template's resources, both services under gunicorn) for the
whole session, on 127.0.0.1; the tests call the services directly, as the load balancer would."""

from __future__ import annotations

import itertools
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from scripts.local import LocalStack, Log, Ports, User, sign_up
from scripts.local.stack import ROOT

APP = ROOT / "app"

# The web-layer unit tests import the services as their container does: from app/.
if str(APP) not in sys.path:
    sys.path.insert(0, str(APP))

# Small AWS timeouts and retries keep the outage test fast; the call counter is test-only.
SERVICE_ENV = {
    "EXPOSE_AWS_CALLS": "1",
    "AWS_CONNECT_TIMEOUT": "0.5",
    "AWS_READ_TIMEOUT": "3",
    "AWS_MAX_ATTEMPTS": "2",
    "MAX_UPLOAD_BYTES": "1048576",
    "LOG_LEVEL": "WARNING",
}
_emails = (f"user{n}@example.com" for n in itertools.count())


@dataclass
class Api:
    """A user's view of the API: calls the right service like the load balancer would."""

    stack: LocalStack
    user: User

    def url(self, path: str) -> str:
        service = "files" if "/files" in path else "main"
        return self.stack.service_url(service) + path

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {**self.user.headers(), **kwargs.pop("headers", {})}
        return requests.request(method, self.url(path), headers=headers, timeout=30, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("POST", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("DELETE", path, **kwargs)

    def create(self, **fields: Any) -> dict[str, Any]:
        response = self.post("/todos", json={"title": "a todo", **fields})
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        return body

    def all_todos(self, **params: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        cursor = ""
        while True:
            response = self.get("/todos", params={**params, "cursor": cursor})
            assert response.status_code == 200, response.text
            page = response.json()
            items += page["items"]
            cursor = page["nextCursor"]
            if cursor is None:
                return items


def unknown_todo_id() -> str:
    """A well-formed todo ID (UUIDv7) that names no todo."""
    from common.ids import new_todo_id

    todo_id: str = new_todo_id()
    return todo_id


def aws_calls(response: requests.Response) -> dict[str, int]:
    """The AWS API calls the service process made for this request (botocore before-call)."""
    counts: dict[str, int] = json.loads(response.headers["X-Aws-Calls"])
    return counts


def running_stack() -> LocalStack:
    """The local stack as the services' tests run it: every port free, quiet, SERVICE_ENV."""
    return LocalStack(
        Ports(site=0, api=0, emulator=0), log=Log(quiet=True), service_env=SERVICE_ENV
    )


@pytest.fixture(scope="session")
def stack() -> Iterator[LocalStack]:
    with running_stack() as running:
        yield running


def new_user(stack: LocalStack) -> User:
    return sign_up(stack, next(_emails))


@pytest.fixture
def api(stack: LocalStack) -> Api:
    """A fresh user per test: tests never see each other's todos."""
    return Api(stack, new_user(stack))


@pytest.fixture
def other(stack: LocalStack) -> Api:
    """A second user, to attack the first one's IDs."""
    return Api(stack, new_user(stack))
