"""The todos the main service answers are what they were when pydantic rebuilt each one.

store.to_public reads the stored attribute values directly and formats the times itself; every
item hypothesis can store must give the same JSON, key order included, as the former path:
boto3's TypeDeserializer, then the Todo model's validation and JSON dump.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from common.ids import new_todo_id
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st

# app/ is on sys.path (tests/services/conftest.py), as in the services' containers.
from main_service.models import Todo
from main_service.store import api_time, to_public

_deserializer = TypeDeserializer()


def former(item: dict[str, Any]) -> dict[str, Any]:
    plain = {key: _deserializer.deserialize(value) for key, value in item.items()}
    public = {
        "todoId": plain["todoID"],
        "title": plain["title"],
        "description": plain.get("description", ""),
        "notes": plain.get("notes", ""),
        "dateDue": plain.get("dateDue"),
        "completed": bool(plain.get("completed", False)),
        "createdAt": plain["createdAt"],
        "updatedAt": plain["updatedAt"],
    }
    dumped: dict[str, Any] = Todo.model_validate(public).model_dump(mode="json")
    return dumped


def stored_time(moment: datetime) -> str:
    # What the store writes (store._now): milliseconds and Z.
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)
# A third of the times on a whole second, so that .000 (which pydantic leaves out) is common.
times = st.one_of(moments.map(lambda m: m.replace(microsecond=0)), moments).map(stored_time)
texts = st.text(max_size=30)


@st.composite
def items(draw: st.DrawFn) -> dict[str, Any]:
    item: dict[str, Any] = {
        "todoID": {"S": new_todo_id()},
        "title": {"S": draw(texts)},
        "createdAt": {"S": draw(times)},
        "updatedAt": {"S": draw(times)},
        "listKey": {"N": "123"},
    }
    for name in ("description", "notes"):
        if draw(st.booleans()):
            item[name] = {"S": draw(texts)}
    if draw(st.booleans()):
        item["completed"] = {"BOOL": draw(st.booleans())}
    if draw(st.booleans()):
        item["dateDue"] = {"S": draw(st.dates(date(1, 1, 1), date(9999, 12, 31))).isoformat()}
    return item


@settings(max_examples=500, deadline=None)
@given(item=items())
def test_a_stored_todo_answers_as_before(item: dict[str, Any]) -> None:
    ours, theirs = to_public(item), former(item)
    assert list(ours.items()) == list(theirs.items())
    app = Flask(__name__)
    with app.app_context():
        assert app.json.dumps(ours) == app.json.dumps(theirs)


@given(moment=moments)
def test_times_keep_pydantics_form(moment: datetime) -> None:
    stored = stored_time(moment)
    assert (
        api_time(stored)
        == Todo.model_validate(
            {
                "todoId": "x",
                "title": "t",
                "description": "",
                "notes": "",
                "dateDue": None,
                "completed": False,
                "createdAt": stored,
                "updatedAt": stored,
            }
        ).model_dump(mode="json")["createdAt"]
    )


def test_examples_of_the_time_form() -> None:
    assert api_time("2026-11-30T20:03:00.123Z") == "2026-11-30T20:03:00.123000Z"
    assert api_time("2026-11-30T20:03:00.000Z") == "2026-11-30T20:03:00Z"
    # Not the store's own form: pydantic reads and writes it, as before.
    assert api_time("2026-11-30T20:03:00.5+00:00") == "2026-11-30T20:03:00.500000Z"
