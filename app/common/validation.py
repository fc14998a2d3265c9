"""Request bodies and query strings validated into pydantic models; failures name the field."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, TypeVar

from flask import Flask, request
from pydantic import BaseModel, ValidationError

from common.errors import ApiError
from common.openapi import Operation

M = TypeVar("M", bound=BaseModel)

# The longest a character can be in a JSON string: one UTF-16 unit escaped is 6 bytes
# (`\u0001`), so a character outside the Basic Multilingual Plane, escaped as a surrogate pair
# (`\ud83d\ude00`), is 12.
JSON_BYTES_PER_CHAR = 12
JSON_BYTES_PER_ASCII_CHAR = 6
# Braces, quotes, colons and commas, and whitespace between them, on top of the members.
JSON_FRAME_BYTES = 4096
# Members whose JSON text has no maxLength: booleans, null, dates, numbers (written in up to
# this many characters, e.g. 10485760 or 1.0e7).
_SCALAR_CHARS = {"boolean": 5, "null": 4, "integer": 32, "number": 32}
_FORMAT_CHARS = {"date": len("YYYY-MM-DD")}

# What a failed pattern means, by pattern: pydantic's own message quotes the regex.
_PATTERN_MEANS: dict[str, str] = {}


def pattern(regex: str, means: str) -> str:
    """`regex`, for a model's pattern constraint; a value that fails it is refused with
    `means`, in plain words, instead of pydantic's message quoting the regex."""
    _PATTERN_MEANS[regex] = means
    return regex


def _member_bytes(schema: dict[str, Any]) -> int:
    """The most bytes one member's value can take in JSON, within its schema's limits."""
    variants = schema.get("anyOf") or [schema]
    sizes = []
    for variant in variants:
        kind = variant.get("type")
        if kind == "string" and "maxLength" in variant:
            sizes.append(variant["maxLength"] * JSON_BYTES_PER_CHAR)
        elif kind == "string" and variant.get("format") in _FORMAT_CHARS:
            sizes.append(_FORMAT_CHARS[variant["format"]] * JSON_BYTES_PER_ASCII_CHAR)
        elif kind in _SCALAR_CHARS:
            sizes.append(_SCALAR_CHARS[kind])
        else:
            raise TypeError(f"no size limit for a body member of schema {variant}")
    return max(sizes)


def json_body_limit(model: type[BaseModel]) -> int:
    """The largest JSON body of `model` that stays within every documented field limit.

    Each member at its limit with every character in its costliest escape (the names too: JSON
    lets a client escape those as well), plus JSON_FRAME_BYTES. Derived from the same JSON
    schema the OpenAPI document publishes, so a new field or a new limit moves it too.
    """
    properties: dict[str, dict[str, Any]] = model.model_json_schema()["properties"]
    return JSON_FRAME_BYTES + sum(
        len(name) * JSON_BYTES_PER_ASCII_CHAR + _member_bytes(schema)
        for name, schema in properties.items()
    )


def _invalid(error: ValidationError, prefix: str) -> ApiError:
    first = error.errors(include_url=False)[0]
    location = ".".join(str(part) for part in first["loc"])
    field = location or prefix
    message = first["msg"]
    if first["type"] == "json_invalid":
        field, message = "body", "body is not valid JSON"
    elif first["type"] == "extra_forbidden":
        message = "unknown field"
    elif first["type"] == "string_pattern_mismatch":
        message = _PATTERN_MEANS.get(str(first.get("ctx", {}).get("pattern")), "invalid format")
    return ApiError(400, f"{field}: {message}", field=field)


def parse_body(model: type[M]) -> M:
    if request.mimetype != "application/json":
        raise ApiError(415, "Content-Type must be application/json")
    data = request.get_data(cache=False)  # raises 413 beyond MAX_CONTENT_LENGTH
    if not data.strip().startswith(b"{"):
        raise ApiError(400, "body: must be a JSON object", field="body")
    try:
        return model.model_validate_json(data)
    except ValidationError as error:
        raise _invalid(error, "body") from None


def parse_query(model: type[M]) -> M:
    try:
        return model.model_validate(request.args.to_dict())
    except ValidationError as error:
        raise _invalid(error, "query") from None


def _route_shape(path: str) -> str:
    """`/todos/{todoId}` (OpenAPI) and `/todos/<todo_id>` (Flask) alike become `/todos/{}`."""
    return re.sub(r"<[^>]*>|\{[^}]*\}", "{}", path)


def guard_query_parameters(app: Flask, operations: Iterable[Operation]) -> None:
    """Every route refuses with 400 a query parameter it does not declare, as documented, and
    one given twice (which value would count is a guess).

    Checked for each request before anything else runs, so a refused request changes nothing.
    Start-up fails if a route has no operation in the document, so none can escape the check.
    """
    declared = {
        (op.method, _route_shape(op.path)): frozenset(op.query.model_fields if op.query else ())
        for op in operations
    }
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if (method, _route_shape(rule.rule)) not in declared:
                raise RuntimeError(f"{method} {rule.rule} is not in the OpenAPI document")

    @app.before_request
    def _query_parameters() -> None:
        if request.url_rule is None:
            return  # no route: answered 404 or 405 by routing
        method = "GET" if request.method == "HEAD" else request.method
        allowed = declared.get((method, _route_shape(request.url_rule.rule)))
        for name in request.args if allowed is not None else ():
            field = name or "query"
            if name not in allowed:
                raise ApiError(400, f"{field}: unknown query parameter", field=field)
            if len(request.args.getlist(name)) > 1:
                raise ApiError(400, f"{field}: given more than once", field=field)
