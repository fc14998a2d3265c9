"""Follow the deployment ECS runs for a new service revision, stage by stage, until it ends.

ECS records each deployment of a service (ListServiceDeployments, DescribeServiceDeployments,
Amazon ECS API Reference): its status, the lifecycle stage it is in (SCALE_UP, TEST_TRAFFIC_SHIFT,
PRODUCTION_TRAFFIC_SHIFT, BAKE_TIME, CLEAN_UP, ...), the test and production traffic weights it
requested for the new (target) and old (source) revisions, and, when it rolls back, what caused
it: the deployment alarms it triggered, a lifecycle hook that failed or timed out, the circuit
breaker, or a StopServiceDeployment call.

`read` judges one DescribeServiceDeployments entry (pure); `Follower` polls and prints a line
each time the reading changes, with the time since it started, and raises RolloutFailed with the
cause when the deployment does not succeed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from rich.console import Console
from rich.text import Text

from scripts.deploy.aws import Client
from scripts.deploy.errors import RolloutFailed

SUCCEEDED = frozenset({"SUCCESSFUL"})
# Ended without the new revision serving: rolled back, or stopped.
ENDED_BADLY = frozenset({"STOPPED", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED"})
# How a stage reads in the log (ServiceDeployment.lifecycleStage, Amazon ECS API Reference).
STAGES: Mapping[str, str] = {
    "RECONCILE_SERVICE": "reconcile",
    "PRE_SCALE_UP": "before scale-up",
    "SCALE_UP": "scale-up",
    "POST_SCALE_UP": "after scale-up",
    "TEST_TRAFFIC_SHIFT": "test traffic",
    "POST_TEST_TRAFFIC_SHIFT": "after test traffic (release gate)",
    "PRODUCTION_TRAFFIC_SHIFT": "production traffic shift",
    "POST_PRODUCTION_TRAFFIC_SHIFT": "after production traffic shift",
    "BAKE_TIME": "bake time",
    "CLEAN_UP": "clean-up",
}
# Clock skew between this machine and ECS: a deployment created this long before the change set
# ran is still ours.
SKEW = timedelta(seconds=60)


@dataclass(frozen=True)
class Reading:
    """One deployment at one moment: what to print, and whether it is over."""

    state: str  # "wait" | "done" | "failed"
    line: str
    cause: str | None = None


def _percent(value: Any) -> str:
    number = float(value or 0)
    return f"{number:.0f}%" if number == int(number) else f"{number:g}%"


def _name(arn: str) -> str:
    """The last part of an ARN (a function's or an alarm's name)."""
    return arn.rsplit(":", 1)[-1].rsplit("/", 1)[-1]


def cause_of(deployment: Mapping[str, Any]) -> str | None:
    """What rolled the deployment back or stopped it, in the operator's words."""
    alarms = deployment.get("alarms") or {}
    triggered = alarms.get("triggeredAlarmNames") or []
    if triggered:
        return "deployment alarm " + ", ".join(triggered) + " went into ALARM"
    for hook in deployment.get("lifecycleHookDetails") or []:
        if hook.get("status") in ("FAILED", "TIMED_OUT"):
            target = _name(hook.get("targetArn") or "") or hook.get("hookId", "?")
            return (
                f"lifecycle hook {target} answered {hook['status']} at "
                f"{deployment.get('lifecycleStage', 'its stage')}"
            )
    status = deployment.get("status", "")
    reason = (deployment.get("rollback") or {}).get("reason") or deployment.get("statusReason")
    breaker = deployment.get("deploymentCircuitBreaker") or {}
    if breaker.get("status") == "TRIGGERED":
        return (
            f"the deployment circuit breaker: {breaker.get('failureCount', '?')} tasks failed "
            f"to start (threshold {breaker.get('threshold', '?')})"
            + (f"; ECS says: {reason}" if reason else "")
        )
    if status in ("STOPPED", "STOP_REQUESTED"):
        return "stopped by a StopServiceDeployment call" + (f": {reason}" if reason else "")
    if status.startswith("ROLLBACK"):
        return f"ECS rolled it back: {reason or 'no reason given'}"
    return reason or None


def _traffic(deployment: Mapping[str, Any]) -> str:
    target = deployment.get("targetServiceRevision") or {}
    sources = deployment.get("sourceServiceRevisions") or []
    parts = []
    test = target.get("requestedTestTrafficWeight")
    production = target.get("requestedProductionTrafficWeight")
    if production is not None:
        old = sum(float(s.get("requestedProductionTrafficWeight") or 0) for s in sources)
        parts.append(f"production {_percent(production)} new / {_percent(old)} old")
    if test is not None:
        parts.append(f"test {_percent(test)} new")
    parts.append(
        f"new revision {target.get('runningTaskCount', 0)}/{target.get('requestedTaskCount', 0)} "
        "tasks running"
    )
    hooks = [
        f"{_name(h.get('targetArn') or '') or 'hook'} {h.get('status')}"
        for h in deployment.get("lifecycleHookDetails") or []
    ]
    if hooks:
        parts.append("hook " + ", ".join(hooks))
    return ", ".join(parts)


def read(deployment: Mapping[str, Any]) -> Reading:
    """Judge one DescribeServiceDeployments entry."""
    status = str(deployment.get("status", "PENDING"))
    strategy = (deployment.get("deploymentConfiguration") or {}).get("strategy", "ROLLING")
    stage = deployment.get("lifecycleStage")
    where = STAGES.get(str(stage), str(stage)) if stage else status.lower().replace("_", " ")
    line = f"{strategy:<10} {status:<20} {where}: {_traffic(deployment)}"
    if status in SUCCEEDED:
        return Reading("done", f"{strategy:<10} {status:<20} {_traffic(deployment)}")
    cause = cause_of(deployment)
    if status in ENDED_BADLY:
        return Reading("failed", line + (f" ({cause})" if cause else ""), cause)
    if status.startswith("ROLLBACK") or status == "STOP_REQUESTED":
        return Reading("wait", line + (f" ({cause})" if cause else ""), cause)
    return Reading("wait", line)


@dataclass
class Follower:
    """Finds the deployment a change set starts for one service, and follows it to its end."""

    ecs: Client
    cluster: str
    service: str  # the ECS service's name
    label: str  # how the app service is called in the log ("main")
    console: Console
    since: datetime  # the change set's execution started here
    clock: Callable[[], float]
    started: float = field(init=False)
    arn: str | None = None
    deployment: dict[str, Any] = field(default_factory=dict)
    reading: Reading | None = None
    lines: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.started = self.clock()

    def _find(self) -> str | None:
        """The oldest deployment created since the change set ran: the one it started (a later
        one is CloudFormation rolling the stack back)."""
        found: list[dict[str, Any]] = []
        token: dict[str, str] = {}
        while True:  # botocore has no paginator for this operation: follow nextToken
            page = self.ecs.list_service_deployments(
                cluster=self.cluster,
                service=self.service,
                createdAt={"after": self.since - SKEW},
                **token,
            )
            found += page.get("serviceDeployments", [])
            if not page.get("nextToken"):
                break
            token = {"nextToken": page["nextToken"]}
        if not found:
            return None
        oldest = min(found, key=lambda d: d.get("createdAt") or self.since)
        return str(oldest["serviceDeploymentArn"])

    def poll(self) -> Reading | None:
        """One look at the deployment; prints its reading when it changed. None: not started."""
        if self.reading is not None and self.reading.state != "wait":
            return self.reading
        if self.arn is None:
            self.arn = self._find()
            if self.arn is None:
                return None
        answer = self.ecs.describe_service_deployments(serviceDeploymentArns=[self.arn])
        deployments: Sequence[dict[str, Any]] = answer.get("serviceDeployments") or []
        if not deployments:
            failures = answer.get("failures") or [{}]
            raise RolloutFailed(
                f"ECS does not describe deployment {self.arn} of {self.service}: "
                f"{failures[0].get('reason', 'no reason given')}"
            )
        self.deployment = dict(deployments[0])
        reading = read(self.deployment)
        if self.reading is None or reading.line != self.reading.line:
            self._print(reading)
        self.reading = reading
        return reading

    def _print(self, reading: Reading) -> None:
        minutes, seconds = divmod(int(self.clock() - self.started), 60)
        line = f"+{minutes:02d}:{seconds:02d} {self.label} {reading.line}"
        self.lines.append(line)
        style = {"done": "green", "failed": "red"}.get(reading.state, "")
        self.console.print(Text(line, style=style), soft_wrap=True)

    def follow(
        self,
        *,
        poll_seconds: float,
        timeout_seconds: float,
        sleep: Callable[[float], None],
    ) -> Reading:
        """Poll until the deployment ends; RolloutFailed names what rolled it back or stopped it
        (or that it never started, or outlived the timeout)."""
        while True:
            reading = self.poll()
            if reading is not None and reading.state == "done":
                return reading
            if reading is not None and reading.state == "failed":
                raise RolloutFailed(self.failure())
            if self.clock() - self.started > timeout_seconds:
                where = reading.line if reading else "no deployment has started"
                raise RolloutFailed(
                    f"service {self.service} in {self.cluster}: the deployment is not over "
                    f"after {timeout_seconds:.0f} s ({where}); it goes on: follow it with "
                    "`make status`"
                )
            sleep(poll_seconds)

    def failure(self) -> str:
        """Why the followed deployment did not succeed, for the error message."""
        status = self.deployment.get("status", "?")
        cause = (self.reading.cause if self.reading else None) or "no cause given"
        return (
            f"service {self.service} in {self.cluster}: deployment {_name(self.arn or '?')} "
            f"ended {status}: {cause}"
        )
