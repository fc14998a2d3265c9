"""Attachments over HTTP: register, upload to the presigned POST, download, delete."""

from __future__ import annotations

import base64
import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import pytest
import requests

from scripts.local import LocalStack
from tests.services.conftest import Api, aws_calls, unknown_todo_id


def register(
    api: Api, todo_id: str, params: dict[str, str] | None = None, **fields: Any
) -> requests.Response:
    body = {"name": "report.pdf", "contentType": "application/pdf", "size": 11, **fields}
    return api.post(f"/todos/{todo_id}/files", json=body, params=params)


def upload(registered: dict[str, Any], content: bytes, content_type: str) -> requests.Response:
    target = registered["upload"]
    return requests.post(
        target["url"],
        data=target["fields"],
        files={"file": ("ignored-name", content, content_type)},
        timeout=30,
    )


def test_register_upload_list_download_delete(api: Api, stack: LocalStack) -> None:
    todo = api.create(title="with files")
    response = register(api, todo["todoId"], name='näme "1".txt', contentType="text/plain")
    assert response.status_code == 201, response.text
    registered = response.json()
    file = registered["file"]
    assert file["todoId"] == todo["todoId"]
    assert uuid.UUID(file["fileId"]).version == 4
    assert registered["upload"]["fields"]["key"] == (
        f"{api.user.sub}/{todo['todoId']}/{file['fileId']}"
    )
    assert upload(registered, b"hello world", "text/plain").status_code in (200, 201, 204)

    listed = api.get(f"/todos/{todo['todoId']}/files").json()
    assert [f["fileId"] for f in listed["items"]] == [file["fileId"]]
    url = listed["items"][0]["downloadUrl"]
    query = parse_qs(urlparse(url).query)
    assert query["X-Amz-Expires"] == ["300"]
    disposition = query["response-content-disposition"][0]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''n%C3%A4me%20%221%22.txt" in disposition
    download = requests.get(url, timeout=30)
    assert download.status_code == 200
    assert download.content == b"hello world"
    assert download.headers["Content-Disposition"].startswith("attachment;")

    deleted = api.delete(f"/todos/{todo['todoId']}/files/{file['fileId']}")
    assert deleted.status_code == 204
    assert api.get(f"/todos/{todo['todoId']}/files").json()["items"] == []
    s3 = stack.client("s3")
    listing = s3.list_objects_v2(Bucket=stack.resources["FilesBucket"], Prefix=api.user.sub)
    assert listing.get("KeyCount", 0) == 0
    again = api.delete(f"/todos/{todo['todoId']}/files/{file['fileId']}")
    assert again.status_code == 404


def test_presigned_post_policy_pins_key_type_and_size(api: Api) -> None:
    todo = api.create()
    before = datetime.now(UTC)
    registered = register(api, todo["todoId"], contentType="image/png", size=1234).json()
    fields = registered["upload"]["fields"]
    policy = json.loads(base64.b64decode(fields["policy"]))
    conditions = policy["conditions"]
    key = f"{api.user.sub}/{todo['todoId']}/{registered['file']['fileId']}"
    assert {"key": key} in conditions
    assert {"Content-Type": "image/png"} in conditions
    assert ["content-length-range", 1234, 1234] in conditions
    assert fields["Content-Type"] == "image/png"
    assert registered["upload"]["maxBytes"] == 1234
    expires = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    assert 0 < (expires - before).total_seconds() <= 301
    # No condition leaves the key, type or size open (no starts-with).
    assert not [c for c in conditions if isinstance(c, list) and c[0] == "starts-with"]


@pytest.mark.parametrize(
    ("fields", "status", "field"),
    [
        ({"size": 0}, 400, "size"),
        ({"size": "12"}, 400, "size"),
        ({"size": 1048577}, 413, "size"),
        ({"name": ""}, 400, "name"),
        ({"name": "a/b.txt"}, 400, "name"),
        ({"name": "nul\u0000.txt"}, 400, "name"),
        ({"name": "x" * 256}, 400, "name"),
        ({"contentType": "text"}, 400, "contentType"),
        ({"contentType": "text/plain; charset=utf-8"}, 400, "contentType"),
        ({"extra": 1}, 400, "extra"),
    ],
)
def test_register_validation(api: Api, fields: dict[str, Any], status: int, field: str) -> None:
    todo = api.create()
    response = register(api, todo["todoId"], **fields)
    assert response.status_code == status, response.text
    assert response.json()["error"]["field"] == field
    assert api.get(f"/todos/{todo['todoId']}/files").json()["items"] == []


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"name": "a/b.txt"}, "name: must not contain a slash or a NUL character"),
        ({"name": "a\u0000b.txt"}, "name: must not contain a slash or a NUL character"),
        ({"contentType": "text"}, "contentType: must be a MIME type such as image/png"),
    ],
)
def test_refusals_are_in_plain_words(api: Api, fields: dict[str, Any], says: str) -> None:
    response = register(api, api.create()["todoId"], **fields)
    assert response.status_code == 400, response.text
    message = response.json()["error"]["message"]
    assert message.startswith(says), message
    assert "pattern" not in message


# Names that some file system allows, so a browser may hand them over as File.name.
LEGAL_NAMES = [
    "report\\2024.txt",
    "line\nbreak.txt",
    "carriage\rreturn\r\n.txt",
    "tab\there.txt",
    "bell\u0007 and escape\u001b[31m.txt",
    "del\u007f.txt",
    'quote " semicolon ; comma , equals = .txt',
    "percent %41 %zz %.txt",
    "=?utf-8?q?encoded?=.txt",
    "n\u00e4me \U0001f600 \u202etxt.exe",
    "  spaced out  ",
    "\u00e9" * 255,
]


def disposition_filename(header: str) -> tuple[str, str]:
    """(fallback, exact) from an RFC 6266 header with `filename` and RFC 5987 `filename*`."""
    match = re.fullmatch(r'attachment; filename="([^"\\]*)"; filename\*=UTF-8\'\'([!-~]*)', header)
    assert match, header
    return match[1], unquote(match[2], errors="strict")


@pytest.mark.parametrize("name", LEGAL_NAMES, ids=range(len(LEGAL_NAMES)))
def test_legal_file_names_are_accepted_and_downloaded_under_their_exact_name(
    api: Api, name: str
) -> None:
    todo_id = api.create()["todoId"]
    response = register(api, todo_id, name=name, contentType="text/plain", size=2)
    assert response.status_code == 201, response.text
    assert response.json()["file"]["name"] == name
    assert upload(response.json(), b"ok", "text/plain").status_code in (200, 201, 204)

    listed = api.get(f"/todos/{todo_id}/files").json()["items"]
    assert [f["name"] for f in listed] == [name]
    download = requests.get(listed[0]["downloadUrl"], timeout=30)
    assert download.status_code == 200
    assert download.content == b"ok"
    header = download.headers["Content-Disposition"]
    # One header line of printable ASCII: no name can add a header or end the response head.
    assert all(" " <= c <= "~" for c in header), header
    fallback, exact = disposition_filename(header)
    assert exact == name
    assert len(fallback) == len(name)
    assert not re.search(r"%[0-9A-Fa-f]{2}", fallback)  # RFC 6266 appendix D


def test_files_of_a_missing_or_malformed_todo_are_404(api: Api) -> None:
    for todo_id in (str(uuid.uuid4()), "nope", "01a200fd-ebbb-7b02-982d-0f9e8bce391c"):
        assert api.get(f"/todos/{todo_id}/files").status_code == 404
        assert register(api, todo_id).status_code == 404
        assert api.delete(f"/todos/{todo_id}/files/{uuid.uuid4()}").status_code == 404
    todo = api.create()
    assert api.delete(f"/todos/{todo['todoId']}/files/not-a-uuid").status_code == 404
    assert api.delete(f"/todos/{todo['todoId']}/files/{uuid.uuid4()}").status_code == 404


def file_records(stack: LocalStack, todo_id: str) -> int:
    found = stack.client("dynamodb").query(
        TableName=stack.resources["FilesTable"],
        KeyConditionExpression="todoID = :t",
        ExpressionAttributeValues={":t": {"S": todo_id}},
        Select="COUNT",
        ConsistentRead=True,
    )
    count: int = found["Count"]
    return count


def test_a_todo_being_deleted_takes_no_new_file(api: Api, stack: LocalStack) -> None:
    """The race with DELETE /todos/{id}: once the todo is marked, no record can land."""
    todo_id = api.create()["todoId"]
    assert register(api, todo_id).status_code == 201
    assert file_records(stack, todo_id) == 1
    # Exactly what the todo's DELETE does first, before it sweeps objects and records.
    stack.client("dynamodb").update_item(
        TableName=stack.resources["TodosTable"],
        Key={"userID": {"S": api.user.sub}, "todoID": {"S": todo_id}},
        UpdateExpression="SET deleting = :now REMOVE listKey",
        ExpressionAttributeValues={":now": {"S": "2030-01-01T00:00:00.000Z"}},
    )
    late = register(api, todo_id)
    assert late.status_code == 404, late.text
    assert aws_calls(late) == {"DynamoDB.TransactWriteItems": 1}
    # Answered exactly like a todo that never existed, and nothing was written.
    assert late.json() == register(api, unknown_todo_id()).json()
    assert file_records(stack, todo_id) == 1


def test_file_list_pages(api: Api) -> None:
    todo = api.create()
    ids = {register(api, todo["todoId"]).json()["file"]["fileId"] for _ in range(5)}
    seen: list[str] = []
    cursor = ""
    while True:
        page = api.get(f"/todos/{todo['todoId']}/files", params={"limit": 2, "cursor": cursor})
        assert page.status_code == 200, page.text
        seen += [f["fileId"] for f in page.json()["items"]]
        cursor = page.json()["nextCursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids)
    assert api.get(f"/todos/{todo['todoId']}/files", params={"cursor": "bad"}).status_code == 400
    other_todo = api.create()
    first = api.get(f"/todos/{todo['todoId']}/files", params={"limit": 2}).json()["nextCursor"]
    reused = api.get(f"/todos/{other_todo['todoId']}/files", params={"cursor": first})
    assert reused.status_code == 400


def test_unknown_query_parameters_are_refused_on_every_route(api: Api, stack: LocalStack) -> None:
    """docs/services.md: unknown query parameters are rejected, on every route alike."""
    todo = api.create(title="query")
    todo_id = todo["todoId"]
    registered = register(api, todo_id).json()["file"]
    file_id = registered["fileId"]
    before = (api.all_todos(), api.get(f"/todos/{todo_id}/files").json()["items"])
    attempts = [
        api.get(f"/todos/{todo_id}", params={"x": "1"}),
        api.patch(f"/todos/{todo_id}", params={"x": "1"}, json={"completed": True}),
        api.delete(f"/todos/{todo_id}", params={"force": "1"}),
        api.post("/todos", params={"x": "1"}, json={"title": "not created"}),
        api.get("/todos", params={"x": "1"}),
        api.get(f"/todos/{todo_id}/files", params={"x": "1"}),
        register(api, todo_id, params={"x": "1"}),
        api.delete(f"/todos/{todo_id}/files/{file_id}", params={"x": "1"}),
        api.get("/todos", params={"limit": "2", "": "1"}),
    ]
    twice = api.get("/todos", params=[("limit", "1"), ("limit", "0")])
    assert twice.status_code == 400, twice.text
    assert twice.json()["error"] == {
        "code": "invalid_request",
        "message": "limit: given more than once",
        "field": "limit",
    }
    for service in ("main", "files"):
        for path in ("/health", "/openapi.json"):
            attempts.append(
                requests.get(stack.service_url(service) + path, params={"x": "1"}, timeout=30)
            )
    for response in attempts:
        assert response.status_code == 400, (response.request.method, response.url, response.text)
        error = response.json()["error"]
        assert error["code"] == "invalid_request"
        assert error["message"] == f"{error['field']}: unknown query parameter", error
    after = (api.all_todos(), api.get(f"/todos/{todo_id}/files").json()["items"])
    assert [t["todoId"] for t in after[0]] == [t["todoId"] for t in before[0]] == [todo_id]
    assert after[0] == before[0]
    assert [f["fileId"] for f in after[1]] == [f["fileId"] for f in before[1]] == [file_id]


def test_deleting_a_file_that_does_not_exist_touches_no_object(api: Api) -> None:
    """A missing file ID on the caller's own todo: 404 before any S3 call, so no delete marker."""
    todo_id = api.create()["todoId"]
    kept = register(api, todo_id).json()["file"]["fileId"]
    missing = str(uuid.uuid4())
    response = api.delete(f"/todos/{todo_id}/files/{missing}")
    assert response.status_code == 404, response.text
    assert response.json()["error"]["message"] == "file not found"
    # moto adds no marker for a key that never existed, so the test counts the calls instead.
    assert aws_calls(response) == {"DynamoDB.GetItem": 1, "DynamoDB.Query": 1}
    assert [f["fileId"] for f in api.get(f"/todos/{todo_id}/files").json()["items"]] == [kept]
