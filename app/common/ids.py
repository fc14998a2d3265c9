"""Server-generated identifiers, and the strict check that turns a malformed one into a 404."""

from __future__ import annotations

import re
import secrets
import time
import uuid

from common.errors import NotFound

# Checked with fullmatch: `$` would also match before a final newline ("<uuid>\n").
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def is_uuid(value: str) -> bool:
    return _UUID.fullmatch(value) is not None


def new_file_id() -> str:
    return str(uuid.uuid4())


def new_todo_id(now_ms: int | None = None) -> str:
    """A UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then 74 random bits.

    The creation time inside the ID lets an update recompute the list order key from the
    request alone (see main_service.store), so an update stays one DynamoDB call.
    """
    millis = int(time.time() * 1000) if now_ms is None else now_ms
    value = (millis & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= secrets.randbits(12) << 64
    value |= 0b10 << 62
    value |= secrets.randbits(62)
    return str(uuid.UUID(int=value))


def created_ms(todo_id: str) -> int:
    """Creation time (Unix ms) of an ID from new_todo_id."""
    return uuid.UUID(todo_id).int >> 80


def is_todo_id(value: str) -> bool:
    return is_uuid(value) and value[14] == "7"


def todo_id_or_404(value: str) -> str:
    """The value, if it is a todo ID: a malformed ID names no todo, so it answers 404."""
    if not is_todo_id(value):
        raise NotFound("todo")
    return value
