"""DynamoDB responses parse the same with the services' parser as with botocore's own.

common.attribute_values keeps plain attribute values (S, N, BOOL, NULL) as decoded instead of
walking botocore's shape for them; every response hypothesis can build, nested maps and lists,
binary values, sets, null and unknown members included, must parse to the same Python value.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import botocore.session
import pytest
from botocore.parsers import JSONParser

# app/ is on sys.path (tests/services/conftest.py), as in the services' containers.
from common.attribute_values import AttributeValueParser, ParserFactory, is_attribute_value
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

MODEL = botocore.session.get_session().get_service_model("dynamodb")
names = st.text(min_size=1, max_size=8)
numbers = st.integers(-(10**38), 10**38).map(str)
blobs = st.binary(max_size=16).map(lambda b: base64.b64encode(b).decode())

scalar = st.one_of(
    st.builds(lambda v: {"S": v}, st.text(max_size=20)),
    st.builds(lambda v: {"N": v}, numbers),
    st.builds(lambda v: {"B": v}, blobs),
    st.builds(lambda v: {"BOOL": v}, st.booleans()),
    st.just({"NULL": True}),
    st.builds(lambda v: {"SS": v}, st.lists(st.text(max_size=5), max_size=3)),
    st.builds(lambda v: {"NS": v}, st.lists(numbers, max_size=3)),
    st.builds(lambda v: {"BS": v}, st.lists(blobs, max_size=3)),
    # Shapes a well-behaved DynamoDB never sends, which the parser must still treat as botocore.
    st.builds(lambda v: {"S": v, "N": "1"}, st.text(max_size=5)),
    st.just({"S": None}),
    st.just({"Unknown": "x"}),
    st.just({}),
)
attribute = st.recursive(
    scalar,
    lambda inner: st.one_of(
        st.builds(lambda v: {"M": v}, st.dictionaries(names, inner, max_size=4)),
        st.builds(lambda v: {"L": v}, st.lists(st.one_of(inner, st.none()), max_size=4)),
    ),
    max_leaves=12,
)
item = st.dictionaries(names, st.one_of(attribute, st.none()), max_size=8)


def parse(parser: JSONParser, operation: str, body: dict[str, Any]) -> Any:
    response = {"status_code": 200, "headers": {}, "body": json.dumps(body).encode()}
    return parser.parse(response, MODEL.operation_model(operation).output_shape)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=st.lists(item, max_size=5), key=item)
def test_query_output_parses_as_botocore_parses_it(
    items: list[dict[str, Any]], key: dict[str, Any]
) -> None:
    body = {"Items": items, "Count": len(items), "LastEvaluatedKey": key}
    assert parse(AttributeValueParser(), "Query", body) == parse(JSONParser(), "Query", body)


@settings(max_examples=100, deadline=None)
@given(found=item)
@pytest.mark.parametrize("operation", ["GetItem", "UpdateItem", "PutItem"])
def test_single_item_outputs_parse_as_botocore_parses_them(
    operation: str, found: dict[str, Any]
) -> None:
    member = "Item" if operation == "GetItem" else "Attributes"
    body = {member: found}
    assert parse(AttributeValueParser(), operation, body) == parse(JSONParser(), operation, body)


def test_a_todo_item_is_kept_as_decoded() -> None:
    stored = {"todoID": {"S": "x"}, "completed": {"BOOL": False}, "listKey": {"N": "12"}}
    parsed = parse(AttributeValueParser(), "GetItem", {"Item": stored})
    assert parsed["Item"] == stored
    assert parse(AttributeValueParser(), "GetItem", {"Item": {"b": {"B": "AAE="}}})["Item"] == {
        "b": {"B": b"\x00\x01"}
    }


def test_only_dynamodbs_attribute_value_takes_the_short_path() -> None:
    shape = MODEL.shape_for("AttributeValue")
    assert is_attribute_value(shape)
    assert not is_attribute_value(MODEL.shape_for("Condition"))
    assert not is_attribute_value(MODEL.operation_model("Query").output_shape)


def test_the_services_clients_use_the_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    from common.aws import make_clients
    from common.config import load_settings

    for name, value in {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"}.items():
        monkeypatch.setenv(name, value)
    settings_ = load_settings(
        {
            "AWS_REGION": "us-east-1",
            "TODOS_TABLE": "t",
            "FILES_TABLE": "f",
            "FILES_BUCKET": "b",
            "COGNITO_USER_POOL_ID": "us-east-1_x",
            "COGNITO_APP_CLIENT_ID": "c",
            "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        }
    )
    clients = make_clients(settings_)
    factory = clients.dynamodb._endpoint._response_parser_factory
    assert isinstance(factory, ParserFactory)
    assert isinstance(factory.create_parser("json"), AttributeValueParser)
    assert type(factory.create_parser("rest-xml")).__name__ == "RestXMLParser"
