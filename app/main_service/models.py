"""The todo API's bodies: these models validate requests and generate the OpenAPI document."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from common.validation import pattern
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

MAX_TITLE = 200
MAX_DESCRIPTION = 2000
MAX_NOTES = 10000
MAX_SEARCH = 200
# Up to 200 todos a page: a page's fixed cost (the request, the token, one DynamoDB call) is most
# of its CPU, and DynamoDB's 1 MB per Query bounds a page's size whatever the limit; the website
# asks for 20 (docs/services.md, "Page size").
MAX_PAGE = 200

ASCII_SPACE = " \t\n\r\f\v"
# At least one character that is not ASCII whitespace; the stored title is stripped of it.
# (ASCII only: JSON Schema's \s and Python's str.strip disagree on some Unicode spaces.)
Title = Annotated[
    str,
    StringConstraints(
        min_length=1, max_length=MAX_TITLE, pattern=pattern(r"[^ \t\n\r\f\v]", "must not be blank")
    ),
    AfterValidator(lambda value: value.strip(ASCII_SPACE)),
]
Description = Annotated[str, StringConstraints(max_length=MAX_DESCRIPTION)]
Notes = Annotated[str, StringConstraints(max_length=MAX_NOTES)]


def _not_nullable(*names: str) -> Any:
    """JSON-schema hook: these optional fields may be omitted but never null."""

    def hook(schema: dict[str, Any]) -> None:
        for name in names:
            prop = schema["properties"][name]
            variants = [v for v in prop.pop("anyOf", []) if v.get("type") != "null"]
            if variants:
                prop.update(variants[0])
            prop.pop("default", None)

    return hook


class TodoCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, title="TodoCreate")

    title: Title = Field(description="1 to 200 characters, not only spaces")
    description: Description = ""
    dateDue: date | None = Field(default=None, description="ISO date, YYYY-MM-DD")


def _patch_schema(schema: dict[str, Any]) -> None:
    _not_nullable("title", "description", "notes", "completed")(schema)
    schema["minProperties"] = 1


class TodoPatch(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        title="TodoPatch",
        json_schema_extra=_patch_schema,
    )

    title: Title | None = None
    description: Description | None = None
    notes: Notes | None = None
    dateDue: date | None = Field(default=None, description="ISO date; null clears it")
    completed: bool | None = None

    @field_validator("title", "description", "notes", "completed", mode="before")
    @classmethod
    def _no_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may be omitted but not null")
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> TodoPatch:
        if not self.model_fields_set:
            raise ValueError("at least one field is required")
        return self


class Todo(BaseModel):
    model_config = ConfigDict(extra="forbid", title="Todo")

    todoId: str = Field(json_schema_extra={"format": "uuid"})
    title: str
    description: str
    notes: str
    dateDue: date | None
    completed: bool
    createdAt: datetime
    updatedAt: datetime


class TodoPage(BaseModel):
    model_config = ConfigDict(extra="forbid", title="TodoPage")

    items: list[Todo]
    nextCursor: str | None = Field(
        description="pass as `cursor` for the next page; null on the last page. A page may hold "
        "fewer than `limit` items when searching."
    )


class ListQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=20, ge=1, le=MAX_PAGE, description="page size")
    search: str = Field(
        default="",
        max_length=MAX_SEARCH,
        description="case-insensitive substring of the title, taken literally",
    )
    cursor: str = Field(
        default="",
        max_length=1024,
        pattern=pattern(r"^[A-Za-z0-9_-]*$", "invalid or from another query"),
        description="`nextCursor` of the previous page (opaque)",
    )
