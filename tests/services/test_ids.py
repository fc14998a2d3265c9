"""IDs in paths: only an exact ID names a todo or a file; anything else is a JSON 404.

gunicorn decodes the path before Flask routes it, so `%2F`, `%3F`, `%0A` and friends reach the
services as the characters themselves. Each must end in the API's JSON error shape, never a 5xx,
a redirect or an HTML page, and must change nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests

from scripts.local import LocalStack
from tests.services.conftest import Api, aws_calls

# Decoded, each is a separator, a query or escape sign, whitespace, or a control character.
ENCODED = ["%2F", "%3F", "%23", "%25", "%20", "%09", "%0A", "%0D", "%00", "%7F", "%C2%85", "%2F.."]


@pytest.fixture
def todo_with_file(api: Api) -> tuple[str, str]:
    todo_id = str(api.create(title="has a file")["todoId"])
    body = {"name": "a.txt", "contentType": "text/plain", "size": 1}
    registered = api.post(f"/todos/{todo_id}/files", json=body)
    assert registered.status_code == 201, registered.text
    return todo_id, str(registered.json()["file"]["fileId"])


def splice(real_id: str, encoded: str, where: str) -> str:
    return {
        "after": real_id + encoded,
        "before": encoded + real_id,
        "inside": real_id[:8] + encoded + real_id[8:],
    }[where]


def routes(
    todo_id: str, file_id: str, bad: Callable[[str], str]
) -> list[tuple[str, str, str, Any]]:
    """(service, method, path, JSON body) for every route, with `bad` applied to one ID."""
    patch = {"title": "changed", "dateDue": "2030-01-01", "completed": True}
    register = {"name": "b.txt", "contentType": "text/plain", "size": 1}
    return [
        ("main", "GET", f"/todos/{bad(todo_id)}", None),
        ("main", "PATCH", f"/todos/{bad(todo_id)}", patch),
        ("main", "DELETE", f"/todos/{bad(todo_id)}", None),
        ("files", "GET", f"/todos/{bad(todo_id)}/files", None),
        ("files", "POST", f"/todos/{bad(todo_id)}/files", register),
        ("files", "DELETE", f"/todos/{bad(todo_id)}/files/{file_id}", None),
        ("files", "DELETE", f"/todos/{todo_id}/files/{bad(file_id)}", None),
    ]


def assert_json_error(response: requests.Response) -> None:
    assert 400 <= response.status_code < 500, (response.url, response.status_code, response.text)
    assert response.headers["Content-Type"] == "application/json", response.url
    error = response.json()["error"]
    assert set(error) <= {"code", "message", "field"}, error
    assert isinstance(error["code"], str)
    assert isinstance(error["message"], str)


@pytest.mark.parametrize("encoded", ENCODED)
@pytest.mark.parametrize("where", ["after", "before", "inside"])
def test_decoded_specials_inside_an_id_are_a_json_4xx(
    api: Api, stack: LocalStack, todo_with_file: tuple[str, str], encoded: str, where: str
) -> None:
    todo_id, file_id = todo_with_file
    before = (api.get(f"/todos/{todo_id}").json(), api.get(f"/todos/{todo_id}/files").json())
    for service, method, path, body in routes(
        todo_id, file_id, lambda real_id: splice(real_id, encoded, where)
    ):
        response = requests.request(
            method,
            stack.service_url(service) + path,
            json=body,
            headers=api.user.headers(),
            allow_redirects=False,
            timeout=30,
        )
        assert_json_error(response)
    after = (api.get(f"/todos/{todo_id}").json(), api.get(f"/todos/{todo_id}/files").json())
    # The download URLs are presigned anew on every list; the records must be the same.
    for listing in (before[1], after[1]):
        for item in listing["items"]:
            item.pop("downloadUrl")
    assert after == before


def test_a_todo_id_with_a_trailing_newline_names_no_todo(api: Api) -> None:
    """`$` in re.match also matches before a final newline: such an ID once reached uuid.UUID."""
    todo_id = api.create(title="exact ids only")["todoId"]
    path = f"/todos/{todo_id}%0A"
    patched = api.patch(path, json={"dateDue": "2030-01-01"})
    assert patched.status_code == 404, patched.text
    assert aws_calls(patched) == {}
    assert api.get(path).status_code == 404
    assert api.delete(path).status_code == 404
    assert api.get(f"/todos/{todo_id}").json()["dateDue"] is None


def test_a_file_id_with_a_trailing_newline_names_no_file(
    api: Api, todo_with_file: tuple[str, str]
) -> None:
    todo_id, file_id = todo_with_file
    response = api.delete(f"/todos/{todo_id}/files/{file_id}%0A")
    assert response.status_code == 404, response.text
    assert aws_calls(response) == {}
    assert [f["fileId"] for f in api.get(f"/todos/{todo_id}/files").json()["items"]] == [file_id]


def test_doubled_slashes_are_not_redirected(api: Api, todo_with_file: tuple[str, str]) -> None:
    """An encoded `/` decodes to `//` next to the route's own: no 308 to a merged path."""
    todo_id, file_id = todo_with_file
    for path in (f"/todos/{todo_id}//files", f"/todos/{todo_id}/files//{file_id}"):
        for method in ("GET", "DELETE"):
            response = api.call(method, path, allow_redirects=False)
            assert_json_error(response)
