"""Request bodies and query strings validated into pydantic models; failures name the field."""

from __future__ import annotations

from typing import TypeVar

from flask import request
from pydantic import BaseModel, ValidationError

from common.errors import ApiError

M = TypeVar("M", bound=BaseModel)

# What a failed pattern means, by pattern: pydantic's own message quotes the regex.
_PATTERN_MEANS: dict[str, str] = {}


def pattern(regex: str, means: str) -> str:
    """`regex`, for a model's pattern constraint; a value that fails it is refused with
    `means`, in plain words, instead of pydantic's message quoting the regex."""
    _PATTERN_MEANS[regex] = means
    return regex


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
