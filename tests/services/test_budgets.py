"""AWS calls per request, counted by a botocore before-call hook inside the service process."""

from __future__ import annotations

import math
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from scripts.local import LocalStack
from tests.services.conftest import Api, aws_calls, unknown_todo_id

S3_PAGE = 1000
DELETE_OBJECTS_BATCH = 1000
QUERY_PAGE = 1000
WRITE_BATCH = 25


def seed_files(stack: LocalStack, user_sub: str, todo_id: str, count: int) -> None:
    """Records in BatchWriteItem batches and objects in parallel, straight into the emulator."""
    dynamodb = stack.client("dynamodb")
    file_ids = [str(uuid.uuid4()) for _ in range(count)]
    for start in range(0, count, WRITE_BATCH):
        requests: list[dict[str, Any]] = [
            {
                "PutRequest": {
                    "Item": {
                        "todoID": {"S": todo_id},
                        "fileID": {"S": file_id},
                        "userID": {"S": user_sub},
                        "name": {"S": f"{file_id}.txt"},
                        "contentType": {"S": "text/plain"},
                        "size": {"N": "1"},
                        "createdAt": {"S": "2030-01-01T00:00:00.000Z"},
                    }
                }
            }
            for file_id in file_ids[start : start + WRITE_BATCH]
        ]
        assert not dynamodb.batch_write_item(
            RequestItems={stack.resources["FilesTable"]: requests}
        ).get("UnprocessedItems")
    s3 = stack.client("s3")

    def put(file_id: str) -> None:
        s3.put_object(
            Bucket=stack.resources["FilesBucket"], Key=f"{user_sub}/{todo_id}/{file_id}", Body=b"x"
        )

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(put, file_ids))


def test_single_item_operations_cost_one_call(api: Api) -> None:
    created = api.post("/todos", json={"title": "budget"})
    assert aws_calls(created) == {"DynamoDB.PutItem": 1}
    path = f"/todos/{created.json()['todoId']}"
    assert aws_calls(api.get(path)) == {"DynamoDB.GetItem": 1}
    assert aws_calls(api.patch(path, json={"completed": True})) == {"DynamoDB.UpdateItem": 1}
    assert aws_calls(api.patch(path, json={"dateDue": "2030-02-03"})) == {"DynamoDB.UpdateItem": 1}
    missing = api.get(f"/todos/{unknown_todo_id()}")
    assert aws_calls(missing) == {"DynamoDB.GetItem": 1}
    assert aws_calls(api.get("/todos/malformed")) == {}


@pytest.mark.parametrize("search", ["", "budget"])
def test_list_costs_one_query_per_page(api: Api, search: str) -> None:
    for n in range(5):
        api.create(title=f"budget {n}")
    cursor = ""
    pages = 0
    while True:
        response = api.get("/todos", params={"limit": 2, "search": search, "cursor": cursor})
        assert aws_calls(response) == {"DynamoDB.Query": 1}
        pages += 1
        cursor = response.json()["nextCursor"]
        if cursor is None:
            break
    assert pages == 3


def test_files_routes_budget(api: Api) -> None:
    todo_id = api.create()["todoId"]
    body = {"name": "a.txt", "contentType": "text/plain", "size": 1}
    registered = api.post(f"/todos/{todo_id}/files", json=body)
    # The ownership check and the record: one transaction.
    assert aws_calls(registered) == {"DynamoDB.TransactWriteItems": 1}
    listed = api.get(f"/todos/{todo_id}/files")
    assert aws_calls(listed) == {"DynamoDB.GetItem": 1, "DynamoDB.Query": 1}
    file_id = registered.json()["file"]["fileId"]
    deleted = api.delete(f"/todos/{todo_id}/files/{file_id}")
    assert aws_calls(deleted) == {
        "DynamoDB.GetItem": 1,
        "DynamoDB.Query": 1,
        "S3.DeleteObject": 1,
        "DynamoDB.DeleteItem": 1,
    }
    # A file that does not exist: the two checks and nothing more (no S3 delete marker).
    gone = api.delete(f"/todos/{todo_id}/files/{file_id}")
    assert gone.status_code == 404
    assert aws_calls(gone) == {"DynamoDB.GetItem": 1, "DynamoDB.Query": 1}
    # Someone else's or a missing todo: the ownership check and nothing more.
    missing = unknown_todo_id()
    assert aws_calls(api.get(f"/todos/{missing}/files")) == {"DynamoDB.GetItem": 1}
    refused = api.post(f"/todos/{missing}/files", json=body)
    assert refused.status_code == 404
    assert aws_calls(refused) == {"DynamoDB.TransactWriteItems": 1}


def expected_delete_calls(files: int) -> dict[str, int]:
    """Mark, list + DeleteObjects per 1,000 keys, query pages + BatchWriteItem per 25, delete."""
    expected = {
        "DynamoDB.UpdateItem": 1,
        "S3.ListObjectsV2": max(1, math.ceil(files / S3_PAGE)),
        "S3.DeleteObjects": math.ceil(files / DELETE_OBJECTS_BATCH),
        # A Query page that fills its limit reports more even when none follow (DynamoDB).
        "DynamoDB.Query": files // QUERY_PAGE + 1,
        "DynamoDB.BatchWriteItem": math.ceil(files / WRITE_BATCH),
        "DynamoDB.DeleteItem": 1,
    }
    return {name: count for name, count in expected.items() if count}


@pytest.mark.parametrize("files", [0, 30, 2500])
def test_delete_with_files_is_batched(api: Api, stack: LocalStack, files: int) -> None:
    todo_id = api.create(title=f"{files} files")["todoId"]
    seed_files(stack, api.user.sub, todo_id, files)
    response = api.delete(f"/todos/{todo_id}")
    assert response.status_code == 204, response.text
    assert aws_calls(response) == expected_delete_calls(files)
    if files == 2500:
        assert expected_delete_calls(files) == {
            "DynamoDB.UpdateItem": 1,
            "S3.ListObjectsV2": 3,
            "S3.DeleteObjects": 3,
            "DynamoDB.Query": 3,
            "DynamoDB.BatchWriteItem": 100,
            "DynamoDB.DeleteItem": 1,
        }
    s3 = stack.client("s3")
    left = s3.list_objects_v2(Bucket=stack.resources["FilesBucket"], Prefix=f"{api.user.sub}/")
    assert left.get("KeyCount", 0) == 0
    records = stack.client("dynamodb").query(
        TableName=stack.resources["FilesTable"],
        KeyConditionExpression="todoID = :t",
        ExpressionAttributeValues={":t": {"S": todo_id}},
        Select="COUNT",
    )
    assert records["Count"] == 0
    assert api.get(f"/todos/{todo_id}").status_code == 404
