"""The todo API over HTTP against gunicorn + moto: CRUD, validation, order, search, pages."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Mapping
from typing import Any

import pytest

from tests.properties.strategies import costliest_json
from tests.services.conftest import Api


def test_create_get_update_round_trip(api: Api) -> None:
    created = api.create(title="  Buy milk  ", description="2 litres", dateDue="2030-01-31")
    assert created["title"] == "Buy milk"
    assert created["description"] == "2 litres"
    assert created["dateDue"] == "2030-01-31"
    assert created["completed"] is False
    assert created["notes"] == ""
    assert uuid.UUID(created["todoId"]).version == 7

    path = f"/todos/{created['todoId']}"
    assert api.get(path).json() == created

    patched = api.patch(path, json={"notes": "the organic one", "completed": True})
    assert patched.status_code == 200, patched.text
    assert patched.json()["notes"] == "the organic one"
    assert patched.json()["completed"] is True
    assert patched.json()["updatedAt"] >= created["updatedAt"]

    cleared = api.patch(path, json={"dateDue": None, "title": "Buy oat milk"}).json()
    assert cleared["dateDue"] is None
    assert cleared["title"] == "Buy oat milk"
    assert api.get(path).json() == cleared


def test_access_token_is_accepted_too(api: Api) -> None:
    response = api.get("/todos", headers=api.user.headers(use_access_token=True))
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "title"),
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": 5}, "title"),
        ({"title": "ok", "dateDue": "31/01/2030"}, "dateDue"),
        ({"title": "ok", "dateDue": 1700000000}, "dateDue"),
        ({"title": "ok", "description": "x" * 2001}, "description"),
        ({"title": "ok", "owner": "someone"}, "owner"),
        ({"title": "ok", "todoId": str(uuid.uuid4())}, "todoId"),
    ],
)
def test_create_rejects_invalid_bodies_naming_the_field(
    api: Api, body: dict[str, object], field: str
) -> None:
    response = api.post("/todos", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["field"] == field
    assert field in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "body"),
        ({"title": None}, "title"),
        ({"completed": "yes"}, "completed"),
        ({"notes": "x" * 10001}, "notes"),
        ({"userID": "x"}, "userID"),
    ],
)
def test_patch_rejects_invalid_bodies(api: Api, body: dict[str, object], field: str) -> None:
    todo = api.create()
    response = api.patch(f"/todos/{todo['todoId']}", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["field"] == field
    assert api.get(f"/todos/{todo['todoId']}").json() == todo


def test_refusals_name_the_rule_not_a_regex(api: Api) -> None:
    blank = api.post("/todos", json={"title": " \t "})
    assert blank.json()["error"]["message"] == "title: must not be blank"
    cursor = api.get("/todos", params={"cursor": "%%%"})
    assert cursor.json()["error"]["message"] == "cursor: invalid or from another query"


def test_body_errors(api: Api) -> None:
    not_json = api.post("/todos", data="{", headers={"Content-Type": "application/json"})
    assert not_json.status_code == 400
    assert not_json.json()["error"]["field"] == "body"
    array = api.post("/todos", json=["title"])
    assert array.status_code == 400
    wrong_type = api.post("/todos", data="title=x", headers={"Content-Type": "text/plain"})
    assert wrong_type.status_code == 415
    too_large = api.post("/todos", json={"title": "x", "description": "y" * 200_000})
    assert too_large.status_code == 413
    assert too_large.json()["error"]["code"] == "too_large"


def send_json(api: Api, method: str, path: str, text: str) -> Any:
    return api.call(method, path, data=text.encode(), headers={"Content-Type": "application/json"})


@pytest.mark.parametrize("char", ["\u0001", "\U0001f600", '"', "\u00e9"])
def test_every_field_at_its_documented_limit_is_accepted_in_any_escaping(
    api: Api, char: str
) -> None:
    """A body within every documented field limit is never a 413, however it is escaped."""
    created = send_json(
        api,
        "POST",
        "/todos",
        costliest_json({"title": char * 200, "description": char * 2000, "dateDue": "2030-01-31"}),
    )
    assert created.status_code == 201, created.text[:200]
    todo = created.json()
    body = {
        "title": char * 200,
        "description": char * 2000,
        "notes": char * 10000,
        "dateDue": "2030-12-31",
        "completed": True,
    }
    text = costliest_json(body)
    assert len(text.encode()) > 64 * 1024  # beyond the old limit, which refused it with 413
    patched = send_json(api, "PATCH", f"/todos/{todo['todoId']}", text)
    assert patched.status_code == 200, patched.text[:200]
    assert {k: patched.json()[k] for k in body} == body
    assert api.get(f"/todos/{todo['todoId']}").json() == patched.json()


def test_the_body_limit_is_the_costliest_body_plus_an_allowance_for_whitespace(api: Api) -> None:
    from common.validation import JSON_FRAME_BYTES, json_body_limit
    from main_service.models import TodoPatch

    limit = json_body_limit(TodoPatch)
    todo = api.create()
    widest = "\U0001f600"
    body = {"title": widest * 200, "description": widest * 2000, "notes": widest * 10000}
    text = costliest_json({**body, "dateDue": "2030-12-31", "completed": False})
    assert limit - len(text.encode()) >= JSON_FRAME_BYTES - 64  # room left for whitespace
    at_limit = text[:-1] + " " * (limit - len(text.encode())) + "}"
    assert send_json(api, "PATCH", f"/todos/{todo['todoId']}", at_limit).status_code == 200
    over = send_json(api, "PATCH", f"/todos/{todo['todoId']}", " " + at_limit)
    assert over.status_code == 413, over.text[:200]
    assert over.json()["error"]["code"] == "too_large"


@pytest.mark.parametrize(
    "todo_id", ["not-a-uuid", str(uuid.uuid4()), "01a200fd-ebbb-7b02-982d-0f9e8bce391c", "%00"]
)
def test_unknown_or_malformed_ids_are_404(api: Api, todo_id: str) -> None:
    for method in ("GET", "DELETE"):
        response = api.call(method, f"/todos/{todo_id}")
        assert response.status_code == 404, (method, response.text)
        assert response.json()["error"]["code"] == "not_found"
    assert api.patch(f"/todos/{todo_id}", json={"title": "x"}).status_code == 404


def test_list_order_open_first_then_due_date_then_newest(api: Api) -> None:
    def make(title: str, **fields: object) -> str:
        return str(api.create(title=title, **fields)["todoId"])

    late = make("late", dateDue="2031-05-01")
    undated_old = make("undated old")
    soon = make("soon", dateDue="2030-01-01")
    done = make("done soon", dateDue="2029-01-01")
    undated_new = make("undated new")
    same_day_new = make("same day newer", dateDue="2030-01-01")
    api.patch(f"/todos/{done}", json={"completed": True})
    titles = [t["title"] for t in api.all_todos()]
    assert titles == ["same day newer", "soon", "late", "undated new", "undated old", "done soon"]

    # Reopening and moving due dates re-sorts, each with a single UpdateItem.
    api.patch(f"/todos/{done}", json={"completed": False})
    api.patch(f"/todos/{late}", json={"dateDue": "2020-01-01"})
    api.patch(f"/todos/{undated_old}", json={"dateDue": "2030-01-01", "completed": True})
    titles = [t["title"] for t in api.all_todos()]
    assert titles == ["late", "done soon", "same day newer", "soon", "undated new", "undated old"]
    assert {soon, same_day_new, undated_new}


def test_pagination_round_trip(api: Api) -> None:
    created = [api.create(title=f"item {n:02d}")["todoId"] for n in range(7)]
    seen: list[str] = []
    cursor = ""
    pages = 0
    while True:
        page = api.get("/todos", params={"limit": 3, "cursor": cursor}).json()
        assert len(page["items"]) <= 3
        seen += [t["todoId"] for t in page["items"]]
        pages += 1
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == list(reversed(created))  # all undated and open: newest first


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "%%%",
        base64.urlsafe_b64encode(b"[1,2]").decode(),
        base64.urlsafe_b64encode(b'{"p":{"k":"1","id":"x"},"s":"0"}').decode(),
        "A" * 2000,
    ],
)
def test_invalid_cursor_is_400(api: Api, cursor: str) -> None:
    response = api.get("/todos", params={"cursor": cursor})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["field"] == "cursor"


def test_tampered_cursor_is_400(api: Api) -> None:
    for n in range(3):
        api.create(title=f"t{n}")
    cursor = api.get("/todos", params={"limit": 1}).json()["nextCursor"]
    payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    payload["p"]["k"] = "not-a-number"
    forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    assert api.get("/todos", params={"cursor": forged}).status_code == 400
    # A cursor belongs to its query: reusing it with another search is refused.
    assert api.get("/todos", params={"cursor": cursor, "search": "t"}).status_code == 400


def crafted(position: Mapping[str, object], sub: str, search: str = "", **extra: object) -> str:
    """A cursor with the right scope digest: the caller can always build one for their own list."""
    from common.cursor import encode

    cursor: str = encode(dict(position), sub, search)
    if not extra:
        return cursor
    payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    return base64.urlsafe_b64encode(json.dumps({**payload, **extra}).encode()).decode()


def position_of(cursor: str) -> dict[str, str]:
    payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    position: dict[str, str] = payload["p"]
    return position


@pytest.mark.parametrize(
    "change",
    [
        {"k": "\u00b2"},  # superscript two: str.isdigit() says yes, int() raises
        {"k": "\u0661\u0662\u0663"},  # Arabic-Indic digits: isdigit() and int() both accept
        {"k": "0\uff11"},  # a full-width digit
        {"k": "007"},  # a number the server never writes
        {"k": "1"},  # digits, but not the key of the todo the cursor names
        {"k": 5},
        {"k": "-1"},
        {"k": "9" * 32},
        {"id": "TRAILING-NEWLINE"},
        {"id": "UPPER"},
        {"extra": "x"},
    ],
)
def test_a_crafted_cursor_is_400_never_500(api: Api, change: dict[str, object]) -> None:
    for n in range(3):
        api.create(title=f"crafted {n}")
    position = position_of(api.get("/todos", params={"limit": 1}).json()["nextCursor"])
    if change.get("id") == "TRAILING-NEWLINE":
        change = {"id": position["id"] + "\n"}
    elif change.get("id") == "UPPER":
        change = {"id": position["id"].upper()}
    response = api.get("/todos", params={"cursor": crafted({**position, **change}, api.user.sub)})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["field"] == "cursor"


def test_a_cursor_with_more_than_a_position_and_a_scope_is_400(api: Api) -> None:
    for n in range(3):
        api.create(title=f"shape {n}")
    position = position_of(api.get("/todos", params={"limit": 1}).json()["nextCursor"])
    response = api.get("/todos", params={"cursor": crafted(position, api.user.sub, v=2)})
    assert response.status_code == 400, response.text


def test_a_well_formed_crafted_cursor_pages_only_the_callers_own_list(api: Api, other: Api) -> None:
    """Why cursors carry no key: a cursor is a start position inside the caller's partition.

    B builds a cursor that names A's todo at A's list position, with B's own scope digest (a
    user can always compute it). The Query still reads only B's partition, so B sees B's todos.
    """
    mine = [other.create(title=f"b {n}")["todoId"] for n in range(2)]
    for n in range(3):
        api.create(title=f"a {n}")
    a_position = position_of(api.get("/todos", params={"limit": 1}).json()["nextCursor"])
    response = other.get("/todos", params={"cursor": crafted(a_position, other.user.sub)})
    assert response.status_code == 200, response.text
    assert {t["todoId"] for t in response.json()["items"]} <= set(mine)
    # And the exact cursor the server would have written is accepted as such.
    b_position = position_of(other.get("/todos", params={"limit": 1}).json()["nextCursor"])
    page = other.get("/todos", params={"cursor": crafted(b_position, other.user.sub)})
    assert [t["todoId"] for t in page.json()["items"]] == [mine[0]]


def test_a_crafted_file_cursor_is_400(api: Api) -> None:
    todo_id = api.create()["todoId"]
    body = {"name": "a.txt", "contentType": "text/plain", "size": 1}
    file_ids = [api.post(f"/todos/{todo_id}/files", json=body).json()["file"]["fileId"]]
    for file_id in (file_ids[0] + "\n", file_ids[0].upper(), "\u00b2"):
        cursor = crafted({"f": file_id}, api.user.sub, todo_id)
        response = api.get(f"/todos/{todo_id}/files", params={"cursor": cursor})
        assert response.status_code == 400, (file_id, response.text)
        assert response.json()["error"]["field"] == "cursor"


def test_cursor_of_another_user_is_refused(api: Api, other: Api) -> None:
    for n in range(3):
        api.create(title=f"private {n}")
    cursor = api.get("/todos", params={"limit": 1}).json()["nextCursor"]
    response = other.get("/todos", params={"cursor": cursor})
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("limit", "status"), [("0", 400), ("201", 400), ("abc", 400), ("1", 200), ("200", 200)]
)
def test_limit_bounds(api: Api, limit: str, status: int) -> None:
    """A page holds up to 200 todos (docs/services.md, "Page size")."""
    assert api.get("/todos", params={"limit": limit}).status_code == status


def test_search_is_a_literal_case_insensitive_substring(api: Api) -> None:
    for title in [
        "Call the Bank",
        "bank holiday",
        "Regex .* stays literal",
        "paren ( too",
        "other",
    ]:
        api.create(title=title)

    def search(text: str) -> list[str]:
        return sorted(t["title"] for t in api.all_todos(search=text, limit=2))

    assert search("BANK") == ["Call the Bank", "bank holiday"]
    assert search(".*") == ["Regex .* stays literal"]
    assert search("(") == ["paren ( too"]
    assert search("[a-z]+") == []
    assert search("\\") == []
    assert search("") == sorted(
        ["Call the Bank", "bank holiday", "Regex .* stays literal", "paren ( too", "other"]
    )
    assert api.get("/todos", params={"search": "x" * 201}).status_code == 400


FULL_WIDTH_TODO = "\uff34\uff2f\uff24\uff2f"


def test_search_ignores_unicode_normalisation_differences(api: Api) -> None:
    # The same words in other code points: a combining accent (as macOS file names and some
    # keyboards produce), full-width letters, a ligature, and a German sharp s.
    decomposed = api.create(title="Cafe\u0301 order")
    api.create(title=FULL_WIDTH_TODO + " list")
    api.create(title="O\ufb03ce supplies")
    api.create(title="Straße works")
    api.patch(f"/todos/{decomposed['todoId']}", json={"title": "Cafe\u0301 orders"})

    def search(text: str) -> list[str]:
        return [t["title"] for t in api.all_todos(search=text)]

    assert search("CAFÉ") == ["Cafe\u0301 orders"]  # titles are returned exactly as stored
    assert search("todo") == [FULL_WIDTH_TODO + " list"]
    assert search("office") == ["O\ufb03ce supplies"]
    assert search("STRASSE") == ["Straße works"]


@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [
        ("/todos", {"Content-Type": "application/json"}, 413),  # over the body limit
        ("/todos", {"Content-Type": "text/plain"}, 415),
        ("/todos/nope", {"Content-Type": "application/json"}, 405),
    ],
)
def test_a_refused_large_body_is_read_so_the_load_balancer_gets_the_answer(
    api: Api, path: str, headers: dict[str, str], status: int
) -> None:
    """gunicorn reads at most 64 KiB of a body the app left unread, then closes the connection,
    and a peer still sending gets a reset instead of the answer (behind an ALB: a 502). Any body
    API Gateway lets through (10 MB) is read before the refusal, on a connection that stays."""
    import http.client
    from urllib.parse import urlsplit

    url = urlsplit(api.stack.service_url("main"))
    connection = http.client.HTTPConnection(url.hostname or "", url.port, timeout=60)
    try:
        body = b"{" + b" " * (10 * 1000 * 1000 - 2) + b"}"
        connection.request("POST", path, body=body, headers={**api.user.headers(), **headers})
        refused = connection.getresponse()
        assert refused.status == status
        assert json.loads(refused.read())["error"]["code"]
        connection.request("GET", "/health")
        assert connection.getresponse().status == 200  # the same connection, still open
    finally:
        connection.close()
