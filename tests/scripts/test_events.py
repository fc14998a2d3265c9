"""Failures: the first failed event's reason, through nested stacks; ROLLBACK_COMPLETE advice."""

from __future__ import annotations

import pytest

from scripts.deploy.errors import DeployFailed
from scripts.deploy.events import EventStream, first_failure, wait_for_stack
from tests.scripts import fakes

CORE = "todo-dev-core"
NESTED = "todo-dev-core-DataStack-1A2B3C4D5E6F"
NESTED_ARN = fakes.stack_id(NESTED, "9e8d7c6b-1111-2222-3333-444455556666")
TABLE_REASON = (
    "Resource handler returned message: \"Resource of type 'AWS::DynamoDB::Table' with "
    "identifier 'todo-dev-todos' already exists.\" (RequestToken: 6c1d2f3e-aaaa-bbbb-cccc-"
    "0123456789ab, HandlerErrorCode: AlreadyExists)"
)


def test_create_failure_follows_the_nested_stack_and_advises_deletion() -> None:
    cfn, stub = fakes.stubbed("cloudformation")
    stack_event = "AWS::CloudFormation::Stack"
    review = fakes.event(CORE, CORE, stack_event, "REVIEW_IN_PROGRESS", 0)
    root = [
        fakes.event(CORE, CORE, stack_event, "CREATE_IN_PROGRESS", 5, reason="User Initiated"),
        fakes.event(
            CORE, "DataStack", stack_event, "CREATE_IN_PROGRESS", 6, physical_id=NESTED_ARN
        ),
        fakes.event(CORE, "Cluster", "AWS::ECS::Cluster", "CREATE_IN_PROGRESS", 6),
        fakes.event(
            CORE,
            "DataStack",
            stack_event,
            "CREATE_FAILED",
            30,
            physical_id=NESTED_ARN,
            reason=f"Embedded stack {NESTED_ARN} was not successfully created: The following "
            "resource(s) failed to create: [TodosTable]. ",
        ),
        fakes.event(
            CORE,
            "Cluster",
            "AWS::ECS::Cluster",
            "CREATE_FAILED",
            31,
            reason="Resource creation cancelled",
        ),
        fakes.event(
            CORE,
            CORE,
            stack_event,
            "ROLLBACK_IN_PROGRESS",
            32,
            reason="The following resource(s) failed to create: [DataStack, Cluster]. "
            "Rollback requested by user.",
        ),
        fakes.event(CORE, CORE, stack_event, "ROLLBACK_COMPLETE", 60),
    ]
    nested = [
        fakes.event(NESTED, NESTED, stack_event, "CREATE_IN_PROGRESS", 7, stack_arn=NESTED_ARN),
        fakes.event(
            NESTED,
            "FilesTable",
            "AWS::DynamoDB::Table",
            "CREATE_FAILED",
            20,
            reason="Resource creation cancelled",
            stack_arn=NESTED_ARN,
        ),
        fakes.event(
            NESTED,
            "TodosTable",
            "AWS::DynamoDB::Table",
            "CREATE_FAILED",
            19,
            reason=TABLE_REASON,
            stack_arn=NESTED_ARN,
        ),
    ]
    stub.add_response("describe_stack_events", {"StackEvents": [review]}, {"StackName": CORE})
    stub.add_response("describe_stack_events", {"StackEvents": fakes.newest_first(review, *root)})
    stub.add_response(
        "describe_stacks",
        fakes.stack(CORE, "ROLLBACK_COMPLETE", reason="The following resource(s) failed..."),
    )
    stub.add_response("describe_stack_events", {"StackEvents": fakes.newest_first(review, *root)})
    # The nested stack's events, newest first, with an older event from before this deployment.
    old = fakes.event(
        NESTED,
        "Old",
        "AWS::SNS::Topic",
        "CREATE_FAILED",
        -600,
        reason="from an earlier attempt",
        stack_arn=NESTED_ARN,
    )
    stub.add_response(
        "describe_stack_events",
        {"StackEvents": fakes.newest_first(*nested, old)},
        {"StackName": NESTED_ARN},
    )
    stream = EventStream(cfn, CORE)
    stream.mark_seen()
    out, buffer = fakes.console()
    time = fakes.FakeTime()
    with pytest.raises(DeployFailed) as raised:
        wait_for_stack(cfn, stream, out, sleep=time.sleep, clock=time.clock)
    stub.assert_no_pending_responses()
    message = str(raised.value)
    assert message.startswith(f"stack {CORE} ended ROLLBACK_COMPLETE")
    assert (
        f"DataStack (nested stack) > TodosTable (AWS::DynamoDB::Table): {TABLE_REASON}" in message
    )
    assert "cancelled" not in message.split("First failure:")[1].split("\n")[0]
    assert f"aws cloudformation delete-stack --stack-name {CORE}" in message
    assert f"aws cloudformation wait stack-delete-complete --stack-name {CORE}" in message
    assert buffer.getvalue().count("CREATE_FAILED") == 2  # both failures were streamed


def test_update_rollback_reports_the_resource_reason() -> None:
    cfn, stub = fakes.stubbed("cloudformation")
    reason = (
        "Resource handler returned message: \"Error occurred during operation 'ECS Deployment "
        "Circuit Breaker was triggered'.\" (RequestToken: 0a1b, "
        "HandlerErrorCode: GeneralServiceException)"
    )
    events = [
        fakes.event(CORE, CORE, "AWS::CloudFormation::Stack", "UPDATE_IN_PROGRESS", 1),
        fakes.event(CORE, "MainService", "AWS::ECS::Service", "UPDATE_FAILED", 400, reason=reason),
        fakes.event(CORE, CORE, "AWS::CloudFormation::Stack", "UPDATE_ROLLBACK_COMPLETE", 700),
    ]
    assert first_failure(cfn, events, None) == f"MainService (AWS::ECS::Service): {reason}"
    stub.assert_no_pending_responses()


def test_timeout_names_the_stack() -> None:
    cfn, stub = fakes.stubbed("cloudformation")
    for _ in range(3):
        stub.add_response("describe_stack_events", {"StackEvents": []})
        stub.add_response("describe_stacks", fakes.stack(CORE, "UPDATE_IN_PROGRESS"))
    out, _ = fakes.console()
    time = fakes.FakeTime()
    with pytest.raises(DeployFailed, match=f"{CORE} still UPDATE_IN_PROGRESS after 9 s"):
        wait_for_stack(
            cfn,
            EventStream(cfn, CORE),
            out,
            poll_seconds=5,
            timeout_seconds=9,
            sleep=time.sleep,
            clock=time.clock,
        )


def test_a_stale_final_status_before_the_first_event_is_not_success() -> None:
    cfn, stub = fakes.stubbed("cloudformation")
    # Just after ExecuteChangeSet: no new event yet, the previous update's status still shows.
    stub.add_response("describe_stack_events", {"StackEvents": []})
    stub.add_response("describe_stacks", fakes.stack(CORE, "UPDATE_COMPLETE"))
    started = fakes.event(CORE, CORE, "AWS::CloudFormation::Stack", "UPDATE_IN_PROGRESS", 1)
    failed = fakes.event(
        CORE,
        "MainService",
        "AWS::ECS::Service",
        "UPDATE_FAILED",
        9,
        reason="Invalid request provided: service is inactive",
    )
    rolled = fakes.event(CORE, CORE, "AWS::CloudFormation::Stack", "UPDATE_ROLLBACK_COMPLETE", 30)
    stub.add_response("describe_stack_events", {"StackEvents": fakes.newest_first(started)})
    stub.add_response("describe_stacks", fakes.stack(CORE, "UPDATE_IN_PROGRESS"))
    stub.add_response(
        "describe_stack_events", {"StackEvents": fakes.newest_first(started, failed, rolled)}
    )
    stub.add_response("describe_stacks", fakes.stack(CORE, "UPDATE_ROLLBACK_COMPLETE"))
    stub.add_response(
        "describe_stack_events", {"StackEvents": fakes.newest_first(started, failed, rolled)}
    )
    out, _ = fakes.console()
    time = fakes.FakeTime()
    with pytest.raises(DeployFailed, match=r"MainService .*service is inactive"):
        wait_for_stack(cfn, EventStream(cfn, CORE), out, sleep=time.sleep, clock=time.clock)
    stub.assert_no_pending_responses()


def test_a_stack_deleted_during_creation_is_followed_by_its_id() -> None:
    """By name, DescribeStacks raises "does not exist" once the stack is DELETE_COMPLETE; by its
    ID it still answers, so the command ends with the status and the reason, not a traceback."""
    cfn, stub = fakes.stubbed("cloudformation")
    arn = fakes.stack_id(CORE)
    stack_type = "AWS::CloudFormation::Stack"
    review = fakes.event(CORE, CORE, stack_type, "REVIEW_IN_PROGRESS", 0, reason="User Initiated")
    started = fakes.event(CORE, CORE, stack_type, "CREATE_IN_PROGRESS", 5, reason="User Initiated")
    deleting = fakes.event(
        CORE, CORE, stack_type, "DELETE_IN_PROGRESS", 20, reason="User Initiated"
    )
    deleted = fakes.event(CORE, CORE, stack_type, "DELETE_COMPLETE", 50)
    stub.add_response("describe_stack_events", {"StackEvents": [review]}, {"StackName": arn})
    stub.add_response(
        "describe_stack_events", {"StackEvents": [started, review]}, {"StackName": arn}
    )
    stub.add_response(
        "describe_stacks", fakes.stack(CORE, "CREATE_IN_PROGRESS"), {"StackName": arn}
    )
    stub.add_response(
        "describe_stack_events",
        {"StackEvents": fakes.newest_first(review, started, deleting, deleted)},
        {"StackName": arn},
    )
    stub.add_response(
        "describe_stacks",
        fakes.stack(CORE, "DELETE_COMPLETE", reason="User Initiated"),
        {"StackName": arn},
    )
    stub.add_response(
        "describe_stack_events",
        {"StackEvents": fakes.newest_first(review, started, deleting, deleted)},
        {"StackName": arn},
    )
    stream = EventStream(cfn, CORE, stack_id=arn)
    stream.mark_seen()
    out, _ = fakes.console()
    time = fakes.FakeTime()
    with pytest.raises(DeployFailed) as raised:
        wait_for_stack(cfn, stream, out, sleep=time.sleep, clock=time.clock)
    stub.assert_no_pending_responses()
    message = str(raised.value)
    assert message.startswith(f"stack {CORE} ended DELETE_COMPLETE")
    assert "deleted while it was being deployed" in message


def test_a_stack_that_vanished_by_name_is_a_clear_failure() -> None:
    cfn, stub = fakes.stubbed("cloudformation")
    started = fakes.event(CORE, CORE, "AWS::CloudFormation::Stack", "CREATE_IN_PROGRESS", 5)
    stub.add_response("describe_stack_events", {"StackEvents": [started]})
    stub.add_client_error(
        "describe_stacks",
        service_error_code="ValidationError",
        service_message=f"Stack with id {CORE} does not exist",
        http_status_code=400,
    )
    out, _ = fakes.console()
    time = fakes.FakeTime()
    with pytest.raises(DeployFailed, match=f"stack {CORE} no longer exists: it was deleted"):
        wait_for_stack(cfn, EventStream(cfn, CORE), out, sleep=time.sleep, clock=time.clock)


def test_a_rollback_without_a_failed_resource_reports_the_stacks_own_reason() -> None:
    """An export still imported elsewhere fails the update with no *_FAILED resource event: the
    reason is only on the stack's UPDATE_ROLLBACK_IN_PROGRESS event, and the final
    DescribeStacks carries no StackStatusReason."""
    cfn, stub = fakes.stubbed("cloudformation")
    stack_type = "AWS::CloudFormation::Stack"
    reason = f"Export {CORE}-FilesBucketName cannot be updated as it is in use by todo-dev-reports"
    before = fakes.event(CORE, CORE, stack_type, "UPDATE_COMPLETE", -600)
    events = [
        fakes.event(CORE, CORE, stack_type, "UPDATE_IN_PROGRESS", 1, reason="User Initiated"),
        fakes.event(CORE, "FilesBucket", "AWS::S3::Bucket", "UPDATE_IN_PROGRESS", 3),
        fakes.event(CORE, "FilesBucket", "AWS::S3::Bucket", "UPDATE_COMPLETE", 9),
        fakes.event(CORE, CORE, stack_type, "UPDATE_ROLLBACK_IN_PROGRESS", 12, reason=reason),
        fakes.event(CORE, "FilesBucket", "AWS::S3::Bucket", "UPDATE_COMPLETE", 20),
        fakes.event(CORE, CORE, stack_type, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", 21),
        fakes.event(CORE, CORE, stack_type, "UPDATE_ROLLBACK_COMPLETE", 22),
    ]
    stub.add_response("describe_stack_events", {"StackEvents": [before]})
    stub.add_response("describe_stack_events", {"StackEvents": fakes.newest_first(before, *events)})
    stub.add_response("describe_stacks", fakes.stack(CORE, "UPDATE_ROLLBACK_COMPLETE"))
    stub.add_response("describe_stack_events", {"StackEvents": fakes.newest_first(before, *events)})
    stream = EventStream(cfn, CORE)
    stream.mark_seen()
    out, _ = fakes.console()
    time = fakes.FakeTime()
    with pytest.raises(DeployFailed) as raised:
        wait_for_stack(cfn, stream, out, sleep=time.sleep, clock=time.clock)
    stub.assert_no_pending_responses()
    assert f"First failure: {CORE} (UPDATE_ROLLBACK_IN_PROGRESS): {reason}" in str(raised.value)


def test_cleanup_in_progress_is_waited_out_and_a_cleanup_failure_is_still_success() -> None:
    """UPDATE_COMPLETE_CLEANUP_IN_PROGRESS: the update succeeded, old resources are being
    removed. The command waits for UPDATE_COMPLETE; a resource CloudFormation could not delete
    during cleanup does not fail the update (the stack ends UPDATE_COMPLETE)."""
    cfn, stub = fakes.stubbed("cloudformation")
    stack_type = "AWS::CloudFormation::Stack"
    td = "AWS::ECS::TaskDefinition"
    before = fakes.event(CORE, CORE, stack_type, "UPDATE_COMPLETE", -600)
    first = [
        fakes.event(CORE, CORE, stack_type, "UPDATE_IN_PROGRESS", 1, reason="User Initiated"),
        fakes.event(CORE, "MainTaskDefinition", td, "UPDATE_COMPLETE", 3),
        fakes.event(CORE, CORE, stack_type, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", 200),
    ]
    second = [
        fakes.event(
            CORE,
            "MainTaskDefinition",
            td,
            "DELETE_FAILED",
            205,
            reason='Resource handler returned message: "Rate exceeded"',
        ),
        fakes.event(CORE, CORE, stack_type, "UPDATE_COMPLETE", 206),
    ]
    stub.add_response("describe_stack_events", {"StackEvents": [before]})
    stub.add_response("describe_stack_events", {"StackEvents": fakes.newest_first(before, *first)})
    stub.add_response("describe_stacks", fakes.stack(CORE, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"))
    everything = fakes.newest_first(before, *first, *second)
    stub.add_response("describe_stack_events", {"StackEvents": everything})
    stub.add_response("describe_stacks", fakes.stack(CORE, "UPDATE_COMPLETE"))
    stub.add_response("describe_stack_events", {"StackEvents": everything})
    stream = EventStream(cfn, CORE)
    stream.mark_seen()
    out, buffer = fakes.console()
    time = fakes.FakeTime()
    result = wait_for_stack(cfn, stream, out, sleep=time.sleep, clock=time.clock)
    stub.assert_no_pending_responses()
    assert result.status == "UPDATE_COMPLETE"
    assert time.sleeps == [5.0]
    assert "DELETE_FAILED" in buffer.getvalue()  # shown, not fatal
