"""`make deploy-service` on a canary service: the whole command, as the operator sees it.

CloudFormation, ECS, ELB and CloudWatch Logs are botocore Stubber replays. While CloudFormation
applies the change set (it waits for the ECS deployment), each pause between two polls of the
stack reads the ECS deployment, so its stages show as they happen; after the stack update the
follower reads on to the end, then the service's steady state. A rollback fails the command
with what caused it, whatever CloudFormation reports.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import ANY, Stubber

from scripts.deploy.aws import AwsClients
from scripts.deploy.errors import RolloutFailed
from scripts.deploy.rollout import run_deploy_service
from tests.scripts import fakes
from tests.scripts.test_follow import (
    DEPLOYMENT,
    GATE_FAILED,
    ROLLED_BACK_BY_ALARM,
    SUCCESS,
)
from tests.scripts.test_rollout import (
    CLUSTER,
    CORE,
    NEW_DIGEST,
    NEW_TAG,
    OUTPUTS,
    PARAMETERS,
    SERVICE,
    TD_NEW,
    TG,
    Pushed,
    deployment,
    service,
    stub_digest,
    stub_execute,
    stub_plan,
    stub_task_definition_resource,
)

STACK = "AWS::CloudFormation::Stack"
GATE_LOG = "todo-dev-core-ReleaseGateLogGroup-0A1B2C3D"
OUTPUTS_WITH_GATE = {**OUTPUTS, "ReleaseGateLogGroupName": GATE_LOG}
GATE_LINES = (
    '{"check": "unauthenticated", "detail": "answered 500, expected 401", "passed": false, '
    '"service": "main"}',
    '{"gate": "FAILED", "reason": "unauthenticated: answered 500, expected 401", '
    '"service": "main"}',
)


def stub_canary_execution(cfn: Stubber, rounds: int, end: str, reason: str = "") -> None:
    """ExecuteChangeSet, then `rounds` looks while the service update is in progress, then the
    stack's end (`end`: UPDATE_COMPLETE, or UPDATE_ROLLBACK_COMPLETE after `reason`)."""
    started = fakes.newest_first(
        *stub_execute(cfn),
        fakes.event(CORE, "MainService", "AWS::ECS::Service", "UPDATE_IN_PROGRESS", 4),
    )
    in_progress = fakes.stack(CORE, "UPDATE_IN_PROGRESS", outputs=OUTPUTS_WITH_GATE)
    for index in range(rounds):
        cfn.add_response("describe_stack_events", {"StackEvents": started if index == 0 else []})
        cfn.add_response("describe_stacks", in_progress)
    if end == "UPDATE_COMPLETE":
        last = [
            fakes.event(CORE, "MainService", "AWS::ECS::Service", "UPDATE_COMPLETE", 900),
            fakes.event(CORE, CORE, STACK, "UPDATE_COMPLETE", 910),
        ]
    else:
        last = [
            fakes.event(
                CORE, "MainService", "AWS::ECS::Service", "UPDATE_FAILED", 600, reason=reason
            ),
            fakes.event(CORE, CORE, STACK, "UPDATE_ROLLBACK_IN_PROGRESS", 601, reason=reason),
            fakes.event(CORE, CORE, STACK, "UPDATE_ROLLBACK_COMPLETE", 700),
        ]
    cfn.add_response("describe_stack_events", {"StackEvents": list(reversed(last))})
    updated = {**PARAMETERS, "MainServiceImageDigest": NEW_DIGEST}
    cfn.add_response(
        "describe_stacks",
        fakes.stack(CORE, end, parameters=updated, outputs=OUTPUTS_WITH_GATE),
    )
    cfn.add_response("describe_stack_events", {"StackEvents": []})


def stub_ecs_reads(ecs: Stubber, answers: list[dict[str, Any]]) -> None:
    ecs.add_response(
        "list_service_deployments",
        {"serviceDeployments": [{"serviceDeploymentArn": DEPLOYMENT, "createdAt": fakes.T0}]},
        {"cluster": CLUSTER, "service": SERVICE, "createdAt": ANY},
    )
    for answer in answers:
        ecs.add_response(
            "describe_service_deployments",
            {"serviceDeployments": [answer], "failures": []},
            {"serviceDeploymentArns": [DEPLOYMENT]},
        )


def stubbed_clients() -> tuple[AwsClients, dict[str, Stubber]]:
    made = {name: fakes.stubbed(name) for name in ("cloudformation", "ecr", "ecs", "elbv2", "logs")}
    stub_digest(made["ecr"][1])
    return AwsClients(**{k: v[0] for k, v in made.items()}), {k: v[1] for k, v in made.items()}


def steady_service() -> dict[str, Any]:
    """DescribeServices once the deployment ended: the three tasks the sequences scale to."""
    primary = {**deployment("PRIMARY", TD_NEW, "COMPLETED", running=3), "desiredCount": 3}
    return {"services": [{**service(primary), "desiredCount": 3, "runningCount": 3}]}


def deploy(tmp_path: Path, clients: AwsClients) -> tuple[io.StringIO, Any]:
    ctx, out, _ = fakes.context(clients, config_dir=tmp_path, templates_dir=tmp_path)
    return out, lambda: run_deploy_service(
        ctx, "main", auto_approve=True, image_tag=NEW_TAG, publish=Pushed()
    )


def test_a_successful_canary_is_followed_while_cloudformation_waits(tmp_path: Path) -> None:
    clients, stubs = stubbed_clients()
    stub_plan(stubs["cloudformation"], outputs=OUTPUTS_WITH_GATE)
    # CloudFormation waits for the ECS deployment: eight looks at the stack, and between them
    # the first eight stages; the last two after the stack update ended.
    stub_canary_execution(stubs["cloudformation"], rounds=8, end="UPDATE_COMPLETE")
    stub_ecs_reads(stubs["ecs"], SUCCESS)
    stub_task_definition_resource(stubs["cloudformation"])
    stubs["ecs"].add_response("describe_services", steady_service())
    out, run = deploy(tmp_path, clients)
    run()
    for stub in stubs.values():
        stub.assert_no_pending_responses()
    text = out.getvalue()
    assert text.index("UPDATE_IN_PROGRESS") < text.index("scale-up")
    assert text.index("production 10% new / 90% old") < text.index(f"{CORE}: UPDATE_COMPLETE")
    assert text.index("bake time") < text.index("SUCCESSFUL")
    assert f"runs {NEW_TAG} ({NEW_DIGEST}): 3/3 tasks" in text


@pytest.mark.parametrize(
    ("answers", "cause", "gate_log"),
    [
        (ROLLED_BACK_BY_ALARM, "deployment alarm todo-dev-core-MainDeployment5xxAlarm", False),
        (GATE_FAILED, "lifecycle hook todo-dev-core-ReleaseGate-XY answered FAILED", True),
    ],
    ids=["alarm", "release-gate"],
)
def test_a_rolled_back_canary_fails_naming_its_cause(
    tmp_path: Path, answers: list[dict[str, Any]], cause: str, gate_log: bool
) -> None:
    clients, stubs = stubbed_clients()
    stub_plan(stubs["cloudformation"], outputs=OUTPUTS_WITH_GATE)
    reason = (
        "Resource handler returned message: \"Error occurred during operation 'ECS service "
        "deployment was rolled back'.\""
    )
    stub_canary_execution(
        stubs["cloudformation"], len(answers) - 1, "UPDATE_ROLLBACK_COMPLETE", reason
    )
    stub_ecs_reads(stubs["ecs"], answers)
    # The diagnosis: service events, stopped tasks, target health, and the gate's verdict.
    stubs["ecs"].add_response("describe_services", steady_service())
    stubs["ecs"].add_response("list_tasks", {"taskArns": []})
    stubs["elbv2"].add_response(
        "describe_target_health", {"TargetHealthDescriptions": []}, {"TargetGroupArn": TG}
    )
    if gate_log:
        stubs["logs"].add_response(
            "filter_log_events",
            {"events": [{"message": line} for line in GATE_LINES]},
            {
                "logGroupName": GATE_LOG,
                "startTime": int(fakes.T0.timestamp() * 1000),
                "filterPattern": '"main"',
            },
        )
    out, run = deploy(tmp_path, clients)
    with pytest.raises(RolloutFailed) as raised:
        run()
    for stub in stubs.values():
        stub.assert_no_pending_responses()
    message = str(raised.value)
    assert cause in message
    assert "ended ROLLBACK_SUCCESSFUL" in message
    assert "UPDATE_ROLLBACK_COMPLETE" in message  # CloudFormation's side, after ECS's cause
    assert "ROLLBACK_IN_PROGRESS" in out.getvalue()
    assert ("answered 500, expected 401" in out.getvalue()) is gate_log
