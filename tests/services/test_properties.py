"""The property suites (tests/properties) straight against each service under gunicorn.

On a local stack of their own, so the before/after snapshots read only what these suites did.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from common.validation import json_body_limit
from files_service.models import FileRegister
from main_service.models import TodoCreate, TodoPatch

from scripts.local import sign_up
from scripts.local.stack import LocalStack
from tests.properties.suites import ApiProperties
from tests.properties.target import Emulator, Target, gateway_route, service_route
from tests.services.conftest import SERVICE_ENV, Api, running_stack


def seeded_target(stack: LocalStack, *, through_gateway: bool) -> Target:
    """Two users, todos, files and cursors in place on `stack`, and where to send requests:
    straight to each service's gunicorn, or to the local gateway that plays API Gateway."""
    api = Api(stack, sign_up(stack, "props@example.com"))
    other = Api(stack, sign_up(stack, "other@example.com"))
    todos = [
        api.create(title="with files", description="seed")["todoId"],
        api.create(title="due", dateDue="2030-01-31")["todoId"],
    ]
    api.patch(f"/todos/{todos[1]}", json={"completed": True})
    patched = api.create(title="changed by the suites")["todoId"]
    files = []
    for name in ("a.txt", "b.txt"):
        body = {"name": name, "contentType": "text/plain", "size": 2}
        registered = api.post(f"/todos/{todos[0]}/files", json=body).json()
        upload = registered["upload"]
        requests.post(upload["url"], data=upload["fields"], files={"file": b"ok"}, timeout=30)
        files.append(registered["file"]["fileId"])
    todo_cursor = api.get("/todos", params={"limit": 1}).json()["nextCursor"]
    file_cursor = api.get(f"/todos/{todos[0]}/files", params={"limit": 1}).json()["nextCursor"]
    if through_gateway:
        base_urls: tuple[str, ...] = (stack.api_url,)
        route = gateway_route(stack.api_url)
    else:
        base_urls = (stack.service_url("main"), stack.service_url("files"))
        route = service_route(stack.service_url("main"), stack.service_url("files"))
    return Target(
        base_urls=base_urls,
        route=route,
        headers=api.user.headers(),
        sub=api.user.sub,
        # The bucket is versioned, as core.yaml declares it: a stray delete leaves a marker.
        emulator=Emulator(
            stack.client("dynamodb"),
            stack.client("s3"),
            (stack.resources["TodosTable"], stack.resources["FilesTable"]),
            stack.resources["FilesBucket"],
        ),
        todo_ids=tuple(todos),
        patch_todo_id=patched,
        file=(todos[0], files[0]),
        foreign_todo_ids=(other.create(title="someone else's")["todoId"],),
        todo_cursor=todo_cursor,
        file_cursor=file_cursor,
        body_limits={
            "main": max(json_body_limit(TodoCreate), json_body_limit(TodoPatch)),
            "files": json_body_limit(FileRegister),
        },
        max_upload_bytes=int(SERVICE_ENV["MAX_UPLOAD_BYTES"]),
        gateway=through_gateway,
    )


@pytest.fixture(scope="module")
def target() -> Iterator[Target]:
    with running_stack() as stack:
        yield seeded_target(stack, through_gateway=False)


class TestStraightAtTheServices(ApiProperties):
    """Every property suite, each request sent straight to a service's gunicorn."""
