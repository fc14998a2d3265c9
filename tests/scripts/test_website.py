"""publish-website against stubbed S3: every listing page, DeleteObjects batches, its errors."""

from __future__ import annotations

from typing import Any

import pytest

from scripts.deploy import website
from scripts.deploy.errors import DeployFailed
from tests.scripts import fakes

BUCKET = "todo-dev-website-websitebucket-1x2y3z4w5v6u"


def listing(keys: list[str], token: str | None, next_token: str | None) -> dict[str, Any]:
    page: dict[str, Any] = {
        "IsTruncated": next_token is not None,
        "Contents": [
            {"Key": k, "LastModified": fakes.T0, "ETag": '"d41d8cd9"', "Size": 1} for k in keys
        ],
        "Name": BUCKET,
        "Prefix": "",
        "MaxKeys": 1000,
        "KeyCount": len(keys),
    }
    if token:
        page["ContinuationToken"] = token
    if next_token:
        page["NextContinuationToken"] = next_token
    return page


def test_stale_objects_are_listed_over_pages_and_deleted_1000_at_a_time() -> None:
    s3, stub = fakes.stubbed("s3")
    keys = [f"old/asset-{i:04d}.js" for i in range(2500)]
    pages = [(keys[:1000], None, "t1"), (keys[1000:2000], "t1", "t2"), (keys[2000:], "t2", None)]
    for chunk, token, next_token in pages:
        expected: dict[str, Any] = {"Bucket": BUCKET}
        if token:
            expected["ContinuationToken"] = token
        stub.add_response("list_objects_v2", listing(chunk, token, next_token), expected)
    for start in (0, 1000, 2000):
        batch = keys[start : start + 1000]
        stub.add_response(
            "delete_objects",
            {"Deleted": [{"Key": k} for k in batch]},
            {"Bucket": BUCKET, "Delete": {"Objects": [{"Key": k} for k in batch], "Quiet": True}},
        )
    existing = website.existing_keys(s3, BUCKET)
    assert len(existing) == 2500
    assert website.delete_keys(s3, BUCKET, existing) == keys
    stub.assert_no_pending_responses()


def test_a_key_that_could_not_be_deleted_is_a_deploy_failure() -> None:
    """DeleteObjects answers 200 with per-key Errors: that must not pass silently (nor as a
    traceback)."""
    s3, stub = fakes.stubbed("s3")
    stub.add_response(
        "delete_objects",
        {
            "Deleted": [{"Key": "old.css"}],
            "Errors": [{"Key": "old.js", "Code": "AccessDenied", "Message": "Access Denied"}],
        },
    )
    with pytest.raises(DeployFailed, match=rf"s3://{BUCKET}, e.g. old.js: AccessDenied"):
        website.delete_keys(s3, BUCKET, ["old.css", "old.js"])
