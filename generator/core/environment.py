"""The environment layer: which environment this stack is, and what every role it creates carries.

`Environment` names the environment (`dev`, `prod`; `make deploy` passes it from the config
file's name). The CI stack of the same environment (templates/ci.yaml) creates the permissions
boundary named after it; every IAM role of this stack carries that boundary, and the CI stack's
execution role refuses to create or change a role without it.
"""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import Parameter, Ref, Sub, Template

from generator.config import Settings
from generator.naming import workload_boundary_name


@dataclass(frozen=True)
class Environment:
    name: Parameter
    tag_key: str  # the tag `make deploy` puts on the stack, whose value is the environment
    boundary: Sub  # ARN of the workload permissions boundary

    def tag(self) -> dict[str, object]:
        """The environment tag, for the few resources CloudFormation's stack tags do not reach."""
        return {"Key": self.tag_key, "Value": Ref(self.name)}


def add_environment(t: Template, settings: Settings) -> Environment:
    name = t.add_parameter(
        Parameter(
            "Environment",
            Type="String",
            AllowedPattern=r"^[a-z][a-z0-9]{1,15}$",
            ConstraintDescription="lower-case letters and digits, as in config/<env>.json",
            Description="The environment this stack belongs to (its CI stack, its tag)",
        )
    )
    boundary = Sub(
        "arn:${AWS::Partition}:iam::${AWS::AccountId}:policy/"
        + workload_boundary_name(settings.project)
    )
    return Environment(name=name, tag_key=f"{settings.project}:environment", boundary=boundary)
