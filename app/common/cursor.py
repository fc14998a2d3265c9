"""Opaque page cursors.

A cursor only says where the caller's previous page ended. The partition it is applied to
always comes from the verified token, so a cursor can never reach another user's data; it is
also bound to the caller and the query (a digest of both), and its fields are checked strictly
before use, so a tampered cursor answers 400, never 500.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from common.errors import ApiError

MAX_CURSOR_CHARS = 1024


def _scope(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def invalid() -> ApiError:
    return ApiError(400, "cursor: invalid or from another query", field="cursor")


def encode(position: dict[str, str], *scope: str) -> str:
    payload = {"p": position, "s": _scope(*scope)}
    raw = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str, *scope: str) -> dict[str, str]:
    if len(cursor) > MAX_CURSOR_CHARS:
        raise invalid()
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        payload = json.loads(raw)
    except (binascii.Error, ValueError):
        raise invalid() from None
    if not isinstance(payload, dict) or payload.get("s") != _scope(*scope):
        raise invalid()
    position = payload.get("p")
    if not isinstance(position, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in position.items()
    ):
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
