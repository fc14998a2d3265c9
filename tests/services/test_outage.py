"""AWS unreachable: answers are 503 with Retry-After, never 500; service resumes when it's back."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests

from scripts.local import LocalStack, sign_up
from tests.services.conftest import Api, running_stack


@pytest.fixture(scope="module")
def own_stack() -> Iterator[LocalStack]:
    # Its own emulator: stopping it must not disturb the session's stack.
    with running_stack() as running:
        yield running


def test_emulator_outage_answers_503_then_recovers(own_stack: LocalStack) -> None:
    api = Api(own_stack, sign_up(own_stack, "outage@example.com"))
    todo_id = api.create(title="before the outage")["todoId"]
    assert api.get("/todos").status_code == 200  # keys fetched and cached while AWS is up

    own_stack.emulator.stop()
    assert own_stack.services["main"].child.process.poll() is None  # the services run on
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
        health = requests.get(own_stack.service_url(service) + "/health", timeout=5)
        assert health.status_code == 200

    # Back on the same port; moto keeps no state, so the resources are created again.
    own_stack.emulator.start()
    own_stack.create_resources()
    # A worker that had no keys yet tried to fetch them during the outage: it tries again once
    # the Retry-After it answered has passed, as a client that follows it would.
    from common.errors import RETRY_AFTER_SECONDS

    time.sleep(RETRY_AFTER_SECONDS)
    created = api.post("/todos", json={"title": "after the outage"})
    assert created.status_code == 201, created.text
    assert [t["title"] for t in api.all_todos()] == ["after the outage"]
