"""`destroy` against stubbed CloudFormation replaying what AWS answers for a stack delete.

The live stacks are built from the committed templates: their resources are the ones
templates/core.yaml and templates/website.yaml create for a dev environment's parameters, and
GetTemplate returns that template, so the retained/deleted lists follow the real DeletionPolicy
of each resource.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from botocore.stub import Stubber

from scripts.cfn.lifecycle import RETAINED
from scripts.cfn.template import deployed, load_template, parameter_values
from scripts.deploy import cli
from scripts.deploy.aws import AwsClients
from scripts.deploy.destroy import (
    LiveStack,
    Protection,
    load_balancer_protection,
    refuse_protected,
    resources_of,
    run_destroy,
)
from scripts.deploy.errors import (
    ApprovalDeclined,
    ApprovalRequired,
    DeletionProtected,
    DeployFailed,
    Interrupted,
    StackBlocked,
)
from scripts.deploy.params import TEMPLATES_DIR, stack_tags
from tests.aws.conftest import PSEUDO, core_parameters, website_parameters
from tests.scripts import fakes

CORE, WEBSITE = "todo-dev-core", "todo-dev-website"
TOKEN = "destroy-20260105T093000Z-abc1234def56"
CHANGE_SET = "deploy-20260105T093000Z-abc1234def56"
ROLE = "arn:aws:iam::123456789012:role/todo-dev-ci-CloudFormationExecutionRole"
STACK_TYPE = "AWS::CloudFormation::Stack"
LOAD_BALANCER_ARN = (
    f"arn:aws:elasticloadbalancing:{fakes.REGION}:{fakes.ACCOUNT}:loadbalancer/app/"
    "todo-dev-core-alb/50dc6c495c0c9188"
)
PROTECTED_REASON = (
    "Resource handler returned message: \"Load balancer '"
    + LOAD_BALANCER_ARN
    + "' cannot be deleted because deletion protection is enabled (Service: "
    "ElasticLoadBalancingV2, Status Code: 400, Request ID: 3f1e2d4c-5b6a-4789-9abc-def012345678)"
    '" (RequestToken: 9a8b7c6d-1111-2222-3333-444455556666, HandlerErrorCode: InvalidRequest)'
)
TEMPLATES = {name: load_template(TEMPLATES_DIR / f"{name}.yaml") for name in ("core", "website")}


def processed(stack: str) -> dict[str, Any]:
    """GetTemplate's Processed stage: the template after its transform (JSON). The core
    template declares no AWS::Serverless resources, so the SAM transform only drops the key."""
    return {k: v for k, v in TEMPLATES[stack].items() if k != "Transform"}


def live_parameters(stack: str, **given: str) -> dict[str, str]:
    """Every parameter's value as DescribeStacks lists it for a running dev environment."""
    base = core_parameters(**given) if stack == "core" else {**website_parameters(), **given}
    return parameter_values(TEMPLATES[stack], base)


def physical_id(name: str, logical_id: str, resource_type: str) -> str:
    if resource_type == "AWS::ElasticLoadBalancingV2::LoadBalancer":
        return LOAD_BALANCER_ARN
    return f"{name}-{logical_id}-1A2B3C4D5E6F"


def live_resources(stack: str, parameters: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The resources the template creates for these values (Conditions applied)."""
    name = f"todo-dev-{stack}"
    shaped = deployed(TEMPLATES[stack], parameters, {**PSEUDO, "AWS::StackName": name})
    return dict(shaped["Resources"])


def expect_read(
    stub: Stubber, stack: str, parameters: dict[str, str], status: str = "UPDATE_COMPLETE"
) -> dict[str, dict[str, Any]]:
    """DescribeStacks, ListStackResources (pages of 100, as CloudFormation pages them) and
    GetTemplate for one live stack; returns its resources."""
    name = f"todo-dev-{stack}"
    arn = fakes.stack_id(name)
    stub.add_response(
        "describe_stacks", fakes.stack(name, status, parameters=parameters), {"StackName": name}
    )
    resources = live_resources(stack, parameters)
    summaries = [
        fakes.resource_summary(logical_id, r["Type"], physical_id(name, logical_id, r["Type"]))
        for logical_id, r in resources.items()
    ]
    pages = [summaries[i : i + 100] for i in range(0, len(summaries), 100)]
    previous: str | None = None
    for index, page in enumerate(pages):
        token = f"resources-{index + 2}" if index + 1 < len(pages) else None
        stub.add_response(
            "list_stack_resources",
            {"StackResourceSummaries": page, **({"NextToken": token} if token else {})},
            {"StackName": arn, **({"NextToken": previous} if previous else {})},
        )
        previous = token
    stub.add_response(
        "get_template",
        {
            "TemplateBody": json.dumps(processed(stack)),
            "StagesAvailable": ["Original", "Processed"],
        },
        {"StackName": arn, "TemplateStage": "Processed"},
    )
    return resources


def delete_events(
    name: str, resources: dict[str, dict[str, Any]], failed: tuple[str, str] | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The delete's events in two polls: retained resources are DELETE_SKIPPED."""
    first = [fakes.event(name, name, STACK_TYPE, "DELETE_IN_PROGRESS", 2, reason="User Initiated")]
    second: list[dict[str, Any]] = []
    for index, (logical_id, resource) in enumerate(sorted(resources.items())):
        kind = resource["Type"]
        batch = first if index < len(resources) // 2 else second
        seconds = 3 + 2 * index
        if resource.get("DeletionPolicy") in RETAINED:
            batch.append(fakes.event(name, logical_id, kind, "DELETE_SKIPPED", seconds))
            continue
        batch.append(fakes.event(name, logical_id, kind, "DELETE_IN_PROGRESS", seconds))
        if failed and logical_id == failed[0]:
            batch.append(
                fakes.event(name, logical_id, kind, "DELETE_FAILED", seconds + 1, reason=failed[1])
            )
        else:
            batch.append(fakes.event(name, logical_id, kind, "DELETE_COMPLETE", seconds + 1))
    end = 3 + 2 * len(resources)
    if failed:
        second.append(
            fakes.event(
                name,
                name,
                STACK_TYPE,
                "DELETE_FAILED",
                end,
                reason=f"The following resource(s) failed to delete: [{failed[0]}]. ",
            )
        )
    else:
        second.append(fakes.event(name, name, STACK_TYPE, "DELETE_COMPLETE", end))
    return first, second


def expect_stream(
    stub: Stubber,
    name: str,
    arn: str,
    first: list[dict[str, Any]],
    second: list[dict[str, Any]],
    final_status: str,
    before: dict[str, Any],
    busy_status: str,
) -> None:
    """Two polls of events (newest first, down to an event seen before), the stack's status
    after each, and the last poll after the status has settled."""
    stub.add_response(
        "describe_stack_events",
        {"StackEvents": fakes.newest_first(before, *first)},
        {"StackName": arn},
    )
    stub.add_response("describe_stacks", fakes.stack(name, busy_status), {"StackName": arn})
    everything = fakes.newest_first(before, *first, *second)
    stub.add_response("describe_stack_events", {"StackEvents": everything}, {"StackName": arn})
    stub.add_response("describe_stacks", fakes.stack(name, final_status), {"StackName": arn})
    stub.add_response("describe_stack_events", {"StackEvents": everything}, {"StackName": arn})


def expect_delete(
    stub: Stubber,
    stack: str,
    resources: dict[str, dict[str, Any]],
    *,
    failed: tuple[str, str] | None = None,
    role_arn: str | None = None,
) -> None:
    name = f"todo-dev-{stack}"
    arn = fakes.stack_id(name)
    before = fakes.event(name, name, STACK_TYPE, "UPDATE_COMPLETE", -600)
    stub.add_response("describe_stack_events", {"StackEvents": [before]}, {"StackName": arn})
    stub.add_response(
        "delete_stack",
        {},
        {
            "StackName": arn,
            "ClientRequestToken": TOKEN,
            **({"RoleARN": role_arn} if role_arn else {}),
        },
    )
    first, second = delete_events(name, resources, failed)
    final = "DELETE_FAILED" if failed else "DELETE_COMPLETE"
    expect_stream(stub, name, arn, first, second, final, before, "DELETE_IN_PROGRESS")


def expect_lift(stub: Stubber, parameters: dict[str, str], role_arn: str | None) -> None:
    """The change set that sets LoadBalancerDeletionProtection to false on the current
    template, every other parameter unchanged, executed and followed to UPDATE_COMPLETE."""
    arn = fakes.stack_id(CORE)
    change_set = fakes.change_set_id(CHANGE_SET)
    attribute = fakes.change(
        "Modify",
        "LoadBalancer",
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        physical_id=LOAD_BALANCER_ARN,
        details=[("LoadBalancerAttributes", "Never")],
    )
    fakes.expect_change_set(
        stub,
        CORE,
        CHANGE_SET,
        [attribute],
        ChangeSetType="UPDATE",
        UsePreviousTemplate=True,
        Parameters=[
            {"ParameterKey": "LoadBalancerDeletionProtection", "ParameterValue": "false"}
            if key == "LoadBalancerDeletionProtection"
            else {"ParameterKey": key, "UsePreviousValue": True}
            for key in sorted(parameters)
        ],
        Description="LoadBalancerDeletionProtection=false before make destroy from commit "
        "abc1234def5678",
        Tags=stack_tags("dev"),
        **({"RoleARN": role_arn} if role_arn else {}),
    )
    before = fakes.event(CORE, CORE, STACK_TYPE, "UPDATE_COMPLETE", -600)
    stub.add_response("describe_stack_events", {"StackEvents": [before]}, {"StackName": arn})
    stub.add_response(
        "execute_change_set",
        {},
        {"StackName": CORE, "ChangeSetName": change_set, "ClientRequestToken": CHANGE_SET},
    )
    balancer = "AWS::ElasticLoadBalancingV2::LoadBalancer"
    first = [
        fakes.event(CORE, CORE, STACK_TYPE, "UPDATE_IN_PROGRESS", 1, reason="User Initiated"),
        fakes.event(CORE, "LoadBalancer", balancer, "UPDATE_IN_PROGRESS", 2),
    ]
    second = [
        fakes.event(CORE, "LoadBalancer", balancer, "UPDATE_COMPLETE", 6),
        fakes.event(CORE, CORE, STACK_TYPE, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", 7),
        fakes.event(CORE, CORE, STACK_TYPE, "UPDATE_COMPLETE", 8),
    ]
    expect_stream(stub, CORE, arn, first, second, "UPDATE_COMPLETE", before, "UPDATE_IN_PROGRESS")


def tables(text: str) -> dict[str, list[tuple[str, ...]]]:
    """The printed rows (outcome, policy, logical ID, type, physical ID) under each stack."""
    found: dict[str, list[tuple[str, ...]]] = {}
    current = ""
    for line in text.splitlines():
        if line.startswith("todo-dev-") and " retained, " in line:
            current = line.split(" ", 1)[0]
            found[current] = []
        cells = tuple(c.strip() for c in line.strip("│ ").split("│"))
        if current and len(cells) == 5 and cells[0] in ("retained", "deleted"):
            found[current].append(cells)
    return found


def retained_ids(resources: dict[str, dict[str, Any]]) -> set[str]:
    return {k for k, r in resources.items() if r.get("DeletionPolicy") in RETAINED}


def test_a_clean_delete_of_both_stacks_lists_what_stays_and_deletes_website_first() -> None:
    cfn, stub = fakes.stubbed("cloudformation")
    core_values = live_parameters("core", LoadBalancerDeletionProtection="false")
    website = expect_read(stub, "website", live_parameters("website"))
    core = expect_read(stub, "core", core_values)
    expect_delete(stub, "website", website)
    expect_delete(stub, "core", core)
    ctx, out, time = fakes.context(
        AwsClients(cloudformation=cfn),
        config_dir=TEMPLATES_DIR,
        templates_dir=TEMPLATES_DIR,
        tty=True,
        typed="dev",
    )
    deleted = run_destroy(ctx, yes=False, disable_deletion_protection=False)
    stub.assert_no_pending_responses()
    assert deleted == [WEBSITE, CORE]
    text = out.getvalue()
    printed = tables(text)
    assert list(printed) == [WEBSITE, CORE]
    for name, resources in ((WEBSITE, website), (CORE, core)):
        rows = printed[name]
        assert {row[2] for row in rows if row[0] == "retained"} == retained_ids(resources)
        assert {row[2] for row in rows if row[0] == "deleted"} == (
            set(resources) - retained_ids(resources)
        )
        # Retained rows come first, so the list opens with what stays.
        assert [row[0] for row in rows] == sorted((row[0] for row in rows), reverse=True)
    core_rows = {row[2]: row for row in printed[CORE]}
    assert core_rows["TodosTable"] == (
        "retained",
        "Retain",
        "TodosTable",
        "AWS::DynamoDB::Table",
        "todo-dev-core-TodosTable-1A2B3C4D5E6F",
    )
    for logical_id in ("FilesTable", "FilesBucket", "UserPool", "DataKey", "MainRepository"):
        assert core_rows[logical_id][0] == "retained"
    assert core_rows["LoadBalancer"] == (
        "deleted",
        "Delete",
        "LoadBalancer",
        "AWS::ElasticLoadBalancingV2::LoadBalancer",
        LOAD_BALANCER_ARN,
    )
    assert core_rows["Cluster"][0] == "deleted"
    assert {row[2] for row in printed[WEBSITE] if row[0] == "retained"} >= {"WebsiteBucket"}
    assert "Retained after the delete, and still billed: " in text
    assert "2 DynamoDB tables (storage and point-in-time recovery)" in text
    assert "1 KMS key (a monthly key fee)" in text
    assert "aws dynamodb delete-table (deletion protection off first)" in text
    assert "The CI stack todo-dev-ci is not part of this" in text
    # Events stream with the elapsed time; one 5 s sleep per stack between two polls.
    assert "+00:05" in text
    assert time.sleeps == [5.0, 5.0]
    assert text.index(f"{WEBSITE}: DELETE_COMPLETE") < text.index(f"{CORE}: DELETE_COMPLETE")
    assert "DELETE_SKIPPED" in text
    assert f"Deleted {WEBSITE} and {CORE}." in text


def run_cli(
    cfn: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *extra: str
) -> tuple[int, str, str]:
    """`python -m scripts.deploy destroy --env dev ...`: exit code, output, error output."""
    monkeypatch.setenv("COLUMNS", "400")  # keep the error on one line, as on a wide terminal
    out, buffer = fakes.console()
    code = cli.main(
        ["destroy", "--env", "dev", *extra], clients=AwsClients(cloudformation=cfn), console=out
    )
    return code, buffer.getvalue(), capsys.readouterr().err


def test_a_protected_load_balancer_is_refused_without_the_flag(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cfn, stub = fakes.stubbed("cloudformation")
    expect_read(stub, "website", live_parameters("website"))
    expect_read(stub, "core", live_parameters("core"))  # LoadBalancerDeletionProtection: true
    code, text, error = run_cli(cfn, capsys, monkeypatch, "--yes")
    stub.assert_no_pending_responses()  # no change set, no DeleteStack
    assert code == DeletionProtected.exit_code == 3
    assert "load balancer LoadBalancer of todo-dev-core has deletion protection on" in error
    assert "(LoadBalancerDeletionProtection=true)" in error
    assert "--disable-deletion-protection" in error
    assert "DISABLE_DELETION_PROTECTION=1" in error
    assert "Nothing was deleted." in error
    assert list(tables(text)) == [WEBSITE, CORE]  # the lists were shown before the refusal


def test_protection_is_lifted_through_a_change_set_then_the_stack_is_deleted() -> None:
    cfn, stub = fakes.stubbed("cloudformation")
    fakes.not_found(stub, WEBSITE)
    parameters = live_parameters("core")
    assert parameters["LoadBalancerDeletionProtection"] == "true"
    core = expect_read(stub, "core", parameters)
    expect_lift(stub, parameters, ROLE)
    expect_delete(stub, "core", core, role_arn=ROLE)
    ctx, out, _ = fakes.context(
        AwsClients(cloudformation=cfn),
        config_dir=TEMPLATES_DIR,
        templates_dir=TEMPLATES_DIR,
        role_arn=ROLE,
    )
    deleted = run_destroy(ctx, yes=True, disable_deletion_protection=True)
    stub.assert_no_pending_responses()
    assert deleted == [CORE]
    text = out.getvalue()
    assert f"{WEBSITE} does not exist: nothing to delete there." in text
    assert list(tables(text)) == [CORE]
    assert "Turning off deletion protection of LoadBalancer on todo-dev-core" in text
    assert text.index(f"{CORE}: UPDATE_COMPLETE") < text.index(f"Deleting {CORE}")
    assert f"{CORE}: DELETE_COMPLETE" in text


def test_a_failed_delete_names_the_resource_its_type_and_the_reason() -> None:
    """Deletion protection switched on behind the stack's back (in the console): the stack's
    parameter says false, the load balancer refuses, the stack ends DELETE_FAILED."""
    cfn, stub = fakes.stubbed("cloudformation")
    website = expect_read(stub, "website", live_parameters("website"))
    core = expect_read(
        stub, "core", live_parameters("core", LoadBalancerDeletionProtection="false")
    )
    expect_delete(stub, "website", website)
    expect_delete(stub, "core", core, failed=("LoadBalancer", PROTECTED_REASON))
    ctx, out, _ = fakes.context(
        AwsClients(cloudformation=cfn), config_dir=TEMPLATES_DIR, templates_dir=TEMPLATES_DIR
    )
    with pytest.raises(DeployFailed) as raised:
        run_destroy(ctx, yes=True, disable_deletion_protection=False)
    stub.assert_no_pending_responses()
    assert raised.value.exit_code == 1
    message = str(raised.value)
    assert message.startswith(f"stack {CORE} ended DELETE_FAILED after 5 s. First failure: ")
    assert (
        f"First failure: LoadBalancer (AWS::ElasticLoadBalancingV2::LoadBalancer): "
        f"{PROTECTED_REASON}"
    ) in message
    assert (
        "Fix the cause, then run make destroy ENV=dev again (a stack left DELETE_FAILED is "
        "deleted from where it stopped)"
    ) in message
    assert f"{WEBSITE}: DELETE_COMPLETE" in out.getvalue()


def test_a_failure_after_the_lift_says_what_is_left_and_that_protection_is_off() -> None:
    cfn, stub = fakes.stubbed("cloudformation")
    website = expect_read(stub, "website", live_parameters("website"))
    parameters = live_parameters("core")
    expect_read(stub, "core", parameters)
    expect_lift(stub, parameters, None)
    denied = (
        'Resource handler returned message: "Access Denied (Service: S3, Status Code: 403, '
        'Request ID: 4Q2J8X0C1ZB7RK3M)" (RequestToken: 0b1c2d3e-4444-5555-6666-777788889999, '
        "HandlerErrorCode: AccessDenied)"
    )
    expect_delete(stub, "website", website, failed=("WebsiteBucketPolicy", denied))
    ctx, _, _ = fakes.context(
        AwsClients(cloudformation=cfn), config_dir=TEMPLATES_DIR, templates_dir=TEMPLATES_DIR
    )
    with pytest.raises(DeployFailed) as raised:
        run_destroy(ctx, yes=True, disable_deletion_protection=True)
    stub.assert_no_pending_responses()  # the core stack's delete was never started
    message = str(raised.value)
    assert f"First failure: WebsiteBucketPolicy (AWS::S3::BucketPolicy): {denied}" in message
    assert f"Not started: {CORE}" in message
    assert (
        f"Deletion protection is off on {CORE} (LoadBalancerDeletionProtection=false); a make "
        'deploy STACK=core ENV=dev with it "true" in config/dev.json turns it back on'
    ) in message


def test_without_a_terminal_it_needs_yes(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO())  # as in CI: nobody to ask
    cfn, stub = fakes.stubbed("cloudformation")
    expect_read(stub, "website", live_parameters("website"))
    expect_read(stub, "core", live_parameters("core", LoadBalancerDeletionProtection="false"))
    code, text, error = run_cli(cfn, capsys, monkeypatch)
    stub.assert_no_pending_responses()  # read only: no DeleteStack was stubbed, none was made
    assert code == ApprovalRequired.exit_code == 4
    assert "input is not a terminal" in error
    assert "--yes (make destroy ENV=dev YES=1)" in error
    assert list(tables(text)) == [WEBSITE, CORE]


@pytest.mark.parametrize("typed", ["", "prod", "yes"])
def test_on_a_terminal_anything_but_the_environment_name_declines(typed: str) -> None:
    cfn, stub = fakes.stubbed("cloudformation")
    fakes.not_found(stub, WEBSITE)
    expect_read(stub, "core", live_parameters("core", LoadBalancerDeletionProtection="false"))
    ctx, _, _ = fakes.context(
        AwsClients(cloudformation=cfn),
        config_dir=TEMPLATES_DIR,
        templates_dir=TEMPLATES_DIR,
        tty=True,
        typed=typed,
    )
    with pytest.raises(ApprovalDeclined, match=f"{CORE} not deleted: the answer was not 'dev'"):
        run_destroy(ctx, yes=False, disable_deletion_protection=False)
    stub.assert_no_pending_responses()


def test_no_stack_at_all_is_nothing_to_destroy(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cfn, stub = fakes.stubbed("cloudformation")
    fakes.not_found(stub, WEBSITE)
    fakes.not_found(stub, CORE)
    code, text, _ = run_cli(cfn, capsys, monkeypatch)
    stub.assert_no_pending_responses()
    assert code == 0
    assert f"{WEBSITE} does not exist: nothing to delete there." in text
    assert f"{CORE} does not exist: nothing to delete there." in text
    assert "Nothing to destroy in dev." in text
    assert "The CI stack todo-dev-ci is not part of this" in text


def test_ctrl_c_while_deleting_says_the_delete_goes_on_and_what_was_not_started() -> None:
    cfn, stub = fakes.stubbed("cloudformation")
    website = expect_read(stub, "website", live_parameters("website"))
    expect_read(stub, "core", live_parameters("core", LoadBalancerDeletionProtection="false"))
    arn = fakes.stack_id(WEBSITE)
    before = fakes.event(WEBSITE, WEBSITE, STACK_TYPE, "UPDATE_COMPLETE", -600)
    stub.add_response("describe_stack_events", {"StackEvents": [before]}, {"StackName": arn})
    stub.add_response("delete_stack", {}, {"StackName": arn, "ClientRequestToken": TOKEN})
    first, _ = delete_events(WEBSITE, website, None)
    stub.add_response("describe_stack_events", {"StackEvents": fakes.newest_first(before, *first)})
    stub.add_response("describe_stacks", fakes.stack(WEBSITE, "DELETE_IN_PROGRESS"))
    ctx, out, _ = fakes.context(
        AwsClients(cloudformation=cfn), config_dir=TEMPLATES_DIR, templates_dir=TEMPLATES_DIR
    )

    def ctrl_c(_seconds: float) -> None:
        raise KeyboardInterrupt

    ctx.sleep = ctrl_c
    with pytest.raises(Interrupted) as raised:
        run_destroy(ctx, yes=True, disable_deletion_protection=False)
    stub.assert_no_pending_responses()
    message = str(raised.value)
    assert raised.value.exit_code == 130
    assert f"CloudFormation keeps deleting it (request {TOKEN}" in message
    assert f"Not started: {CORE}" in message
    assert "DELETE_IN_PROGRESS" in out.getvalue()


def test_a_stack_busy_with_another_operation_is_left_alone() -> None:
    cfn, stub = fakes.stubbed("cloudformation")
    expect_read(stub, "website", live_parameters("website"), status="UPDATE_IN_PROGRESS")
    ctx, _, _ = fakes.context(
        AwsClients(cloudformation=cfn), config_dir=TEMPLATES_DIR, templates_dir=TEMPLATES_DIR
    )
    with pytest.raises(StackBlocked, match=f"stack {WEBSITE} is UPDATE_IN_PROGRESS: wait"):
        run_destroy(ctx, yes=True, disable_deletion_protection=True)
    stub.assert_no_pending_responses()  # the core stack was not even read


def test_role_arn_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEPLOY_CFN_ROLE_ARN", ROLE)
    args = cli.build_parser().parse_args(["destroy", "--env", "prod"])
    assert (args.role_arn, args.yes, args.disable_deletion_protection) == (ROLE, False, False)


# --- The pure judgements -------------------------------------------------------------------


def summary(logical_id: str, kind: str, status: str = "CREATE_COMPLETE") -> dict[str, Any]:
    return fakes.resource_summary(logical_id, kind, f"{logical_id}-id", status)


def test_policies_default_to_delete_and_deleted_resources_are_gone() -> None:
    template = {
        "Resources": {
            "Table": {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain"},
            "Volume": {"Type": "AWS::EC2::Volume", "DeletionPolicy": "Snapshot"},
            "Pool": {"Type": "AWS::Cognito::UserPool", "DeletionPolicy": "RetainExceptOnCreate"},
            "Queue": {"Type": "AWS::SQS::Queue"},
            "Topic": {"Type": "AWS::SNS::Topic", "DeletionPolicy": "Delete"},
        }
    }
    resources = resources_of(
        [
            summary("Queue", "AWS::SQS::Queue"),
            summary("Table", "AWS::DynamoDB::Table"),
            summary("Topic", "AWS::SNS::Topic", "DELETE_COMPLETE"),  # an earlier delete got it
            summary("Volume", "AWS::EC2::Volume"),
            summary("Pool", "AWS::Cognito::UserPool"),
        ],
        template,
    )
    assert [(r.logical_id, r.policy, r.retained) for r in resources] == [
        ("Pool", "RetainExceptOnCreate", True),
        ("Table", "Retain", True),
        ("Volume", "Snapshot", True),
        ("Queue", "Delete", False),
    ]


def balancer(value: Any) -> dict[str, Any]:
    attributes = [{"Key": "deletion_protection.enabled", "Value": value}]
    return {
        "Resources": {
            "Alb": {
                "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
                "Properties": {"LoadBalancerAttributes": attributes},
            }
        }
    }


ALB = resources_of([summary("Alb", "AWS::ElasticLoadBalancingV2::LoadBalancer")], balancer("x"))


@pytest.mark.parametrize(
    ("value", "parameters", "expected"),
    [
        ({"Ref": "Protect"}, {"Protect": "true"}, Protection("Alb", "Alb-id", "Protect")),
        ({"Ref": "Protect"}, {"Protect": "false"}, None),
        ("true", {}, Protection("Alb", "Alb-id", None)),
        ("false", {}, None),
    ],
)
def test_protection_is_read_from_the_template_and_the_stack_parameters(
    value: Any, parameters: dict[str, str], expected: Protection | None
) -> None:
    assert load_balancer_protection(balancer(value), parameters, ALB) == expected


def test_protection_fixed_in_an_older_template_asks_for_a_deploy_first() -> None:
    live = LiveStack(CORE, {"StackId": "id", "StackStatus": "UPDATE_COMPLETE"}, ALB, None)
    fixed = LiveStack(**{**live.__dict__, "protection": Protection("Alb", "Alb-id", None)})
    assert refuse_protected("dev", live, disable=False) is None  # nothing to lift
    with pytest.raises(DeletionProtected, match=r"deploy the current template first \(make deploy"):
        refuse_protected("dev", fixed, disable=True)


def test_protection_on_a_stack_that_cannot_be_updated_names_the_elbv2_call() -> None:
    stuck = LiveStack(
        CORE,
        {"StackId": "id", "StackName": CORE, "StackStatus": "DELETE_FAILED"},
        ALB,
        Protection("Alb", LOAD_BALANCER_ARN, "LoadBalancerDeletionProtection"),
    )
    with pytest.raises(DeletionProtected) as raised:
        refuse_protected("dev", stuck, disable=True)
    assert (
        f"aws elbv2 modify-load-balancer-attributes --load-balancer-arn {LOAD_BALANCER_ARN} "
        "--attributes Key=deletion_protection.enabled,Value=false"
    ) in str(raised.value)
