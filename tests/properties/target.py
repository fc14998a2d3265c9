"""What the property suites run against: base URLs, a signed-in user, and the emulator's state."""

from __future__ import annotations

import http.client
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

# The load balancer's rules: these paths go to the files service, every other to main.
FILES_PATH = re.compile(r"/todos/[^/?#]*/files(/[^/?#]*)?(\?.*)?")


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def send(
    base: str, method: str, target: str, body: bytes | None = None, headers: Mapping[str, str] = {}
) -> Answer:
    """One request with `target` on the request line exactly as given (no re-encoding)."""
    url = urlsplit(base)
    connection = http.client.HTTPConnection(url.hostname or "", url.port, timeout=30)
    try:
        connection.request(method, target, body=body, headers=dict(headers))
        response = connection.getresponse()
        # Header names folded to lower case: the answer's meaning, not its spelling.
        found = {name.lower(): value for name, value in response.getheaders()}
        return Answer(response.status, found, response.read())
    finally:
        connection.close()


def scan(dynamodb: Any, table: str) -> list[str]:
    items: list[str] = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        items += (json.dumps(item, sort_keys=True) for item in page["Items"])
    return sorted(items)


def object_versions(s3: Any, bucket: str) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for version in page.get("Versions", []):
            found.append(("object", version["Key"], version["VersionId"], version["ETag"]))
        for marker in page.get("DeleteMarkers", []):
            found.append(("delete marker", marker["Key"], marker["VersionId"]))
    return sorted(found)


@dataclass(frozen=True)
class Emulator:
    """The emulator behind the target: what a refused request must leave as it was."""

    dynamodb: Any
    s3: Any
    tables: tuple[str, ...]
    bucket: str

    def snapshot(self) -> dict[str, Any]:
        state: dict[str, Any] = {table: scan(self.dynamodb, table) for table in self.tables}
        state[self.bucket] = object_versions(self.s3, self.bucket)
        return state


@dataclass(frozen=True)
class Target:
    """Where the suites send requests, as whom, with what data in place.

    `base_urls` each receive every path the path suite makes up (straight at the services, both
    must survive every path; through a gateway, one URL). `route` picks the one base URL that
    serves a documented path. The seeded todos and file belong to `headers`' user; the foreign
    todos to another user, whose IDs no answer may ever hold.
    """

    base_urls: tuple[str, ...]
    route: Callable[[str], str]
    headers: Mapping[str, str]
    sub: str
    emulator: Emulator
    todo_ids: tuple[str, ...]
    patch_todo_id: str
    file: tuple[str, str]
    foreign_todo_ids: tuple[str, ...]
    todo_cursor: str
    file_cursor: str
    body_limits: Mapping[str, int]
    max_upload_bytes: int
    # Through a gateway, which answers some requests itself in API Gateway's shape.
    gateway: bool = False

    def call(
        self,
        method: str,
        target: str,
        body: bytes | None = None,
        content_type: str | None = "application/json",
        base: str | None = None,
    ) -> Answer:
        headers = dict(self.headers)
        if content_type is not None and body is not None:
            headers["Content-Type"] = content_type
        return send(base or self.route(target), method, target, body, headers)


def gateway_route(api: str) -> Callable[[str], str]:
    """Through the gateway every path goes to one URL; the gateway routes it."""
    return lambda _target: api


def service_route(main: str, files: str) -> Callable[[str], str]:
    """The load balancer's choice between the two services, for straight calls to them."""
    return lambda target: files if FILES_PATH.fullmatch(target) else main
