"""File records in DynamoDB, objects in S3 under <userID>/<todoID>/<fileID>."""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError
from common import cursor as cursors
from common.errors import NotFound, Unavailable
from common.ids import is_uuid, new_file_id

UPLOAD_TTL_SECONDS = 300
DOWNLOAD_TTL_SECONDS = 300
# The todo exists in the caller's partition (the key holds the caller's sub) and is not being
# deleted.
LIVE_TODO = "attribute_exists(todoID) AND attribute_not_exists(deleting)"
# Why DynamoDB cancels a transaction when a retry may succeed: contention or throttling.
RETRYABLE_CANCELLATIONS = frozenset(
    {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}
)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def content_disposition(name: str) -> str:
    """attachment, with an ASCII fallback name and the exact name in RFC 5987 form (RFC 6266).

    Both parts are printable ASCII whatever the name holds (line breaks, control characters,
    quotes, any Unicode), so no name can end the header or add another. The fallback, for
    clients without `filename*`, has `_` for anything outside printable ASCII and for `"`, `\\`,
    `;` and `%` (RFC 6266 appendix D: some clients decode percent escapes in `filename`).
    """
    fallback = "".join(c if " " <= c <= "~" and c not in '"\\;%' else "_" for c in name)
    encoded = urllib.parse.quote(name, safe="")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


def to_public(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "fileId": item["fileID"]["S"],
        "todoId": item["todoID"]["S"],
        "name": item["name"]["S"],
        "contentType": item["contentType"]["S"],
        "size": int(item["size"]["N"]),
        "createdAt": item["createdAt"]["S"],
    }


def cancellation_reasons(error: ClientError) -> list[str]:
    """The per-item reason codes of a cancelled transaction ([] for any other error)."""
    if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return []
    reasons: list[dict[str, Any]] = error.response.get("CancellationReasons", [])
    return [str(reason.get("Code", "None")) for reason in reasons]


@dataclass(frozen=True)
class FileStore:
    dynamodb: Any
    s3: Any
    todos_table: str
    files_table: str
    files_bucket: str

    def require_todo(self, sub: str, todo_id: str) -> None:
        """The ownership check: one GetItem in the caller's own partition."""
        response = self.dynamodb.get_item(
            TableName=self.todos_table,
            Key={"userID": {"S": sub}, "todoID": {"S": todo_id}},
            ProjectionExpression="todoID, deleting",
            ConsistentRead=True,
        )
        item = response.get("Item")
        if item is None or "deleting" in item:
            raise NotFound("todo")

    @staticmethod
    def key(sub: str, todo_id: str, file_id: str) -> str:
        return f"{sub}/{todo_id}/{file_id}"

    def register(
        self, sub: str, todo_id: str, name: str, content_type: str, size: int
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """The ownership check and the record in one transaction (one call).

        The todo must exist in the caller's partition and not be marked for deletion at the
        moment the record is written: a todo's DELETE marks it before it sweeps the records,
        so every record either lands before the mark (and is swept) or is refused (404).
        """
        file_id = new_file_id()
        item = {
            "todoID": {"S": todo_id},
            "fileID": {"S": file_id},
            "userID": {"S": sub},
            "name": {"S": name},
            "contentType": {"S": content_type},
            "size": {"N": str(size)},
            "createdAt": {"S": _now()},
        }
        try:
            self.dynamodb.transact_write_items(
                TransactItems=[
                    {
                        "ConditionCheck": {
                            "TableName": self.todos_table,
                            "Key": {"userID": {"S": sub}, "todoID": {"S": todo_id}},
                            "ConditionExpression": LIVE_TODO,
                        }
                    },
                    {
                        "Put": {
                            "TableName": self.files_table,
                            "Item": item,
                            "ConditionExpression": "attribute_not_exists(fileID)",
                        }
                    },
                ]
            )
        except ClientError as error:
            reasons = cancellation_reasons(error)
            if reasons[:1] == ["ConditionalCheckFailed"]:
                raise NotFound("todo") from None
            if any(reason in RETRYABLE_CANCELLATIONS for reason in reasons):
                raise Unavailable() from None
            raise
        # The policy pins the exact key, the exact Content-Type and the exact size: S3 itself
        # refuses anything else, so the size limit does not depend on the client.
        post = self.s3.generate_presigned_post(
            Bucket=self.files_bucket,
            Key=self.key(sub, todo_id, file_id),
            Fields={"Content-Type": content_type},
            Conditions=[
                {"Content-Type": content_type},
                ["content-length-range", size, size],
            ],
            ExpiresIn=UPLOAD_TTL_SECONDS,
        )
        upload = {
            "url": post["url"],
            "fields": post["fields"],
            "expiresIn": UPLOAD_TTL_SECONDS,
            "maxBytes": size,
        }
        return to_public(item), upload

    def page(
        self, sub: str, todo_id: str, limit: int, cursor: str
    ) -> tuple[list[dict[str, Any]], str | None]:
        params: dict[str, Any] = {
            "TableName": self.files_table,
            "KeyConditionExpression": "todoID = :todo",
            "FilterExpression": "userID = :user",
            "ExpressionAttributeValues": {":todo": {"S": todo_id}, ":user": {"S": sub}},
            "ConsistentRead": True,
            "Limit": limit + 1,
        }
        if cursor:
            file_id = cursors.decode(cursor, {"f": is_uuid}, sub, todo_id)["f"]
            params["ExclusiveStartKey"] = {"todoID": {"S": todo_id}, "fileID": {"S": file_id}}
        items, last = cursors.query_page(self.dynamodb, params, limit)
        next_cursor = cursors.encode({"f": last["fileID"]["S"]}, sub, todo_id) if last else None
        files = []
        for item in items:
            public = to_public(item)
            public["downloadUrl"] = self.s3.generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": self.files_bucket,
                    "Key": self.key(sub, todo_id, public["fileId"]),
                    "ResponseContentDisposition": content_disposition(public["name"]),
                    "ResponseContentType": public["contentType"],
                },
                ExpiresIn=DOWNLOAD_TTL_SECONDS,
            )
            files.append(public)
        return files, next_cursor

    def delete(self, sub: str, todo_id: str, file_id: str) -> None:
        """The record is checked, then the object deleted, then the record.

        The check comes first because deleting the key of a file that does not exist is not a
        no-op in a versioned bucket: S3 adds a delete marker. The object goes before the record,
        so a retry after a crash between them finds the record and finishes the job.
        """
        found = self.dynamodb.query(
            TableName=self.files_table,
            KeyConditionExpression="todoID = :todo AND fileID = :file",
            FilterExpression="userID = :user",
            ExpressionAttributeValues={
                ":todo": {"S": todo_id},
                ":file": {"S": file_id},
                ":user": {"S": sub},
            },
            ProjectionExpression="fileID",
            ConsistentRead=True,
        )
        if not found.get("Items"):
            raise NotFound("file")
        try:
            self.s3.delete_object(Bucket=self.files_bucket, Key=self.key(sub, todo_id, file_id))
            self.dynamodb.delete_item(
                TableName=self.files_table,
                Key={"todoID": {"S": todo_id}, "fileID": {"S": file_id}},
                ConditionExpression="attribute_exists(fileID) AND userID = :user",
                ExpressionAttributeValues={":user": {"S": sub}},
            )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise NotFound("file") from None
            raise
