"""Cursor decoding in process: every cursor the server writes reads back, anything else is a 400."""

from __future__ import annotations

import base64
import json
from datetime import date

import pytest
from common import cursor as cursors
from common.errors import ApiError
from common.ids import is_todo_id, new_todo_id
from hypothesis import given
from hypothesis import strategies as st
from main_service.store import CREATED_SPAN, STATUS_DONE, list_key_of, rest_part, status_part

SUB = "5f0c7a3e-0000-4000-8000-000000000001"
TODO_FIELDS = {"k": cursors.is_integer, "id": is_todo_id}


@given(
    due=st.none() | st.dates(),
    completed=st.booleans(),
    now_ms=st.integers(min_value=0, max_value=2**48 - 1),
)
def test_every_list_key_the_store_writes_is_read_back(
    due: date | None, completed: bool, now_ms: int
) -> None:
    todo_id = new_todo_id(now_ms)
    list_key = status_part(completed) + rest_part(due, todo_id)
    assert list_key_of(list_key, todo_id)
    written = cursors.encode({"k": str(list_key), "id": todo_id}, SUB, "")
    assert cursors.decode(written, TODO_FIELDS, SUB, "") == {"k": str(list_key), "id": todo_id}
    # The same position under another caller or query is not this cursor.
    for scope in ((SUB, "x"), ("another", "")):
        with pytest.raises(ApiError):
            cursors.decode(written, TODO_FIELDS, *scope)


@given(
    due=st.none() | st.dates(),
    completed=st.booleans(),
    now_ms=st.integers(min_value=0, max_value=2**48 - 1),
    other_ms=st.integers(min_value=0, max_value=2**48 - 1),
    status=st.integers(min_value=2, max_value=10**7),
)
def test_a_list_key_must_fit_the_todo_it_names(
    due: date | None, completed: bool, now_ms: int, other_ms: int, status: int
) -> None:
    todo_id = new_todo_id(now_ms)
    list_key = status_part(completed) + rest_part(due, new_todo_id(other_ms))
    assert list_key_of(list_key, todo_id) == (now_ms == other_ms)
    assert not list_key_of(rest_part(due, todo_id) + status * STATUS_DONE, todo_id)
    assert not list_key_of(rest_part(due, todo_id) % CREATED_SPAN, todo_id)  # due day 0


def json_values() -> st.SearchStrategy[object]:
    scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
    return st.recursive(
        scalars,
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(max_size=8), children, max_size=4)
        ),
        max_leaves=12,
    )


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@given(
    st.one_of(
        st.text(max_size=1100),
        st.binary(max_size=800).map(b64),
        json_values().map(lambda value: b64(json.dumps(value).encode())),
        # The right scope digest around any position: what a caller can build for themselves.
        st.dictionaries(st.sampled_from(["k", "id", "f", "x"]), json_values(), max_size=3).map(
            lambda position: cursors.encode(position, SUB, "")
        ),
    )
)
def test_anything_else_is_an_invalid_cursor_error(cursor: str) -> None:
    def decoded() -> dict[str, str] | ApiError:
        try:
            return cursors.decode(cursor, TODO_FIELDS, SUB, "")
        except ApiError as error:
            return error

    result = decoded()
    if isinstance(result, ApiError):
        assert (result.status, result.field) == (400, "cursor")
    else:
        assert set(result) == {"k", "id"}
        assert cursors.is_integer(result["k"])
        assert is_todo_id(result["id"])
