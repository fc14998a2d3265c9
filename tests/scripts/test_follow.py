"""Following ECS's own deployments: botocore Stubber replays of what ECS answers, stage by stage.

Each sequence is what ListServiceDeployments and DescribeServiceDeployments return, poll after
poll, for one realistic deployment (Amazon ECS API Reference, ServiceDeployment): a canary that
succeeds, one rolled back by a deployment alarm during its bake time, one whose release gate
fails, a rolling deployment stopped by the circuit breaker, and one stopped by hand. The
follower prints each stage with its elapsed time and, when the deployment does not succeed,
fails naming the cause.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from botocore.stub import Stubber

from scripts.deploy.errors import RolloutFailed
from scripts.deploy.follow import Follower, read
from tests.scripts import fakes

CLUSTER = "todo-dev-core-Cluster-0a1b2c3d"
SERVICE = "todo-dev-core-MainService-4e5f6a7b"
ARN = f"arn:aws:ecs:{fakes.REGION}:{fakes.ACCOUNT}"
DEPLOYMENT = f"{ARN}:service-deployment/{CLUSTER}/{SERVICE}/Nw8cSkCrBG3zXJf4"
NEW = f"{ARN}:service-revision/{CLUSTER}/{SERVICE}/4204338417716389611"
OLD = f"{ARN}:service-revision/{CLUSTER}/{SERVICE}/1877046396406418734"
GATE = f"arn:aws:lambda:{fakes.REGION}:{fakes.ACCOUNT}:function:todo-dev-core-ReleaseGate-XY"
ALARM_5XX = "todo-dev-core-MainDeployment5xxAlarm-1Q2W3E4R"
ALARMS = [ALARM_5XX, "todo-dev-core-MainDeploymentLatencyAlarm-5T6Y7U8I"]


def deployment(
    status: str,
    stage: str | None,
    *,
    strategy: str = "CANARY",
    new: tuple[int, int] = (3, 3),  # running, requested
    production: float | None = None,
    test: float | None = None,
    hook: str | None = None,
    triggered: tuple[str, ...] = (),
    breaker: str = "MONITORING",
    failures: int = 0,
    reason: str | None = None,
) -> dict[str, Any]:
    target: dict[str, Any] = {
        "arn": NEW,
        "requestedTaskCount": new[1],
        "runningTaskCount": new[0],
        "pendingTaskCount": new[1] - new[0],
    }
    source: dict[str, Any] = {"arn": OLD, "requestedTaskCount": 3, "runningTaskCount": 3}
    if production is not None:
        target["requestedProductionTrafficWeight"] = production
        source["requestedProductionTrafficWeight"] = 100.0 - production
    if test is not None:
        target["requestedTestTrafficWeight"] = test
        source["requestedTestTrafficWeight"] = 100.0 - test
    entry: dict[str, Any] = {
        "serviceDeploymentArn": DEPLOYMENT,
        "serviceArn": f"{ARN}:service/{CLUSTER}/{SERVICE}",
        "clusterArn": f"{ARN}:cluster/{CLUSTER}",
        "createdAt": fakes.T0,
        "startedAt": fakes.T0,
        "updatedAt": fakes.T0,
        "sourceServiceRevisions": [source],
        "targetServiceRevision": target,
        "status": status,
        "deploymentConfiguration": {
            "strategy": strategy,
            "bakeTimeInMinutes": 15,
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
            "alarms": {"alarmNames": ALARMS, "enable": True, "rollback": True},
        },
        "deploymentCircuitBreaker": {"status": breaker, "failureCount": failures, "threshold": 3},
        "alarms": {
            "status": "TRIGGERED" if triggered else "MONITORING",
            "alarmNames": ALARMS,
            "triggeredAlarmNames": list(triggered),
        },
    }
    if stage:
        entry["lifecycleStage"] = stage
    if hook:
        entry["lifecycleHookDetails"] = [
            {"hookId": "h-1", "targetType": "AWS_LAMBDA", "targetArn": GATE, "status": hook}
        ]
    if reason:
        entry["statusReason"] = reason
        if status.startswith("ROLLBACK"):
            entry["rollback"] = {"reason": reason, "startedAt": fakes.T0, "serviceRevisionArn": OLD}
    return entry


SUCCESS = [
    deployment("IN_PROGRESS", "SCALE_UP", new=(1, 3)),
    deployment("IN_PROGRESS", "SCALE_UP", new=(3, 3)),
    deployment("IN_PROGRESS", "TEST_TRAFFIC_SHIFT", test=100.0),
    deployment("IN_PROGRESS", "POST_TEST_TRAFFIC_SHIFT", test=100.0, hook="IN_PROGRESS"),
    deployment("IN_PROGRESS", "POST_TEST_TRAFFIC_SHIFT", test=100.0, hook="SUCCEEDED"),
    deployment("IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT", production=10.0, test=100.0),
    deployment("IN_PROGRESS", "PRODUCTION_TRAFFIC_SHIFT", production=100.0, test=100.0),
    deployment("IN_PROGRESS", "BAKE_TIME", production=100.0, test=100.0),
    deployment("IN_PROGRESS", "CLEAN_UP", production=100.0, test=100.0),
    deployment("SUCCESSFUL", None, production=100.0, test=100.0),
]
ROLLED_BACK_BY_ALARM = [
    *SUCCESS[:7],
    deployment("IN_PROGRESS", "BAKE_TIME", production=100.0, test=100.0),
    deployment(
        "ROLLBACK_IN_PROGRESS",
        "PRODUCTION_TRAFFIC_SHIFT",
        production=0.0,
        test=0.0,
        triggered=(ALARM_5XX,),
        reason="Service deployment rolled back because alarm(s) were triggered.",
    ),
    deployment(
        "ROLLBACK_SUCCESSFUL",
        None,
        production=0.0,
        test=0.0,
        triggered=(ALARM_5XX,),
        reason="Service deployment rolled back because alarm(s) were triggered.",
    ),
]
GATE_FAILED = [
    *SUCCESS[:4],
    deployment(
        "ROLLBACK_IN_PROGRESS",
        "POST_TEST_TRAFFIC_SHIFT",
        test=100.0,
        hook="FAILED",
        reason="Lifecycle hook failed.",
    ),
    deployment(
        "ROLLBACK_SUCCESSFUL",
        "POST_TEST_TRAFFIC_SHIFT",
        test=0.0,
        hook="FAILED",
        reason="Lifecycle hook failed.",
    ),
]
CIRCUIT_BREAKER = [
    deployment("IN_PROGRESS", None, strategy="ROLLING", new=(0, 3)),
    deployment("IN_PROGRESS", None, strategy="ROLLING", new=(0, 3), failures=2),
    deployment(
        "ROLLBACK_IN_PROGRESS",
        None,
        strategy="ROLLING",
        new=(0, 3),
        breaker="TRIGGERED",
        failures=3,
        reason="ECS deployment circuit breaker: tasks failed to start.",
    ),
    deployment(
        "ROLLBACK_SUCCESSFUL",
        None,
        strategy="ROLLING",
        new=(0, 0),
        breaker="TRIGGERED",
        failures=3,
        reason="ECS deployment circuit breaker: tasks failed to start.",
    ),
]
STOPPED_BY_HAND = [
    *SUCCESS[:6],
    deployment(
        "STOP_REQUESTED",
        "PRODUCTION_TRAFFIC_SHIFT",
        production=10.0,
        test=100.0,
        reason="Stopped by ops: canary looks slow",
    ),
    deployment(
        "STOPPED", None, production=10.0, test=100.0, reason="Stopped by ops: canary looks slow"
    ),
]


def follower(answers: list[dict[str, Any]]) -> tuple[Follower, Stubber, io.StringIO]:
    ecs, stub = fakes.stubbed("ecs")
    stub.add_response(
        "list_service_deployments",
        {
            "serviceDeployments": [
                {
                    "serviceDeploymentArn": DEPLOYMENT,
                    "createdAt": fakes.T0,
                    "targetServiceRevisionArn": NEW,
                    "status": "PENDING",
                }
            ]
        },
        {
            "cluster": CLUSTER,
            "service": SERVICE,
            "createdAt": {"after": fakes.T0 - timedelta(seconds=60)},
        },
    )
    for answer in answers:
        stub.add_response(
            "describe_service_deployments",
            {"serviceDeployments": [answer], "failures": []},
            {"serviceDeploymentArns": [DEPLOYMENT]},
        )
    console, output = fakes.console()
    ticks: Iterator[float] = itertools.count(0.0, 15.0)
    follow = Follower(ecs, CLUSTER, SERVICE, "main", console, fakes.T0, clock=lambda: next(ticks))
    return follow, stub, output


def test_a_successful_canary_prints_every_stage_with_its_traffic() -> None:
    follow, stub, output = follower(SUCCESS)
    follow.follow(poll_seconds=5, timeout_seconds=3600, sleep=lambda _: None)
    stub.assert_no_pending_responses()
    assert output.getvalue().splitlines() == follow.lines  # what the operator sees
    text = "\n".join(follow.lines)
    for stage in (
        "scale-up: ",
        "test traffic: ",
        "after test traffic (release gate): ",
        "production traffic shift: production 10% new / 90% old",
        "production traffic shift: production 100% new / 0% old",
        "bake time: ",
        "clean-up: ",
    ):
        assert stage in text, stage
    assert "new revision 1/3 tasks running" in text
    assert "hook todo-dev-core-ReleaseGate-XY SUCCEEDED" in text
    assert follow.lines[-1].split()[1:3] == ["main", "CANARY"]
    assert "SUCCESSFUL" in follow.lines[-1]
    # Each change printed once, each line with the time since the follower started.
    assert len(follow.lines) == len(SUCCESS)
    assert all(line.startswith("+") and line[3] == ":" for line in follow.lines)


@pytest.mark.parametrize(
    ("answers", "cause"),
    [
        (
            ROLLED_BACK_BY_ALARM,
            f"ended ROLLBACK_SUCCESSFUL: deployment alarm {ALARM_5XX} went into ALARM",
        ),
        (
            GATE_FAILED,
            "ended ROLLBACK_SUCCESSFUL: lifecycle hook todo-dev-core-ReleaseGate-XY answered "
            "FAILED at POST_TEST_TRAFFIC_SHIFT",
        ),
        (
            CIRCUIT_BREAKER,
            "ended ROLLBACK_SUCCESSFUL: the deployment circuit breaker: 3 tasks failed to start "
            "(threshold 3)",
        ),
        (
            STOPPED_BY_HAND,
            "ended STOPPED: stopped by a StopServiceDeployment call: Stopped by ops: canary "
            "looks slow",
        ),
    ],
    ids=["alarm-during-bake", "release-gate", "circuit-breaker", "stopped-by-hand"],
)
def test_a_deployment_that_does_not_succeed_fails_naming_its_cause(
    answers: list[dict[str, Any]], cause: str
) -> None:
    follow, stub, _ = follower(answers)
    with pytest.raises(RolloutFailed) as raised:
        follow.follow(poll_seconds=5, timeout_seconds=3600, sleep=lambda _: None)
    stub.assert_no_pending_responses()
    assert cause in str(raised.value)
    assert str(raised.value).startswith(f"service {SERVICE} in {CLUSTER}: deployment ")
    # The log shows where it was when it turned back.
    assert any("ROLLBACK_IN_PROGRESS" in line or "STOP_REQUESTED" in line for line in follow.lines)


def test_the_alarm_rollback_happens_in_the_bake_time() -> None:
    bad, _, _ = follower(ROLLED_BACK_BY_ALARM)
    with pytest.raises(RolloutFailed):
        bad.follow(poll_seconds=5, timeout_seconds=3600, sleep=lambda _: None)
    before = [line for line in bad.lines if "ROLLBACK" in line]
    assert "bake time" in bad.lines[bad.lines.index(before[0]) - 1]
    assert "production 0% new / 100% old" in before[0]


def test_the_reading_of_one_answer_is_pure() -> None:
    assert read(SUCCESS[-1]).state == "done"
    assert read(GATE_FAILED[-2]).state == "wait"
    assert read(GATE_FAILED[-1]).state == "failed"
    assert read(SUCCESS[3]).cause is None


def test_a_deployment_that_never_ends_times_out_and_says_it_goes_on() -> None:
    follow, _, _ = follower([SUCCESS[0]] * 40)
    with pytest.raises(RolloutFailed, match=r"not over after 300 s .* it goes on"):
        follow.follow(poll_seconds=5, timeout_seconds=300, sleep=lambda _: None)
