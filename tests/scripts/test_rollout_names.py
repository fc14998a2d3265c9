"""The names deploy-service and status read from the core stack are the generator's names.

The deploy tooling takes every logical ID, parameter and output of a service from
`generator.naming`; these tests hold each against templates/core.yaml, so a resource renamed in
the generator fails here instead of in a deploy.
"""

from __future__ import annotations

from typing import Any

import pytest

from generator import naming
from scripts.cfn.template import load_template
from scripts.deploy.params import TEMPLATES_DIR
from scripts.deploy.rollout import SERVICES, ServiceRef, rollout_resources


@pytest.fixture(scope="module")
def core() -> dict[str, Any]:
    return load_template(TEMPLATES_DIR / "core.yaml")


@pytest.mark.parametrize("service", SERVICES)
def test_rollout_resources_are_resources_of_the_core_template(
    core: dict[str, Any], service: str
) -> None:
    resources = core["Resources"]
    for logical_id in rollout_resources(service):
        assert logical_id in resources, f"{logical_id} is not a resource of core.yaml"
    assert resources[naming.task_definition_id(service)]["Type"] == "AWS::ECS::TaskDefinition"
    assert resources[naming.service_id(service)]["Type"] == "AWS::ECS::Service"
    assert (
        resources[naming.scalable_target_id(service)]["Type"]
        == "AWS::ApplicationAutoScaling::ScalableTarget"
    )


@pytest.mark.parametrize("service", SERVICES)
def test_the_image_digest_parameter_is_a_parameter_of_the_core_template(
    core: dict[str, Any], service: str
) -> None:
    assert naming.image_digest_parameter(service) in core["Parameters"]


@pytest.mark.parametrize("service", SERVICES)
def test_every_output_a_rollout_reads_is_an_output_of_the_core_template(
    core: dict[str, Any], service: str
) -> None:
    outputs = set(core["Outputs"])
    read = {
        naming.CLUSTER_NAME_OUTPUT,
        naming.service_name_output(service),
        naming.repository_uri_output(service),
        naming.target_group_arn_output(service),
        naming.log_group_name_output(service),
    }
    assert read <= outputs, f"not outputs of core.yaml: {sorted(read - outputs)}"
    # And ServiceRef finds everything it needs in the real template's outputs.
    ref = ServiceRef.from_outputs(service, {key: key for key in outputs}, "todo-dev-core")
    assert ref.target_group_arn == naming.target_group_arn_output(service)
    assert ref.log_group == naming.log_group_name_output(service)


def test_the_rollout_knows_every_service_of_the_core_template(core: dict[str, Any]) -> None:
    services = sorted(
        logical_id
        for logical_id, r in core["Resources"].items()
        if r["Type"] == "AWS::ECS::Service"
    )
    assert services == sorted(naming.service_id(s) for s in SERVICES)
