"""Opaque page cursors: base64url JSON `{"p": position, "s": scope}`.

A cursor only says where the caller's previous page ended. The partition it is applied to
always comes from the verified token, so a cursor can never reach another user's data. The
scope `s` is a digest of the caller and the query, so a cursor reused with another search, user
or todo is refused; it is a checksum, not a signature, and needs no key (docs/services.md says
why). Decoding is strict: exactly these two members, a position with exactly the expected
fields, each a string that passes its check; anything else answers 400, never 500.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from common.errors import ApiError

MAX_CURSOR_CHARS = 1024
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
# A non-negative integer as the server writes one: ASCII digits, no sign, no leading zero.
# (str.isdigit() also accepts "²" and other Unicode digits, some of which int() refuses.)
_INTEGER = re.compile(r"0|[1-9][0-9]{0,37}")


def is_integer(value: str) -> bool:
    return _INTEGER.fullmatch(value) is not None


def _scope(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def invalid() -> ApiError:
    return ApiError(400, "cursor: invalid or from another query", field="cursor")


def encode(position: dict[str, str], *scope: str) -> str:
    payload = {"p": position, "s": _scope(*scope)}
    raw = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str, fields: Mapping[str, Callable[[str], bool]], *scope: str) -> dict[str, str]:
    """The position in `cursor`: exactly `fields`, each a string its check accepts."""
    if len(cursor) > MAX_CURSOR_CHARS or not _BASE64URL.fullmatch(cursor):
        raise invalid()
    try:
        raw = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True)
        payload = json.loads(raw)
    except (binascii.Error, ValueError, RecursionError):
        raise invalid() from None
    if not isinstance(payload, dict) or set(payload) != {"p", "s"}:
        raise invalid()
    position = payload["p"]
    if payload["s"] != _scope(*scope) or not isinstance(position, dict):
        raise invalid()
    if set(position) != set(fields):
        raise invalid()
    for name, check in fields.items():
        value = position[name]
        if not isinstance(value, str) or not check(value):
            raise invalid()
    return position


def query_page(
    dynamodb: Any, params: dict[str, Any], limit: int
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Run a Query whose Limit reads past `limit`: up to `limit` items and the key they end at.

    The key (None when nothing follows) is where the next page starts: the last item shown when
    the Query found more, else DynamoDB's LastEvaluatedKey.
    """
    response = dynamodb.query(**params)
    items: list[dict[str, Any]] = response.get("Items", [])
    if len(items) > limit:
        items = items[:limit]
        return items, items[-1]
    return items, response.get("LastEvaluatedKey")
