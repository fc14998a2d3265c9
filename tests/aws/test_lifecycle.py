"""What CloudFormation does on a stack delete and on a LaunchType switch, in the order it does it.

`scripts.cfn.lifecycle` orders the operations as CloudFormation documents it and applies what AWS
documents about ECS, Auto Scaling and Elastic Load Balancing to that order. Each rule is shown to
fire on a deliberately broken copy of the template, so a green run here is an argument, not luck.
"""

from __future__ import annotations

import copy
import itertools
from typing import Any

import pytest

from scripts.cfn.lifecycle import Stack, delete_hazards, plan_delete, plan_update, update_hazards
from tests.aws.conftest import PSEUDO, core_parameters

LAUNCH_TYPES = ("EC2", "FARGATE")


def stack(template: dict[str, Any], **given: str) -> Stack:
    return Stack.of(template, core_parameters(**given), PSEUDO)


@pytest.mark.parametrize("launch_type", LAUNCH_TYPES)
def test_the_core_stack_deletes_once_deletion_protection_is_lifted(
    core: dict[str, Any], launch_type: str
) -> None:
    unprotected = stack(core, LaunchType=launch_type, LoadBalancerDeletionProtection="false")
    assert delete_hazards(unprotected, core) == []


def test_with_deletion_protection_the_delete_stops_at_the_load_balancer(
    core: dict[str, Any],
) -> None:
    """The default: a delete fails at the ALB, which `make destroy` lifts only on request."""
    (hazard,) = delete_hazards(stack(core), core)
    assert hazard.startswith("LoadBalancer: deletion protection is on")


def test_scale_in_protection_would_hang_the_delete(core: dict[str, Any]) -> None:
    """The template before the fix: managed termination protection with protected instances."""
    broken = copy.deepcopy(core)
    resources = broken["Resources"]
    provider = resources["CapacityProvider"]["Properties"]["AutoScalingGroupProvider"]
    provider["ManagedTerminationProtection"] = "ENABLED"
    resources["ContainerInstanceAutoScalingGroup"]["Properties"][
        "NewInstancesProtectedFromScaleIn"
    ] = True
    hazards = delete_hazards(stack(broken, LoadBalancerDeletionProtection="false"), broken)
    assert [h.split(":")[0] for h in hazards] == [
        "CapacityProvider",
        "ContainerInstanceAutoScalingGroup",
    ]


def test_the_delete_removes_the_group_only_after_its_capacity_provider(
    core: dict[str, Any],
) -> None:
    """Why protection cannot stay: the provider, which refers to the group, goes first."""
    order = [op.logical_id for op in plan_delete(stack(core), core)]
    assert order.index("CapacityProvider") < order.index("ContainerInstanceAutoScalingGroup")
    assert order.index("MainService") < order.index("CapacityProvider")


def test_stateful_resources_are_retained_by_a_delete(core: dict[str, Any]) -> None:
    retained = {op.logical_id for op in plan_delete(stack(core), core) if op.action == "Retain"}
    assert {"TodosTable", "FilesTable", "FilesBucket", "UserPool", "DataKey"} <= retained


@pytest.mark.parametrize(("before", "after"), [("EC2", "FARGATE"), ("FARGATE", "EC2")])
def test_a_direct_launch_type_switch_breaks_in_both_directions(
    core: dict[str, Any], before: str, after: str
) -> None:
    """The association drops the provider the services still use, and the listener rules (the
    production and the test rule of each service) move to the replaced target groups before the
    services do: refused by make changeset/deploy."""
    hazards = update_hazards(stack(core, LaunchType=before), stack(core, LaunchType=after))
    dropped = [h for h in hazards if h.startswith("ClusterCapacityProviderAssociations drops")]
    empty = [h for h in hazards if "forwards to the replaced (empty)" in h]
    assert len(dropped) == 2, hazards  # both services
    assert len(empty) == 4, hazards  # both rules of both services


@pytest.mark.parametrize(("before", "after"), [("EC2", "FARGATE"), ("FARGATE", "EC2")])
def test_the_three_step_switch_has_no_hazard(core: dict[str, Any], before: str, after: str) -> None:
    """ServicesEnabled=false, then LaunchType, then ServicesEnabled=true (docs/deploy.md)."""
    steps = [
        stack(core, LaunchType=before),
        stack(core, LaunchType=before, ServicesEnabled="false"),
        stack(core, LaunchType=after, ServicesEnabled="false"),
        stack(core, LaunchType=after),
    ]
    for old, new in itertools.pairwise(steps):
        assert update_hazards(old, new) == []


def test_the_switch_with_services_removed_replaces_what_it_must(core: dict[str, Any]) -> None:
    """Step 2 of the switch: what CloudFormation replaces and removes."""
    plan = plan_update(
        stack(core, ServicesEnabled="false"),
        stack(core, ServicesEnabled="false", LaunchType="FARGATE"),
    )
    actions = {op.logical_id: op.action for op in plan}
    assert actions["MainTargetGroup"] == actions["FilesTargetGroup"] == "Replace"
    assert actions["ContainerInstanceAutoScalingGroup"] == "Remove"
    assert actions["CapacityProvider"] == "Remove"
    assert "MainService" not in actions


def test_an_image_rollout_changes_only_the_service_and_its_task_definition(
    core: dict[str, Any],
) -> None:
    """deploy-service's change set: the task definition is replaced (ECS registers a revision),
    the service follows it, and nothing is replaced that holds traffic or data."""
    plan = plan_update(stack(core), stack(core, MainServiceImageDigest="sha256:" + "9f" * 32))
    assert {(op.logical_id, op.action) for op in plan} == {
        ("MainTaskDefinition", "Replace"),
        ("MainService", "Modify"),
    }


def _progressive(**given: str) -> dict[str, str]:
    return {
        "LaunchType": "FARGATE",
        "MainServiceDeploymentStrategy": "CANARY",
        "FilesServiceDeploymentStrategy": "CANARY",
        **given,
    }


def test_a_release_changes_no_rule_that_ecs_manages(core: dict[str, Any]) -> None:
    """deploy-service's change set on a progressive service: the rules stay as ECS left them."""
    old = stack(core, **_progressive())
    assert (
        update_hazards(
            old, stack(core, **_progressive(MainServiceImageDigest="sha256:" + "9f" * 32))
        )
        == []
    )


def test_changing_a_rule_that_ecs_manages_is_a_hazard(core: dict[str, Any]) -> None:
    """CloudFormation would write the template's weights over ECS's (aws-cdk#36649)."""
    broken = copy.deepcopy(core)
    conditions = broken["Resources"]["MainListenerRule"]["Properties"]["Conditions"]
    conditions[0]["PathPatternConfig"]["Values"].append("/lists/*")
    hazards = update_hazards(stack(core, **_progressive()), stack(broken, **_progressive()))
    (hazard,) = hazards
    assert hazard.startswith("MainListenerRule changes (Conditions) while ECS moves MainService")
    # With ROLLING nothing moves the weights: the same change is safe.
    rolling = {"LaunchType": "FARGATE"}
    assert update_hazards(stack(core, **rolling), stack(broken, **rolling)) == []
