"""A small stateful fake of the ECS, ELB and CloudWatch Logs calls that deploy-service makes.

It answers in the shapes botocore returns and moves on by itself: each DescribeServices (and
DescribeServiceDeployments) answers the service's next state (the last one repeats), as a
deployment settles over successive polls.
ListServiceDeployments and DescribeServiceDeployments answer the deployment of the task
definition that the first state rolls out, read from the current state as ECS records it
(COMPLETED is SUCCESSFUL; FAILED, or gone, is a circuit-breaker rollback). The stage-by-stage
replays of progressive deployments are Stubber replays (tests/scripts/test_follow.py).
Names it does not know are refused the way the services refuse them. What CloudFormation is
sent, where the exact request matters, stays a botocore Stubber replay (tests/scripts/fakes.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError


def _error(operation: str, code: str, message: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, operation)


@dataclass
class FakeEcs:
    """One cluster with one service, whose deployments move through `states`."""

    cluster: str
    service_arn: str
    states: Sequence[dict[str, Any]]  # DescribeServices' service entries, one per poll
    tasks: Sequence[dict[str, Any]] = ()  # DescribeTasks' entries (stopped ones included)
    task_definitions: Mapping[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    _polls: int = 0

    @property
    def name(self) -> str:
        return self.service_arn.rsplit("/", 1)[-1]

    def _check_cluster(self, operation: str, cluster: str) -> None:
        if cluster != self.cluster:
            raise _error(operation, "ClusterNotFoundException", "Cluster not found.")

    @property
    def _current(self) -> dict[str, Any]:
        return dict(self.states[min(self._polls, len(self.states) - 1)])

    @property
    def _deployment_arn(self) -> str:
        arn = self.service_arn.replace(":service/", ":service-deployment/")
        return f"{arn}/fake0deployment"

    def list_service_deployments(
        self, *, cluster: str, service: str, createdAt: dict[str, Any]
    ) -> dict[str, Any]:
        self.calls.append("list_service_deployments")
        self._check_cluster("ListServiceDeployments", cluster)
        if service not in (self.name, self.service_arn):
            raise _error("ListServiceDeployments", "ServiceNotFoundException", "Not found.")
        first = self.states[0]["deployments"][0]
        return {
            "serviceDeployments": [
                {
                    "serviceDeploymentArn": self._deployment_arn,
                    "createdAt": first.get("createdAt"),
                    "status": "PENDING",
                }
            ]
        }

    def describe_service_deployments(self, *, serviceDeploymentArns: list[str]) -> dict[str, Any]:
        self.calls.append("describe_service_deployments")
        if serviceDeploymentArns != [self._deployment_arn]:
            return {"serviceDeployments": [], "failures": [{"reason": "MISSING"}]}
        rolled_out = self.states[0]["deployments"][0]["taskDefinition"]
        now = next(
            (d for d in self._current["deployments"] if d["taskDefinition"] == rolled_out), None
        )
        self._polls += 1  # like DescribeServices: the deployment moves on between two looks
        rollout = (now or {}).get("rolloutState", "FAILED")
        status = {"COMPLETED": "SUCCESSFUL", "IN_PROGRESS": "IN_PROGRESS"}.get(
            rollout, "ROLLBACK_SUCCESSFUL"
        )
        breaker = "TRIGGERED" if status == "ROLLBACK_SUCCESSFUL" else "MONITORING"
        return {
            "serviceDeployments": [
                {
                    "serviceDeploymentArn": self._deployment_arn,
                    "status": status,
                    "statusReason": (now or {}).get("rolloutStateReason", ""),
                    "deploymentConfiguration": {"strategy": "ROLLING"},
                    "targetServiceRevision": {
                        "arn": f"{self.service_arn}/revision",
                        "requestedTaskCount": (now or {}).get("desiredCount", 0),
                        "runningTaskCount": (now or {}).get("runningCount", 0),
                    },
                    "deploymentCircuitBreaker": {
                        "status": breaker,
                        "failureCount": (now or {}).get("failedTasks", 0),
                        "threshold": 3,
                    },
                }
            ],
            "failures": [],
        }

    def describe_services(self, *, cluster: str, services: list[str]) -> dict[str, Any]:
        self.calls.append("describe_services")
        self._check_cluster("DescribeServices", cluster)
        state = self.states[min(self._polls, len(self.states) - 1)]
        self._polls += 1
        found = [state for name in services if name in (self.name, self.service_arn)]
        missing = [
            {"arn": name, "reason": "MISSING"}
            for name in services
            if name not in (self.name, self.service_arn)
        ]
        return {"services": found, "failures": missing}

    def list_tasks(self, *, cluster: str, serviceName: str, desiredStatus: str) -> dict[str, Any]:
        self.calls.append("list_tasks")
        self._check_cluster("ListTasks", cluster)
        if serviceName != self.name:
            raise _error("ListTasks", "ServiceNotFoundException", "Service not found.")
        return {
            "taskArns": [t["taskArn"] for t in self.tasks if t["desiredStatus"] == desiredStatus]
        }

    def describe_tasks(self, *, cluster: str, tasks: list[str]) -> dict[str, Any]:
        self.calls.append("describe_tasks")
        self._check_cluster("DescribeTasks", cluster)
        found = [t for t in self.tasks if t["taskArn"] in tasks]
        known = {t["taskArn"] for t in found}
        failures = [{"arn": arn, "reason": "MISSING"} for arn in tasks if arn not in known]
        return {"tasks": found, "failures": failures}

    def describe_task_definition(self, *, taskDefinition: str) -> dict[str, Any]:
        self.calls.append("describe_task_definition")
        if taskDefinition not in self.task_definitions:
            raise _error(
                "DescribeTaskDefinition", "ClientException", "Unable to describe task definition."
            )
        return {"taskDefinition": self.task_definitions[taskDefinition]}


@dataclass
class FakeTargetHealth:
    """ELBv2's DescribeTargetHealth for known target groups."""

    targets: Mapping[str, list[dict[str, Any]]]

    def describe_target_health(self, *, TargetGroupArn: str) -> dict[str, Any]:
        if TargetGroupArn not in self.targets:
            raise _error(
                "DescribeTargetHealth", "TargetGroupNotFound", "One or more target groups not found"
            )
        return {"TargetHealthDescriptions": self.targets[TargetGroupArn]}


@dataclass
class FakeLogs:
    """CloudWatch Logs' GetLogEvents: the newest `limit` events of known streams."""

    streams: Mapping[tuple[str, str], list[dict[str, Any]]]
    asked: list[tuple[str, str]] = field(default_factory=list)

    def get_log_events(
        self,
        *,
        logGroupName: str,
        logStreamName: str,
        limit: int,
        startFromHead: bool,
    ) -> dict[str, Any]:
        self.asked.append((logGroupName, logStreamName))
        events = self.streams.get((logGroupName, logStreamName))
        if events is None:
            raise _error(
                "GetLogEvents",
                "ResourceNotFoundException",
                "The specified log stream does not exist.",
            )
        chosen = events[:limit] if startFromHead else events[-limit:]
        return {"events": chosen, "nextForwardToken": "f/1", "nextBackwardToken": "b/1"}
