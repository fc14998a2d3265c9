"""What CloudFormation will do, and in what order, when a stack is deleted or its parameters change.

CloudFormation's documented ordering, which everything here follows:

- Dependencies come from `Ref`, `Fn::GetAtt`, `Fn::Sub` and `DependsOn` ("DependsOn attribute",
  CloudFormation Template Reference).
- A stack update creates, updates and replaces resources in dependency order (what a resource
  refers to first); removed resources, and the old copy of each replaced one, go in a cleanup phase
  after every update, in reverse dependency order ("Update behaviors of stack resources";
  "CloudFormation stack updates: cleanup phase", CloudFormation User Guide).
- A stack delete deletes in reverse dependency order; a resource with `DeletionPolicy: Retain`
  (or `RetainExceptOnCreate`, `Snapshot`) is left in place ("DeletionPolicy attribute").
- A property change replaces the resource when the property is create-only in the type's
  provider schema, and may replace it when it is conditionally create-only (`scripts.cfn.schemas`).

`plan_update` and `plan_delete` describe the operations; `update_hazards` and `delete_hazards`
apply what AWS documents about the services to that order and name what would fail.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from graphlib import TopologicalSorter
from typing import Any

from scripts.cfn import sam
from scripts.cfn.schemas import resource_schema
from scripts.cfn.template import deployed, references

RETAINED = {"Retain", "RetainExceptOnCreate", "Snapshot"}


def dependencies(resources: Mapping[str, Mapping[str, Any]]) -> dict[str, set[str]]:
    """For each resource, the resources it depends on (references and DependsOn)."""
    graph: dict[str, set[str]] = {}
    for name, resource in resources.items():
        depends = resource.get("DependsOn") or []
        named = {depends} if isinstance(depends, str) else set(depends)
        found = set(references(resource.get("Properties") or {})) | named
        graph[name] = {r for r in found if r in resources and r != name}
    return graph


def _with_parameters(value: Any, parameters: Mapping[str, str]) -> Any:
    """Parameter references replaced by their values, so a changed parameter shows up as a
    changed property; references to resources stay."""
    if isinstance(value, dict):
        if set(value) == {"Ref"} and value["Ref"] in parameters:
            return parameters[value["Ref"]]
        if set(value) == {"Fn::Sub"}:
            arg = value["Fn::Sub"]
            text = arg[0] if isinstance(arg, list) else arg

            def fill(match: re.Match[str]) -> str:
                name = match.group(1)
                return parameters.get(name, match.group(0))

            filled = re.sub(r"\$\{([^}!.]+)\}", fill, str(text))
            if isinstance(arg, list):
                return {"Fn::Sub": [filled, _with_parameters(arg[1], parameters)]}
            return {"Fn::Sub": filled}
        return {k: _with_parameters(v, parameters) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_parameters(v, parameters) for v in value]
    return value


@dataclass(frozen=True)
class Stack:
    """A template as it deploys with given parameter values."""

    resources: Mapping[str, Mapping[str, Any]]
    graph: Mapping[str, set[str]]

    @classmethod
    def of(
        cls, template: Mapping[str, Any], parameters: Mapping[str, str], pseudo: Mapping[str, str]
    ) -> Stack:
        shaped = deployed(sam.expand(template, parameters), parameters, pseudo)
        values = {**shaped["Parameters"], **pseudo}
        resources = {
            name: _with_parameters(resource, values)
            for name, resource in shaped["Resources"].items()
        }
        return cls(resources, dependencies(resources))

    def type_of(self, name: str) -> str:
        return str(self.resources[name]["Type"])

    def properties(self, name: str) -> Mapping[str, Any]:
        props: Mapping[str, Any] = self.resources[name].get("Properties") or {}
        return props


@dataclass(frozen=True)
class Operation:
    action: str  # "Add", "Modify", "Replace", "Remove" (update); "Delete", "Retain" (delete)
    logical_id: str
    resource_type: str
    changed: tuple[str, ...] = ()  # top-level properties that differ

    def __str__(self) -> str:
        detail = f" ({', '.join(self.changed)})" if self.changed else ""
        return f"{self.action} {self.logical_id} [{self.resource_type}]{detail}"


def _changed(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[str, ...]:
    keys = set(old) | set(new)
    return tuple(sorted(k for k in keys if old.get(k) != new.get(k)))


def _replaces(resource_type: str, changed: tuple[str, ...]) -> bool:
    schema = resource_schema(resource_type)
    return any(schema.replaces_on_change((name,)) for name in changed)


def plan_update(old: Stack, new: Stack) -> list[Operation]:
    """Every operation of the update, in the order CloudFormation carries them out."""
    ops: dict[str, Operation] = {}
    for name in new.resources:
        if name not in old.resources:
            ops[name] = Operation("Add", name, new.type_of(name))
            continue
        changed = _changed(old.properties(name), new.properties(name))
        if old.type_of(name) != new.type_of(name):
            ops[name] = Operation("Replace", name, new.type_of(name), ("Type",))
        elif changed:
            action = "Replace" if _replaces(new.type_of(name), changed) else "Modify"
            ops[name] = Operation(action, name, new.type_of(name), changed)
    # A resource that refers to a replaced one is updated with the new copy's ID right after it.
    for name in TopologicalSorter(new.graph).static_order():
        if name in old.resources and name not in ops:
            replaced = sorted(d for d in new.graph[name] if d in ops and ops[d].action == "Replace")
            if replaced:
                changed = tuple(f"refers to {d}" for d in replaced)
                ops[name] = Operation("Modify", name, new.type_of(name), changed)
    order = [n for n in TopologicalSorter(new.graph).static_order() if n in ops]
    cleanup = [
        Operation("Remove", name, old.type_of(name))
        for name in reversed(list(TopologicalSorter(old.graph).static_order()))
        if name not in new.resources
    ]
    return [ops[n] for n in order] + cleanup


def plan_delete(stack: Stack, template: Mapping[str, Any]) -> list[Operation]:
    """Every resource in the order a stack delete reaches it: deleted, or retained."""
    ops = []
    for name in reversed(list(TopologicalSorter(stack.graph).static_order())):
        policy = str((template["Resources"].get(name) or {}).get("DeletionPolicy", "Delete"))
        ops.append(
            Operation("Retain" if policy in RETAINED else "Delete", name, stack.type_of(name))
        )
    return ops


# --- What AWS documents about the services, applied to that order ---------------------------


def _ref_targets(value: Any, stack: Stack) -> set[str]:
    """Resources (or literal names, such as FARGATE) that a property value designates."""
    if isinstance(value, list):
        return {t for v in value for t in _ref_targets(v, stack)}
    if isinstance(value, dict):
        return {r for r in references(value) if r in stack.resources}
    return {str(value)}


def _strategy_providers(stack: Stack, service: str) -> set[str]:
    strategy = stack.properties(service).get("CapacityProviderStrategy") or []
    return {t for item in strategy for t in _ref_targets(item.get("CapacityProvider"), stack)}


def _services(stack: Stack) -> list[str]:
    return [n for n in stack.resources if stack.type_of(n) == "AWS::ECS::Service"]


def update_hazards(old: Stack, new: Stack) -> list[str]:
    """What the update would break, each naming the resources, the order and the AWS rule."""
    plan = plan_update(old, new)
    position = {op.logical_id: i for i, op in enumerate(plan)}
    by_id = {op.logical_id: op for op in plan}
    hazards = []
    for op in plan:
        if op.resource_type != "AWS::ECS::ClusterCapacityProviderAssociations":
            continue
        if op.action not in ("Modify", "Replace"):
            continue
        before = _ref_targets(old.properties(op.logical_id).get("CapacityProviders", []), old)
        after = _ref_targets(new.properties(op.logical_id).get("CapacityProviders", []), new)
        for service in _services(old):
            still_used = _strategy_providers(old, service) & (before - after)
            if not still_used:
                continue
            moved_first = service in by_id and by_id[service].action != "Remove"
            if not moved_first or position[service] > position[op.logical_id]:
                hazards.append(
                    f"{op.logical_id} drops capacity provider {', '.join(sorted(still_used))} "
                    f"while {service} still uses it ({service} changes later): ECS refuses "
                    '("Deleting an Amazon ECS capacity provider": remove it from every '
                    "service's strategy first)"
                )
    replaced_groups = {
        op.logical_id
        for op in plan
        if op.action == "Replace" and op.resource_type == "AWS::ElasticLoadBalancingV2::TargetGroup"
    }
    for service in _services(old):
        if service not in new.resources or service not in by_id:
            continue
        for balancer in new.properties(service).get("LoadBalancers") or []:
            group = next(iter(_ref_targets(balancer.get("TargetGroupArn"), new)), "")
            if group not in replaced_groups:
                continue
            for rule in new.resources:
                if new.type_of(rule) != "AWS::ElasticLoadBalancingV2::ListenerRule":
                    continue
                if group in new.graph[rule] and position[rule] < position[service]:
                    hazards.append(
                        f"{rule} forwards to the replaced (empty) {group} before {service} "
                        f"registers tasks in it: the API answers 503 in between "
                        f"(TargetType is create-only)"
                    )
    hazards += _managed_rule_hazards(old, by_id)
    return hazards


def _managed_rules(stack: Stack, service: str) -> set[str]:
    """The listener rules ECS moves traffic on for a service with a progressive strategy."""
    rules: set[str] = set()
    for balancer in stack.properties(service).get("LoadBalancers") or []:
        advanced = balancer.get("AdvancedConfiguration") or {}
        for key in ("ProductionListenerRule", "TestListenerRule"):
            rules |= _ref_targets(advanced.get(key), stack) & set(stack.resources)
    return rules


def _managed_rule_hazards(old: Stack, by_id: dict[str, Operation]) -> list[str]:
    """A rule ECS manages, changed by the stack: CloudFormation writes the rule's actions as the
    template has them (weight 100 on the primary target group), but after a progressive
    deployment ECS may serve from the alternate group, which the update would then leave
    without traffic while the primary, with no task left, receives it all (aws-cdk#36649,
    containers-roadmap#2853: ECS does not check the weights before its next shift)."""
    hazards = []
    for service in _services(old):
        for rule in sorted(_managed_rules(old, service)):
            op = by_id.get(rule)
            if op is not None and op.action in ("Modify", "Replace"):
                hazards.append(
                    f"{rule} changes ({', '.join(op.changed) or op.action}) while ECS moves "
                    f"{service}'s traffic on it: the update resets its weights to the primary "
                    "target group, which may hold no task since the last deployment. Change it "
                    "only while the primary group serves (make status shows which; each "
                    "progressive release swaps them), see docs/releasing.md"
                )
    return hazards


def delete_hazards(stack: Stack, template: Mapping[str, Any]) -> list[str]:
    """What a stack delete would wait on for ever, or fail at."""
    hazards = []
    plan = plan_delete(stack, template)
    deleted = {op.logical_id for op in plan if op.action == "Delete"}
    for name in deleted:
        kind = stack.type_of(name)
        props = stack.properties(name)
        if kind == "AWS::AutoScaling::AutoScalingGroup" and props.get(
            "NewInstancesProtectedFromScaleIn"
        ):
            hazards.append(
                f"{name}: instances are protected from scale-in; CloudFormation deletes the "
                "capacity provider first and ECS leaves the protection, so the group's delete "
                "waits on instances that never terminate (containers-roadmap#2862)"
            )
        if kind == "AWS::ECS::CapacityProvider":
            provider = props.get("AutoScalingGroupProvider") or {}
            if provider.get("ManagedTerminationProtection") == "ENABLED":
                hazards.append(
                    f"{name}: managed termination protection keeps its instances protected after "
                    "the provider is deleted, so the Auto Scaling group never empties"
                )
        if kind == "AWS::ElasticLoadBalancingV2::LoadBalancer":
            attributes = {
                a.get("Key"): str(a.get("Value")).lower()
                for a in props.get("LoadBalancerAttributes") or []
            }
            if attributes.get("deletion_protection.enabled") == "true":
                hazards.append(
                    f"{name}: deletion protection is on and the load balancer is not retained, "
                    "so the delete fails there (make destroy DISABLE_DELETION_PROTECTION=1 "
                    "turns it off through the stack first)"
                )
    return sorted(hazards)
