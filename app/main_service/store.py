"""Todos in DynamoDB, with the list order kept in a sort key so a page is one Query.

List order ("open first, then by due date, then newest") lives in the number `listKey`,
the sort key of the local secondary index `listOrder` (partition `userID`):

    listKey = statusPart + restPart
    statusPart = 0 while open, 10**30 once completed
    restPart = dueDay * 10**15 + (10**15 - 1 - createdMs)   (dueDay 9_999_999 when none)

A page is one Query of the caller's partition in that index, in key order, starting after the
cursor's key. An update stays one UpdateItem: DynamoDB evaluates `SET a = :x + b` against the
item as stored, so changing only `completed` writes `listKey = :status + restPart`, changing
only `dateDue` writes `listKey = statusPart + :rest` (createdMs comes from the UUIDv7 todo ID),
and concurrent updates serialise on the item. A todo being deleted has no `listKey`, which
drops it from the (sparse) index: it vanishes from lists at once.
"""

from __future__ import annotations

import re
import time
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from botocore.exceptions import ClientError
from common import cursor as cursors
from common.errors import NotFound, Unavailable
from common.ids import created_ms, is_todo_id, new_todo_id
from pydantic import TypeAdapter

STATUS_DONE = 10**30
NO_DUE_DAY = 9_999_999
CREATED_SPAN = 10**15
# While searching, a page reads this many index entries and returns up to `limit` matches:
# still one Query per page, with fewer near-empty pages.
SEARCH_READ = 200
S3_DELETE_BATCH = 1000
DYNAMODB_WRITE_BATCH = 25
QUERY_PAGE = 1000
UNPROCESSED_RETRIES = 8

# What a list page reads of each item: the API's fields and the cursor's position (listKey,
# todoID). Leaving out the key and search copies (userID, titleSearch, statusPart, restPart)
# shrinks what DynamoDB sends and botocore parses by a third; the read capacity is the same.
LIST_PROJECTION = (
    "todoID, title, description, notes, dateDue, completed, createdAt, updatedAt, listKey"
)
_STORED_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.(\d{3})Z")
_DATETIME: TypeAdapter[datetime] = TypeAdapter(datetime)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def search_form(text: str) -> str:
    """The caseless, normalised form both the stored title copy and the needle are compared in.

    NFKC before and after case folding (Unicode's caseless matching): "Café" typed with a
    combining accent, or "TODO" in full-width letters, matches a search for "café" or "todo".
    """
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def status_part(completed: bool) -> int:
    return STATUS_DONE if completed else 0


def rest_part(date_due: date | None, todo_id: str) -> int:
    day = date_due.toordinal() if date_due is not None else NO_DUE_DAY
    return day * CREATED_SPAN + (CREATED_SPAN - 1 - created_ms(todo_id))


def api_time(stored: str) -> str:
    """A stored time (`_now()`: milliseconds, `Z`) as the API has always answered it: in the
    JSON form pydantic gives a datetime, with microseconds (`.123000Z`), or none when they are
    zero (`:05Z`). Any other stored form goes through pydantic itself."""
    match = _STORED_TIME.fullmatch(stored)
    if match is None:
        return str(_DATETIME.dump_python(_DATETIME.validate_python(stored), mode="json"))
    return stored[:19] + "Z" if match.group(1) == "000" else stored[:23] + "000Z"


def _text(item: dict[str, Any], name: str, default: str = "") -> str:
    found = item.get(name)
    return default if found is None else str(found["S"])


def list_key_of(list_key: int, todo_id: str) -> bool:
    """Whether `list_key` is one that a todo with this ID can have: a status part of 0 or
    STATUS_DONE, a due day that is a date's ordinal or NO_DUE_DAY, and the ID's creation time."""
    status, rest = divmod(list_key, STATUS_DONE)
    day, created = divmod(rest, CREATED_SPAN)
    return (
        status in (0, 1)
        and (1 <= day <= date.max.toordinal() or day == NO_DUE_DAY)
        and created == CREATED_SPAN - 1 - created_ms(todo_id)
    )


def to_public(item: dict[str, Any]) -> dict[str, Any]:
    """A stored item (DynamoDB's attribute values) as the API's todo, ready for JSON: the
    schema is this module's own (create writes every attribute, as S or BOOL), so it is read
    directly rather than through boto3's TypeDeserializer and a pydantic round trip."""
    completed = item.get("completed")
    due = item.get("dateDue")
    return {
        "todoId": item["todoID"]["S"],
        "title": item["title"]["S"],
        "description": _text(item, "description"),
        "notes": _text(item, "notes"),
        "dateDue": date.fromisoformat(due["S"]).isoformat() if due is not None else None,
        "completed": bool(completed["BOOL"]) if completed is not None else False,
        "createdAt": api_time(item["createdAt"]["S"]),
        "updatedAt": api_time(item["updatedAt"]["S"]),
    }


def _is_conditional_failure(error: ClientError) -> bool:
    return bool(error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException")


@dataclass(frozen=True)
class TodoStore:
    dynamodb: Any
    s3: Any
    todos_table: str
    files_table: str
    files_bucket: str
    list_index: str

    # -- one todo ------------------------------------------------------------------------
    def create(
        self, sub: str, title: str, description: str, date_due: date | None
    ) -> dict[str, Any]:
        todo_id = new_todo_id()
        now = _now()
        item: dict[str, Any] = {
            "userID": {"S": sub},
            "todoID": {"S": todo_id},
            "title": {"S": title},
            "titleSearch": {"S": search_form(title)},
            "description": {"S": description},
            "notes": {"S": ""},
            "completed": {"BOOL": False},
            "createdAt": {"S": now},
            "updatedAt": {"S": now},
            "statusPart": {"N": "0"},
            "restPart": {"N": str(rest_part(date_due, todo_id))},
            "listKey": {"N": str(rest_part(date_due, todo_id))},
        }
        if date_due is not None:
            item["dateDue"] = {"S": date_due.isoformat()}
        self.dynamodb.put_item(
            TableName=self.todos_table,
            Item=item,
            ConditionExpression="attribute_not_exists(todoID)",
        )
        return to_public(item)

    def get(self, sub: str, todo_id: str) -> dict[str, Any]:
        response = self.dynamodb.get_item(
            TableName=self.todos_table,
            Key=self._key(sub, todo_id),
            ConsistentRead=True,
        )
        item = response.get("Item")
        if item is None or "deleting" in item:
            raise NotFound("todo")
        return to_public(item)

    def update(self, sub: str, todo_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        sets = ["updatedAt = :updatedAt"]
        removes: list[str] = []
        values: dict[str, Any] = {":updatedAt": {"S": _now()}}
        if "title" in changes:
            sets += ["title = :title", "titleSearch = :titleSearch"]
            values[":title"] = {"S": changes["title"]}
            values[":titleSearch"] = {"S": search_form(changes["title"])}
        for name in ("description", "notes"):
            if name in changes:
                sets.append(f"{name} = :{name}")
                values[f":{name}"] = {"S": changes[name]}
        if "completed" in changes:
            sets += ["completed = :completed", "statusPart = :status"]
            values[":completed"] = {"BOOL": changes["completed"]}
            values[":status"] = {"N": str(status_part(changes["completed"]))}
        if "dateDue" in changes:
            due: date | None = changes["dateDue"]
            if due is None:
                removes.append("dateDue")
            else:
                sets.append("dateDue = :dateDue")
                values[":dateDue"] = {"S": due.isoformat()}
            sets.append("restPart = :rest")
            values[":rest"] = {"N": str(rest_part(due, todo_id))}
        if "completed" in changes and "dateDue" in changes:
            sets.append("listKey = :status + :rest")
        elif "completed" in changes:
            sets.append("listKey = :status + restPart")
        elif "dateDue" in changes:
            sets.append("listKey = statusPart + :rest")
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        try:
            response = self.dynamodb.update_item(
                TableName=self.todos_table,
                Key=self._key(sub, todo_id),
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(todoID) AND attribute_not_exists(deleting)",
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if _is_conditional_failure(error):
                raise NotFound("todo") from None
            raise
        return to_public(response["Attributes"])

    # -- the list ------------------------------------------------------------------------
    def page(
        self, sub: str, limit: int, search: str, cursor: str
    ) -> tuple[list[dict[str, Any]], str | None]:
        needle = search_form(search)
        params: dict[str, Any] = {
            "TableName": self.todos_table,
            "IndexName": self.list_index,
            "KeyConditionExpression": "userID = :user",
            "ExpressionAttributeValues": {":user": {"S": sub}},
            "ScanIndexForward": True,
            "ConsistentRead": True,
            "Limit": max(limit + 1, SEARCH_READ) if needle else limit + 1,
            "ProjectionExpression": LIST_PROJECTION,
        }
        if needle:
            params["FilterExpression"] = "contains(titleSearch, :needle)"
            params["ExpressionAttributeValues"][":needle"] = {"S": needle}
        if cursor:
            params["ExclusiveStartKey"] = self._start_key(sub, cursor, needle)
        items, next_position = cursors.query_page(self.dynamodb, params, limit)
        next_cursor = None
        if next_position is not None:
            next_cursor = cursors.encode(
                {"k": next_position["listKey"]["N"], "id": next_position["todoID"]["S"]},
                sub,
                needle,
            )
        return [to_public(item) for item in items], next_cursor

    def _start_key(self, sub: str, cursor: str, needle: str) -> dict[str, Any]:
        position = cursors.decode(cursor, {"k": cursors.is_integer, "id": is_todo_id}, sub, needle)
        list_key, todo_id = int(position["k"]), position["id"]
        if not list_key_of(list_key, todo_id):
            raise cursors.invalid()
        return {**self._key(sub, todo_id), "listKey": {"N": str(list_key)}}

    # -- delete, with its files --------------------------------------------------------
    def delete(self, sub: str, todo_id: str) -> None:
        """Mark, then remove the S3 objects, the file records, and last the todo itself.

        The mark hides the todo at once (GET answers 404, lists skip it, PATCH and new
        attachments are refused). If the process dies midway, the todo is still there,
        marked: the next DELETE repeats the sweep (each step is idempotent) and finishes.
        """
        try:
            self.dynamodb.update_item(
                TableName=self.todos_table,
                Key=self._key(sub, todo_id),
                UpdateExpression="SET deleting = :now REMOVE listKey",
                ConditionExpression="attribute_exists(todoID)",
                ExpressionAttributeValues={":now": {"S": _now()}},
            )
        except ClientError as error:
            if _is_conditional_failure(error):
                raise NotFound("todo") from None
            raise
        self._delete_objects(f"{sub}/{todo_id}/")
        self._delete_file_records(todo_id)
        self.dynamodb.delete_item(TableName=self.todos_table, Key=self._key(sub, todo_id))

    def _delete_objects(self, prefix: str) -> None:
        pages = self.s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.files_bucket,
            Prefix=prefix,
            PaginationConfig={"PageSize": S3_DELETE_BATCH},
        )
        for page in pages:
            keys = [{"Key": entry["Key"]} for entry in page.get("Contents", [])]
            if not keys:
                continue
            response = self.s3.delete_objects(
                Bucket=self.files_bucket, Delete={"Objects": keys, "Quiet": True}
            )
            if response.get("Errors"):
                raise Unavailable("some attachments could not be deleted, retry the delete")

    def _delete_file_records(self, todo_id: str) -> None:
        pages = self.dynamodb.get_paginator("query").paginate(
            TableName=self.files_table,
            KeyConditionExpression="todoID = :todo",
            ExpressionAttributeValues={":todo": {"S": todo_id}},
            ProjectionExpression="todoID, fileID",
            ConsistentRead=True,
            PaginationConfig={"PageSize": QUERY_PAGE},
        )
        for page in pages:
            keys = page.get("Items", [])
            for start in range(0, len(keys), DYNAMODB_WRITE_BATCH):
                batch = keys[start : start + DYNAMODB_WRITE_BATCH]
                self._batch_delete([{"DeleteRequest": {"Key": key}} for key in batch])

    def _batch_delete(self, requests: list[dict[str, Any]]) -> None:
        pending = {self.files_table: requests}
        for attempt in range(UNPROCESSED_RETRIES):
            response = self.dynamodb.batch_write_item(RequestItems=pending)
            pending = response.get("UnprocessedItems") or {}
            if not pending:
                return
            time.sleep(min(0.05 * 2**attempt, 1.0))
        raise Unavailable("the file records could not all be deleted, retry the delete")

    @staticmethod
    def _key(sub: str, todo_id: str) -> dict[str, Any]:
        return {"userID": {"S": sub}, "todoID": {"S": todo_id}}
