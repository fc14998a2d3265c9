"""AWS unreachable: answers are 503 with Retry-After, never 500; service resumes when it's back."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests

from scripts.servicerun import Stack, create_resources, create_user, running_stack
from tests.services.conftest import SERVICE_ENV, Api


@pytest.fixture(scope="module")
def own_stack() -> Iterator[Stack]:
    # Its own emulator: stopping it must not disturb the session's stack.
    with running_stack(SERVICE_ENV) as running:
        yield running


def test_emulator_outage_answers_503_then_recovers(own_stack: Stack) -> None:
    api = Api(own_stack, create_user(own_stack.moto, own_stack.resources, "outage@example.com"))
    todo_id = api.create(title="before the outage")["todoId"]
    assert api.get("/todos").status_code == 200  # keys fetched and cached while AWS is up

    own_stack.moto.stop()
    attempts = [
        api.get("/todos"),
        api.post("/todos", json={"title": "during"}),
        api.get(f"/todos/{todo_id}"),
        api.patch(f"/todos/{todo_id}", json={"completed": True}),
        api.delete(f"/todos/{todo_id}"),
        api.get(f"/todos/{todo_id}/files"),
        api.post(
            f"/todos/{todo_id}/files", json={"name": "a", "contentType": "text/plain", "size": 1}
        ),
    ]
    for response in attempts:
        assert response.status_code == 503, (response.request.method, response.url, response.text)
        assert int(response.headers["Retry-After"]) >= 1
        assert response.json()["error"]["code"] == "unavailable"
        assert "Traceback" not in response.text
    for service in ("main", "files"):
        health = requests.get(own_stack.url(service) + "/health", timeout=5)
        assert health.status_code == 200

    # Back on the same port; moto keeps no state, so the resources are created again.
    own_stack.moto.start()
    create_resources(own_stack.moto, own_stack.resources)
    # A worker that had no keys yet tried to fetch them during the outage: it tries again once
    # the Retry-After it answered has passed, as a client that follows it would.
    from common.errors import RETRY_AFTER_SECONDS

    time.sleep(RETRY_AFTER_SECONDS)
    created = api.post("/todos", json={"title": "after the outage"})
    assert created.status_code == 201, created.text
    assert [t["title"] for t in api.all_todos()] == ["after the outage"]
