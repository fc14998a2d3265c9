"""The IAM roles a stack creates, with their policies resolved as IAM would evaluate them."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from scripts.cfn.template import Physical, Resolver
from scripts.iam.sample import (
    OWN_RESOURCE_TYPE,
    Deployment,
    SampleStack,
    fake_id,
    load_stack,
    own_placeholders,
    physical_name,
    resource_arn,
)

# CloudFormation types whose `Ref` is the resource's ARN (for most it is the name or ID).
REF_IS_ARN = {
    "AWS::ECS::Service",
    "AWS::ECS::TaskDefinition",
    "AWS::ElasticLoadBalancingV2::Listener",
    "AWS::ElasticLoadBalancingV2::ListenerRule",
    "AWS::ElasticLoadBalancingV2::LoadBalancer",
    "AWS::ElasticLoadBalancingV2::TargetGroup",
    "AWS::IAM::ManagedPolicy",
    "AWS::IAM::OIDCProvider",
    "AWS::SNS::Topic",
    "AWS::SecretsManager::Secret",
}


# Where `Fn::GetAtt X.Arn` is not the resource's plain ARN: a log group's ends in `:*`, so that it
# also matches the group's log streams (AWS::Logs::LogGroup, "Return values", Template Reference).
GET_ATT_ARN_SUFFIX = {"AWS::Logs::LogGroup": ":*"}


class _Attributes(Mapping[str, str]):
    """A resource's `Fn::GetAtt` values: its ARN, else a stand-in naming the attribute."""

    def __init__(self, logical_id: str, arn: str | None, arn_suffix: str = "") -> None:
        self.logical_id = logical_id
        self.arn = arn
        self.arn_suffix = arn_suffix

    def __getitem__(self, key: str) -> str:
        if key == "Arn" and self.arn:
            return self.arn + self.arn_suffix
        return f"{self.logical_id}.{key}"

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str)

    def __iter__(self) -> Iterator[str]:
        return iter(("Arn",))

    def __len__(self) -> int:
        return 1


def _physical(stack: SampleStack) -> dict[str, Physical]:
    physical = {}
    for logical_id, resource in stack.resources.items():
        rtype = str(resource["Type"])
        arn = resource_arn(stack, logical_id)
        own = OWN_RESOURCE_TYPE.get(rtype)
        if rtype in REF_IS_ARN and arn:
            ref = arn
        elif own and any("Name" in k for k in own_placeholders(*own)):
            ref = physical_name(stack, logical_id)
        elif own:
            ref = list(stack.identities[logical_id].values())[-1]
        else:
            ref = f"{logical_id}-{fake_id(stack.name, logical_id)}"
        physical[logical_id] = Physical(
            ref, _Attributes(logical_id, arn, GET_ATT_ARN_SUFFIX.get(rtype, ""))
        )
    return physical


def _resolving(
    template: Mapping[str, Any], layer: str, deployment: Deployment, parameters: Mapping[str, str]
) -> tuple[SampleStack, Resolver]:
    stack = load_stack(template, layer, deployment, parameters)
    resolver = Resolver(stack.template, stack.template["Parameters"], deployment.pseudo(layer))
    resolver.physical.update(_physical(stack))
    return stack, resolver


def _managed_documents(stack: SampleStack, resolver: Resolver) -> dict[str, Mapping[str, Any]]:
    return {
        resolver.physical[logical_id].ref: resolver.resolve(
            resource["Properties"]["PolicyDocument"], logical_id
        )
        for logical_id, resource in stack.resources.items()
        if resource["Type"] == "AWS::IAM::ManagedPolicy"
    }


def managed_policy_documents(
    template: Mapping[str, Any], layer: str, deployment: Deployment, parameters: Mapping[str, str]
) -> dict[str, Mapping[str, Any]]:
    """The stack's managed policies, resolved for `deployment`, by ARN."""
    return _managed_documents(*_resolving(template, layer, deployment, parameters))


@dataclass(frozen=True)
class RolePolicies:
    """What an IAM role of a stack may do, as IAM evaluates it: every identity policy (inline
    and attached managed ones) and its permissions boundary."""

    logical_id: str
    arn: str
    policies: tuple[tuple[str, Mapping[str, Any]], ...]  # (name, document)
    boundary: tuple[str, Mapping[str, Any]] | None
    trust: Mapping[str, Any]


def role_policies(
    template: Mapping[str, Any],
    layer: str,
    deployment: Deployment,
    parameters: Mapping[str, str],
    managed: Mapping[str, Mapping[str, Any]] = {},
) -> dict[str, RolePolicies]:
    """The stack's roles with their documents resolved for `deployment`. `managed` holds the
    documents of managed policies from outside the stack (AWS's, the CI stack's boundary), by ARN;
    the stack's own managed policies are read from the template."""
    stack, resolver = _resolving(template, layer, deployment, parameters)
    documents = {**managed, **_managed_documents(stack, resolver)}
    roles = {}
    for logical_id, resource in stack.resources.items():
        if resource["Type"] != "AWS::IAM::Role":
            continue
        props = resource["Properties"]
        inline = [
            (str(p["PolicyName"]), resolver.resolve(p["PolicyDocument"], logical_id))
            for p in props.get("Policies", [])
        ]
        attached = [
            (arn, documents[arn])
            for arn in resolver.resolve(props.get("ManagedPolicyArns", []), logical_id)
        ]
        boundary = None
        if "PermissionsBoundary" in props:
            arn = resolver.text(props["PermissionsBoundary"], logical_id)
            boundary = (arn, documents[arn])
        roles[logical_id] = RolePolicies(
            logical_id=logical_id,
            arn=resource_arn(stack, logical_id) or "",
            policies=tuple(inline + attached),
            boundary=boundary,
            trust=resolver.resolve(props["AssumeRolePolicyDocument"], logical_id),
        )
    return roles


def key_policies(
    template: Mapping[str, Any], layer: str, deployment: Deployment, parameters: Mapping[str, str]
) -> dict[str, Mapping[str, Any]]:
    """Each KMS key's key policy, resolved for `deployment`, by the key's logical ID. KMS
    authorises a key only if its key policy allows ("Key policies in AWS KMS")."""
    stack, resolver = _resolving(template, layer, deployment, parameters)
    return {
        logical_id: resolver.resolve(resource["Properties"]["KeyPolicy"], logical_id)
        for logical_id, resource in stack.resources.items()
        if resource["Type"] == "AWS::KMS::Key"
    }


def policy_documents(
    template: Mapping[str, Any], layer: str, deployment: Deployment, parameters: Mapping[str, str]
) -> dict[str, list[Mapping[str, Any]]]:
    """Every identity policy document of the stack, resolved, by the resource that holds it: a
    role (its inline policies) or a managed policy."""
    stack, resolver = _resolving(template, layer, deployment, parameters)
    documents: dict[str, list[Mapping[str, Any]]] = {}
    for logical_id, resource in stack.resources.items():
        props = resource.get("Properties") or {}
        if resource["Type"] == "AWS::IAM::Role" and props.get("Policies"):
            documents[logical_id] = [
                resolver.resolve(p["PolicyDocument"], logical_id) for p in props["Policies"]
            ]
        elif resource["Type"] == "AWS::IAM::ManagedPolicy":
            documents[logical_id] = [resolver.resolve(props["PolicyDocument"], logical_id)]
    return documents


def resolved_property(
    template: Mapping[str, Any],
    layer: str,
    deployment: Deployment,
    parameters: Mapping[str, str],
    logical_id: str,
    name: str,
) -> Any:
    """One property of a resource, resolved for `deployment` (ARNs as the resources will have
    them): a VPC endpoint's policy, a topic's policy."""
    _, resolver = _resolving(template, layer, deployment, parameters)
    return resolver.prop(logical_id, name)
