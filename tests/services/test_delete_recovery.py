"""A delete that died midway: the todo stays hidden, and the next DELETE finishes the job.

The crash is simulated by leaving the data exactly as the delete's steps leave it when the
process dies after step k (mark; S3 objects; file records; the todo itself).
"""

from __future__ import annotations

import pytest

from scripts.local import LocalStack
from tests.services.conftest import Api, aws_calls
from tests.services.test_budgets import seed_files

STEPS = ("marked", "objects_deleted", "records_deleted")


def crash_after(stack: LocalStack, api: Api, todo_id: str, step: str) -> None:
    dynamodb = stack.client("dynamodb")
    dynamodb.update_item(
        TableName=stack.resources["TodosTable"],
        Key={"userID": {"S": api.user.sub}, "todoID": {"S": todo_id}},
        UpdateExpression="SET deleting = :now REMOVE listKey",
        ExpressionAttributeValues={":now": {"S": "2030-01-01T00:00:00.000Z"}},
    )
    if step in ("objects_deleted", "records_deleted"):
        s3 = stack.client("s3")
        listed = s3.list_objects_v2(
            Bucket=stack.resources["FilesBucket"], Prefix=f"{api.user.sub}/{todo_id}/"
        )
        keys = [{"Key": o["Key"]} for o in listed.get("Contents", [])]
        s3.delete_objects(Bucket=stack.resources["FilesBucket"], Delete={"Objects": keys})
    if step == "records_deleted":
        records = dynamodb.query(
            TableName=stack.resources["FilesTable"],
            KeyConditionExpression="todoID = :t",
            ExpressionAttributeValues={":t": {"S": todo_id}},
        )["Items"]
        for record in records:
            dynamodb.delete_item(
                TableName=stack.resources["FilesTable"],
                Key={"todoID": record["todoID"], "fileID": record["fileID"]},
            )


@pytest.mark.parametrize("step", STEPS)
def test_retry_after_crash_finishes_the_delete(api: Api, stack: LocalStack, step: str) -> None:
    keep = api.create(title="unrelated")
    todo_id = api.create(title="half deleted")["todoId"]
    seed_files(stack, api.user.sub, todo_id, 40)
    crash_after(stack, api, todo_id, step)

    # Half-deleted: hidden from every route, as if gone.
    assert api.get(f"/todos/{todo_id}").status_code == 404
    assert api.patch(f"/todos/{todo_id}", json={"title": "back"}).status_code == 404
    assert [t["todoId"] for t in api.all_todos()] == [keep["todoId"]]
    assert api.get(f"/todos/{todo_id}/files").status_code == 404
    body = {"name": "late.txt", "contentType": "text/plain", "size": 1}
    assert api.post(f"/todos/{todo_id}/files", json=body).status_code == 404

    retry = api.delete(f"/todos/{todo_id}")
    assert retry.status_code == 204, retry.text
    assert aws_calls(retry)["DynamoDB.DeleteItem"] == 1
    s3 = stack.client("s3")
    left = s3.list_objects_v2(Bucket=stack.resources["FilesBucket"], Prefix=f"{api.user.sub}/")
    assert left.get("KeyCount", 0) == 0
    records = stack.client("dynamodb").scan(TableName=stack.resources["FilesTable"])["Items"]
    assert not [r for r in records if r["todoID"]["S"] == todo_id]
    assert api.delete(f"/todos/{todo_id}").status_code == 404
    assert api.get(f"/todos/{keep['todoId']}").status_code == 200
