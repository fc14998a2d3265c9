"""DynamoDB responses parsed by botocore, without its member-by-member walk of every attribute.

botocore parses a JSON response in two steps: `json.loads`, then a walk over the operation's
output shape that rebuilds each structure member by member. An item attribute is an
AttributeValue, a structure of ten optional members (S, N, B, SS, NS, BS, M, L, NULL, BOOL) of
which DynamoDB sets one; the walk looks up all ten and copies the one it finds, about 3 µs per
attribute, which made botocore's parser the largest CPU cost of a page of todos (the profile in
docs/services.md). For an attribute whose single member is S, N, BOOL or NULL, the decoded JSON
is already exactly what the walk returns (`{"S": "text"}`, strings and booleans kept as they
are), so this parser keeps it. Every other attribute value (B and BS, whose base64 botocore
decodes; SS, NS, M, L; several, unknown or null members) still goes through botocore's own
walk, and so does every other shape, error and header: botocore still builds, signs, sends,
retries and parses every call, and only this one shape takes the short path.

The parser plugs in through botocore's `response_parser_factory` session component.
tests/services/test_attribute_values.py parses generated responses with botocore's parser and
this one and requires identical results.
"""

from __future__ import annotations

from typing import Any

from botocore.model import Shape
from botocore.parsers import JSONParser, ResponseParserFactory

ATTRIBUTE_VALUE = "AttributeValue"
# Members whose JSON form is their parsed form (strings, and booleans for NULL and BOOL).
KEPT_AS_DECODED = frozenset(("S", "N", "BOOL", "NULL"))
# The AttributeValue this parser knows: any other shape of that name takes botocore's path.
KNOWN_MEMBERS = {
    "S": "string",
    "N": "string",
    "B": "blob",
    "SS": "list",
    "NS": "list",
    "BS": "list",
    "M": "map",
    "L": "list",
    "NULL": "boolean",
    "BOOL": "boolean",
}

# Shapes are few and live as long as the client's service model; the shape is kept alongside
# the verdict so that its id cannot be reused by another object while it is in this cache.
_verdicts: dict[int, tuple[Shape, bool]] = {}


def is_attribute_value(shape: Shape) -> bool:
    """Whether the shape is DynamoDB's AttributeValue, exactly as this parser knows it."""
    found = _verdicts.get(id(shape))
    if found is None or found[0] is not shape:
        members = getattr(shape, "members", None) or {}
        known = (
            shape.name == ATTRIBUTE_VALUE
            and shape.type_name == "structure"
            and not shape.is_document_type
            and not getattr(shape, "is_tagged_union", False)
            and {name: member.type_name for name, member in members.items()} == KNOWN_MEMBERS
            and all(not member.serialization.get("name") for member in members.values())
        )
        found = _verdicts[id(shape)] = (shape, known)
    return found[1]


def _kept(value: Any) -> bool:
    """A decoded attribute value that botocore's walk would return unchanged."""
    if type(value) is not dict or len(value) != 1:
        return False
    ((member, raw),) = value.items()
    return member in KEPT_AS_DECODED and raw is not None


class AttributeValueParser(JSONParser):
    """botocore's JSON parser, with the short path for plain attribute values."""

    def _handle_structure(self, shape: Shape, value: Any) -> Any:
        if _kept(value) and is_attribute_value(shape):
            return value
        return super()._handle_structure(shape, value)

    def _handle_map(self, shape: Any, value: Any) -> Any:
        # An item: a map from attribute names (strings, kept as they are) to attribute values.
        value_shape = shape.value
        if shape.key.type_name != "string" or not is_attribute_value(value_shape):
            return super()._handle_map(shape, value)
        parsed = {}
        walk = super()._handle_structure
        for name, attribute in value.items():
            # _kept(), inlined: this loop runs for every attribute of every item.
            if type(attribute) is dict and len(attribute) == 1:
                ((member, raw),) = attribute.items()
                if member in KEPT_AS_DECODED and raw is not None:
                    parsed[name] = attribute
                    continue
            parsed[name] = walk(value_shape, attribute)
        return parsed


class ParserFactory(ResponseParserFactory):
    """botocore's factory, making AttributeValueParser for the JSON protocol (DynamoDB's)."""

    def create_parser(self, protocol_name: str) -> Any:
        if protocol_name == "json":
            return AttributeValueParser(**self._defaults)
        return super().create_parser(protocol_name)
