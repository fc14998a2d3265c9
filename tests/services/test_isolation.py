"""Two users: B tries every route with A's IDs; every attempt is a 404 and changes nothing."""

from __future__ import annotations

from typing import Any

import requests

from scripts.local import LocalStack
from tests.services.conftest import Api


def snapshot(api: Api, todo_id: str) -> tuple[Any, Any, list[str]]:
    todo = api.get(f"/todos/{todo_id}").json()
    files = api.get(f"/todos/{todo_id}/files").json()["items"]
    return (
        todo,
        [{k: v for k, v in f.items() if k != "downloadUrl"} for f in files],
        [t["todoId"] for t in api.all_todos()],
    )


def test_another_user_gets_404_everywhere_and_changes_nothing(
    api: Api, other: Api, stack: LocalStack
) -> None:
    todo = api.create(title="mine", description="private")
    todo_id = todo["todoId"]
    registered = api.post(
        f"/todos/{todo_id}/files", json={"name": "a.txt", "contentType": "text/plain", "size": 3}
    ).json()
    upload = registered["upload"]
    requests.post(upload["url"], data=upload["fields"], files={"file": b"abc"}, timeout=30)
    file_id = registered["file"]["fileId"]
    before = snapshot(api, todo_id)
    own_todo = other.create(title="theirs")["todoId"]

    attempts = [
        other.get(f"/todos/{todo_id}"),
        other.patch(f"/todos/{todo_id}", json={"title": "stolen"}),
        other.patch(f"/todos/{todo_id}", json={"completed": True}),
        other.delete(f"/todos/{todo_id}"),
        other.get(f"/todos/{todo_id}/files"),
        other.post(
            f"/todos/{todo_id}/files",
            json={"name": "x.txt", "contentType": "text/plain", "size": 1},
        ),
        other.delete(f"/todos/{todo_id}/files/{file_id}"),
        # A's file ID under B's own todo.
        other.delete(f"/todos/{own_todo}/files/{file_id}"),
    ]
    for response in attempts:
        assert response.status_code == 404, (response.request.method, response.url, response.text)
        assert response.json() == {
            "error": {"code": "not_found", "message": response.json()["error"]["message"]}
        }
    # The answer is the same as for an ID that does not exist at all.
    assert (
        attempts[0].json() == other.get("/todos/" + "0" * 8 + "-0000-7000-8000-" + "0" * 12).json()
    )

    assert [t["todoId"] for t in other.all_todos()] == [own_todo]
    assert other.all_todos(search="mine") == []
    assert snapshot(api, todo_id) == before
    s3 = stack.client("s3")
    key = f"{api.user.sub}/{todo_id}/{file_id}"
    assert s3.get_object(Bucket=stack.resources["FilesBucket"], Key=key)["Body"].read() == b"abc"
    # Identity never comes from a header the client can set.
    spoofed = other.get(f"/todos/{todo_id}", headers={"x-user-sub": api.user.sub})
    assert spoofed.status_code == 404
