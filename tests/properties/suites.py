"""The API's promises, checked against made-up hostile input on every route.

For every answer: never a 5xx or a redirect; a 4xx is the JSON error shape and leaves the
emulator exactly as it was (tables scanned, bucket versions listed, before and after); no answer
holds another user's todo ID. Where the input is known to be valid or invalid (every field
within its documented limit, or one past it), the answer must say so too.

A module subclasses `ApiProperties` and provides a module-scoped `target` fixture.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import assume, given, note
from hypothesis import strategies as st

from tests.properties import strategies as hostile
from tests.properties.strategies import Body, Expect
from tests.properties.target import Answer, Target

VALID_PATCH = json.dumps({"title": "patched", "dateDue": "2030-01-31", "completed": False}).encode()
VALID_FILE = json.dumps({"name": "a.txt", "contentType": "text/plain", "size": 1}).encode()


def check(target: Target, answer: Answer, expect: Expect, before: dict[str, Any] | None) -> None:
    """The promises for one answer; with `before`, also that a refusal changed nothing (without
    it, the caller compares the emulator's state itself, after a run of refusals)."""
    note(f"answer: {answer.status} {answer.body[:300]!r}")
    assert answer.status < 500
    assert not 300 <= answer.status < 400, "a redirect (an HTML page), not an answer"
    if answer.status >= 400:
        assert answer.headers.get("content-type") == "application/json"
        body = answer.json()
        if target.gateway and list(body) == ["message"]:
            # API Gateway's own answer (no route, no valid token): {"message": "..."}.
            assert isinstance(body["message"], str), body
            body = {"error": {"code": "gateway", "message": body["message"]}}
        assert list(body) == ["error"]
        error = body["error"]
        assert set(error) in ({"code", "message"}, {"code", "message", "field"}), error
        assert all(isinstance(value, str) for value in error.values()), error
        assert "should match pattern" not in error["message"], "a regex is not an explanation"
        if before is not None:
            assert target.emulator.snapshot() == before, "a refused request changed the emulator"
    for foreign in target.foreign_todo_ids:
        assert foreign.encode() not in answer.body, "another user's todo in the answer"
    if expect is Expect.ACCEPT:
        assert 200 <= answer.status < 300
    elif expect is Expect.REFUSE:
        assert 400 <= answer.status < 500
    elif expect is Expect.TOO_LARGE:
        assert answer.status == 413


def call(
    target: Target,
    expect: Expect,
    method: str,
    path: str,
    body: bytes | None = None,
    content_type: str | None = "application/json",
    base: str | None = None,
    compare: bool = True,
) -> Answer:
    """One request, checked; `compare=False` leaves the before/after comparison to the caller."""
    note(f"{method} {path} ({len(body or b'')} bytes, {content_type}) expecting {expect.value}")
    before = target.emulator.snapshot() if compare else None
    answer = target.call(method, path, body, content_type, base)
    check(target, answer, expect, before)
    return answer


def stored(member: str, value: Any) -> Any:
    """A member's value as the API stores it: a title loses its ASCII whitespace."""
    return value.strip(hostile.ASCII_SPACE) if member == "title" else value


class ApiProperties:
    """The suites; a subclass in a test module gets them all, run against its `target`."""

    # -- paths ---------------------------------------------------------------------------------
    @given(data=st.data())
    def test_any_path_segment_but_the_callers_own_id_is_a_json_4xx(
        self, target: Target, data: st.DataObject
    ) -> None:
        """One made-up segment in an ID's place on every route, sent to every base URL."""
        todo_id, file_id = target.file
        own = {*target.todo_ids, target.patch_todo_id, todo_id, file_id}
        routes = [
            ("GET", "/todos/{}", None),
            ("PATCH", "/todos/{}", VALID_PATCH),
            ("DELETE", "/todos/{}", None),
            ("PUT", "/todos/{}", VALID_PATCH),
            ("GET", "/todos/{}/files", None),
            ("POST", "/todos/{}/files", VALID_FILE),
            ("DELETE", "/todos/{}/files/" + file_id, None),
            ("DELETE", f"/todos/{todo_id}/files/{{}}", None),
        ]
        segment = data.draw(
            hostile.path_segments([*sorted(own), *target.foreign_todo_ids]), label="segment"
        )
        # One that decodes to an ID of the caller's is that ID (and DELETE would remove it).
        assume(hostile.decoded(segment) not in own)
        for method, template, body in routes:
            for base in target.base_urls:
                call(
                    target, Expect.REFUSE, method, template.replace("{}", segment), body, base=base
                )

    # -- query strings -------------------------------------------------------------------------
    @given(data=st.data())
    def test_list_queries_near_every_limit(self, target: Target, data: st.DataObject) -> None:
        path, declared, max_page, cursors = data.draw(
            st.sampled_from(list_routes(target)), label="list"
        )
        query, expect = data.draw(hostile.list_queries(cursors, declared, max_page), label="query")
        answer = call(target, expect, "GET", f"{path}?{query}" if query else path)
        if answer.status == 200:
            assert set(answer.json()) == {"items", "nextCursor"}

    @given(data=st.data())
    def test_any_cursor_is_a_page_of_the_callers_own_or_a_400(
        self, target: Target, data: st.DataObject
    ) -> None:
        path, _, _, cursors = data.draw(st.sampled_from(list_routes(target)), label="list")
        query = hostile.query_string([("cursor", data.draw(cursors, label="cursor"))])
        answer = call(target, Expect.EITHER, "GET", f"{path}?{query}")
        assert answer.status in (200, 400), answer.status
        if answer.status == 400:
            assert answer.json()["error"].get("field") == "cursor", answer.json()

    @given(data=st.data())
    def test_routes_without_parameters_refuse_any_query(
        self, target: Target, data: st.DataObject
    ) -> None:
        todo_id, file_id = target.file
        routes = [
            ("GET", f"/todos/{todo_id}", None),
            ("PATCH", f"/todos/{target.patch_todo_id}", VALID_PATCH),
            ("DELETE", f"/todos/{todo_id}", None),
            ("POST", "/todos", json.dumps({"title": "not created"}).encode()),
            ("POST", f"/todos/{todo_id}/files", VALID_FILE),
            ("DELETE", f"/todos/{todo_id}/files/{file_id}", None),
            ("GET", "/health", None),
            ("GET", "/openapi.json", None),
        ]
        method, path, body = data.draw(st.sampled_from(routes), label="route")
        query = data.draw(hostile.any_query(), label="query")
        bases = target.base_urls if path in ("/health", "/openapi.json") else (None,)
        for base in bases:
            call(target, Expect.REFUSE, method, f"{path}?{query}", body, base=base)

    # -- bodies --------------------------------------------------------------------------------
    @given(data=st.data())
    def test_todo_bodies_within_the_limits_are_accepted_and_others_refused(
        self, target: Target, data: st.DataObject
    ) -> None:
        limit = target.body_limits["main"]
        todo: dict[str, Any] = {}
        if data.draw(st.booleans(), label="create"):
            body: Body = data.draw(hostile.todo_create_bodies(limit), label="body")
            answer = call(target, body.expect, "POST", "/todos", body.raw)
            if answer.status == 201:
                todo = answer.json()
                # Cleaned up, so the emulator's tables stay small to scan.
                target.call("DELETE", f"/todos/{todo['todoId']}")
        else:
            body = data.draw(hostile.todo_patch_bodies(limit), label="body")
            answer = call(target, body.expect, "PATCH", f"/todos/{target.patch_todo_id}", body.raw)
            todo = answer.json() if answer.status == 200 else {}
        if body.expect is Expect.ACCEPT:
            for member, value in body.members.items():
                assert todo[member] == stored(member, value), member

    @given(data=st.data())
    def test_bodies_with_every_field_at_its_limit_are_accepted_in_any_escaping(
        self, target: Target, data: st.DataObject
    ) -> None:
        """The promise behind the body limit: within every documented field limit, however the
        JSON is escaped and up to the limit in whitespace, a body is never a 413."""
        if data.draw(st.booleans(), label="todo"):
            body = data.draw(hostile.todos_at_every_limit(target.body_limits["main"]))
            answer = call(target, body.expect, "PATCH", f"/todos/{target.patch_todo_id}", body.raw)
            for member, value in body.members.items():
                assert answer.json()[member] == stored(member, value), member
        else:
            limit, max_upload = target.body_limits["files"], target.max_upload_bytes
            register(target, data.draw(hostile.files_at_every_limit(limit, max_upload)))

    @given(data=st.data())
    def test_file_bodies_within_the_limits_are_accepted_and_others_refused(
        self, target: Target, data: st.DataObject
    ) -> None:
        limit, max_upload = target.body_limits["files"], target.max_upload_bytes
        register(target, data.draw(hostile.file_register_bodies(limit, max_upload), label="body"))

    @given(data=st.data())
    def test_bodies_that_are_not_a_json_object_are_a_json_4xx(
        self, target: Target, data: st.DataObject
    ) -> None:
        todo_id, _ = target.file
        routes = [
            ("POST", "/todos", "main"),
            ("PATCH", f"/todos/{target.patch_todo_id}", "main"),
            ("POST", f"/todos/{todo_id}/files", "files"),
        ]
        method, path, service = data.draw(st.sampled_from(routes), label="route")
        raw, content_type = data.draw(hostile.raw_bodies(target.body_limits[service]))
        call(target, Expect.REFUSE, method, path, raw, content_type)


def register(target: Target, body: Body) -> None:
    """Register a file on the seeded todo with `body`; a registration made is checked against
    the body when it was valid, then deleted, so the tables stay small to scan."""
    todo_id, _ = target.file
    answer = call(target, body.expect, "POST", f"/todos/{todo_id}/files", body.raw)
    if answer.status == 201:
        registered = answer.json()
        if body.expect is Expect.ACCEPT:
            assert registered["file"]["name"] == body.members["name"]
            assert registered["upload"]["maxBytes"] == body.members["size"]
        target.call("DELETE", f"/todos/{todo_id}/files/{registered['file']['fileId']}")


def list_routes(
    target: Target,
) -> list[tuple[str, tuple[str, ...], int, st.SearchStrategy[str]]]:
    """Each list route: its path, the query parameters it declares, its largest page, and
    cursors for it (made around its real cursor, with the caller's scope digest for that list)."""
    from files_service.models import MAX_PAGE as MAX_FILES_PAGE
    from main_service.models import MAX_PAGE as MAX_TODOS_PAGE

    todo_id, _ = target.file
    ids = [*target.todo_ids, todo_id, *target.foreign_todo_ids]

    def cursors(real: str, *scope: str) -> st.SearchStrategy[str]:
        return hostile.cursors(lambda position: craft(position, *scope), real, ids)

    todos = cursors(target.todo_cursor, target.sub, "")
    files = cursors(target.file_cursor, target.sub, todo_id)
    return [
        ("/todos", ("limit", "search", "cursor"), MAX_TODOS_PAGE, todos),
        (f"/todos/{todo_id}/files", ("limit", "cursor"), MAX_FILES_PAGE, files),
    ]


def craft(position: dict[str, Any], *scope: str) -> str:
    """A cursor around any position, with the caller's own valid scope digest."""
    from common.cursor import encode

    crafted: str = encode(position, *scope)
    return crafted
