"""What CloudFormation asks IAM for while it applies a stack: one request per handler permission.

For every resource of a template, as it deploys with an environment's parameters
(`scripts.iam.sample`), and for each of its type's create, update and delete handlers, the resource
provider schema lists the IAM actions CloudFormation calls (`scripts.cfn.schemas`). This module
turns each listed action into the concrete requests IAM evaluates ("Policy evaluation logic", IAM
User Guide): the ARN of every resource the action touches, as the template names it, and the
request context AWS supplies (region, resource and request tags, `iam:PassedToService`,
`iam:PermissionsBoundary`, `kms:ViaService`, ...). The Service Authorization Reference
(`scripts.iam.actions`) says which resource types an action touches and which condition keys each
supports.

Which call creates: in a create handler, the action that brings the resource into being (its
create verb and the type's noun: `ec2:CreateVpc`) meets no resource tag on it, and tagging it is
part of creating it ("Grant permission to tag resources during creation", EC2 and ECS guides);
every other action of that handler meets the resource as `tagOnCreate` left it. Resources the
resource refers to already exist (CloudFormation creates dependencies first). Where the template
cannot say what an action touches (an AMI, the instances an Auto Scaling group will launch), the
request names a sample resource without the environment tag, which is what AWS would see.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from scripts.cfn.schemas import resource_schema
from scripts.cfn.template import references
from scripts.iam import actions
from scripts.iam.policy import Request
from scripts.iam.sample import (
    GLOBAL_SERVICES,
    OWN_RESOURCE_TYPE,
    Deployment,
    SampleStack,
    fake_id,
    load_stack,
    resource_arn,
    sample_arn,
    tag_on_create,
    tagged,
)

HANDLERS = ("create", "update", "delete")
BOUNDED_ROLE_ACTIONS = {
    "iam:CreateRole",
    "iam:PutRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:AttachRolePolicy",
    "iam:DetachRolePolicy",
    "iam:PutRolePermissionsBoundary",
    "iam:DeleteRolePermissionsBoundary",
}
CREATING_VERBS = ("Create", "Register", "Allocate", "Put", "Run", "Import", "Request")
# IAM resource types inside a resource (a bucket's objects): calls on them name the resource's.
CHILD_TYPES: Mapping[str, tuple[str, ...]] = {"AWS::S3::Bucket": ("object",)}
TARGET_TRACKING_TYPES = {
    "AWS::ApplicationAutoScaling::ScalableTarget",
    "AWS::ApplicationAutoScaling::ScalingPolicy",
}
# Where the create call's noun is not the type's name.
CREATED_NOUN: Mapping[str, str] = {
    "AWS::EC2::EIP": "Address",
    "AWS::ElasticLoadBalancingV2::ListenerRule": "Rule",
}
TAGGING_ACTIONS = {"TagResource", "CreateTags", "AddTags", "AddTagsToResource", "TagRole"}

# iam:PassRole: which property passes which role, to which service.
PASSED_ROLES: Mapping[str, Sequence[tuple[tuple[str, ...], str]]] = {
    "AWS::ECS::TaskDefinition": (
        (("TaskRoleArn",), "ecs-tasks.amazonaws.com"),
        (("ExecutionRoleArn",), "ecs-tasks.amazonaws.com"),
    ),
    "AWS::EC2::LaunchTemplate": (
        (("LaunchTemplateData", "IamInstanceProfile", "Arn"), "ec2.amazonaws.com"),
    ),
    "AWS::EC2::FlowLog": ((("DeliverLogsPermissionArn",), "vpc-flow-logs.amazonaws.com"),),
    "AWS::Lambda::Function": ((("Role",), "lambda.amazonaws.com"),),
    # The infrastructure role ECS assumes to move ALB traffic and invoke lifecycle hooks.
    "AWS::ECS::Service": (
        (("LoadBalancers", "AdvancedConfiguration", "RoleArn"), "ecs.amazonaws.com"),
        (("DeploymentConfiguration", "LifecycleHooks", "RoleArn"), "ecs.amazonaws.com"),
    ),
    "AWS::Chatbot::SlackChannelConfiguration": ((("IamRoleArn",), "chatbot.amazonaws.com"),),
}
# Where a function's create and update handlers read its code package (s3:GetObject*).
CODE_READS = {"s3:GetObject", "s3:GetObjectVersion"}
# iam:CreateServiceLinkedRole: the service whose role a type's handler may create.
SERVICE_LINKED: Mapping[str, str] = {
    "AWS::ECS::Cluster": "ecs.amazonaws.com",
    "AWS::ECS::Service": "ecs.amazonaws.com",
    "AWS::ECS::CapacityProvider": "ecs.amazonaws.com",
    "AWS::AutoScaling::AutoScalingGroup": "autoscaling.amazonaws.com",
    "AWS::ElasticLoadBalancingV2::LoadBalancer": "elasticloadbalancing.amazonaws.com",
    "AWS::ApplicationAutoScaling::ScalableTarget": "ecs.application-autoscaling.amazonaws.com",
    "AWS::ApiGatewayV2::VpcLink": "ops.apigateway.amazonaws.com",
    "AWS::Chatbot::SlackChannelConfiguration": "management.chatbot.amazonaws.com",
    # Cognito's role for sending through an SES identity (the UserEmailSesIdentityArn parameter)
    "AWS::Cognito::UserPool": "email.cognito-idp.amazonaws.com",
}


@dataclass(frozen=True)
class StackCall:
    """One request CloudFormation makes, and why: the resource and handler it is made for."""

    stack: str
    logical_id: str
    resource_type: str
    handler: str
    request: Request
    target: str | None = None  # the logical ID whose ARN the request names (None: external)
    creating: bool = False  # the call that brings `logical_id` into being

    def describe(self) -> str:
        return (
            f"{self.stack}/{self.logical_id} ({self.resource_type}) {self.handler}: "
            f"{self.request.action} on {self.request.resource}"
        )


def _creating(action: str, handler: str, rtype: str, iam_type: str | None) -> bool:
    """The call that brings a resource of `rtype` into being: a create verb and the type's noun
    (`ec2:CreateVpc` for AWS::EC2::VPC, `cloudwatch:PutMetricAlarm` for an alarm)."""
    if handler != "create":
        return False
    service, name = action.split(":", 1)
    own = OWN_RESOURCE_TYPE.get(rtype)
    if own is None or own[0] != service or iam_type not in (None, own[1]):
        return False
    if service == "apigateway":
        return name == "POST"
    noun = CREATED_NOUN.get(rtype, rtype.rsplit("::", 1)[1]).lower()
    lowered = name.lower()
    return lowered.startswith(tuple(v.lower() for v in CREATING_VERBS)) and (
        lowered.endswith(noun) or lowered.endswith(noun + "s")
    )


def stack_calls(
    template: Mapping[str, Any],
    layer: str,
    deployment: Deployment,
    parameters: Mapping[str, str],
    *,
    exceptions: Mapping[tuple[str, str], str] = {},
) -> list[StackCall]:
    """Every request the handlers of every resource make, for one environment's parameters.

    `exceptions` maps (resource type, action) to the reason an action is left out (a feature the
    template does not use); an action the reference does not know raises `UnknownAction` unless
    it is an exception.
    """
    stack = load_stack(template, layer, deployment, parameters)
    calls: list[StackCall] = []
    for logical_id, resource in stack.resources.items():
        rtype = str(resource["Type"])
        schema = resource_schema(rtype)
        for handler in HANDLERS:
            for pattern in schema.handler_permissions(handler):
                if excepted(exceptions, rtype, pattern):
                    continue
                for action in _expand(pattern):
                    if not excepted(exceptions, rtype, action):
                        calls += _calls_for(stack, logical_id, rtype, handler, action)
    return calls


def _expand(pattern: str) -> tuple[str, ...]:
    """The actions a handler permission names; an unknown name raises UnknownAction."""
    if "*" in pattern or "?" in pattern:
        return actions.expand(pattern)
    return (actions.action_info(pattern).action,)


def excepted(exceptions: Mapping[tuple[str, str], str], rtype: str, action: str) -> bool:
    """Whether (type, action) is one of the exceptions (whose actions may be patterns)."""
    return any(
        t == rtype and fnmatch.fnmatchcase(action.lower(), pattern.lower())
        for t, pattern in exceptions
    )


def _touched_types(
    stack: SampleStack, logical_id: str, info: actions.ActionInfo, rtype: str
) -> list[str]:
    """The IAM resource types a call touches: the required ones, the resource's own type when the
    action accepts it, and an optional type that a resource it refers to has (ELB's CreateListener
    names the load balancer). Variants of one kind (listener/app, listener/net, listener/gwy) are
    alternatives: where one of them is in the template, the others are dropped."""
    own = OWN_RESOURCE_TYPE.get(rtype)
    accepted = {rt.name for rt in info.resource_types if rt.name}
    names = [rt.name for rt in info.resource_types if rt.name and rt.required]
    present: list[str] = []
    if own and own[0] == info.service:
        # A resource's own type; or, for a call that acts on its parent's collection (API
        # Gateway's POST /apis/{id}/routes creates a route), the collection's.
        for candidate in (own[1], own[1] + "s", *CHILD_TYPES.get(rtype, ())):
            if candidate in accepted:
                present.append(candidate)
                break
    for ref in _reachable(stack, logical_id):
        ref_type = OWN_RESOURCE_TYPE.get(str(stack.resources[ref]["Type"]))
        if ref_type and ref_type[0] == info.service and ref_type[1] in accepted:
            present.append(ref_type[1])
    required = {r.name for r in info.resource_types if r.required}
    for name in present:
        kind = name.split("/", 1)[0]
        names = [n for n in names if n.split("/", 1)[0] != kind or n in present]
        if (
            name not in names
            and name not in required
            and not any(n.split("/", 1)[0] == kind for n in names)
        ):
            names.append(name)
    return names


def _calls_for(
    stack: SampleStack, logical_id: str, rtype: str, handler: str, action: str
) -> list[StackCall]:
    service = action.split(":", 1)[0]
    info = actions.action_info(action)
    required = _touched_types(stack, logical_id, info, rtype)
    deployment = stack.deployment
    base: dict[str, Any] = {
        "aws:RequestedRegion": "us-east-1" if service in GLOBAL_SERVICES else deployment.region,
        "aws:PrincipalAccount": deployment.account,
        "aws:SecureTransport": True,
    }
    own_service = OWN_RESOURCE_TYPE.get(rtype, (rtype.split("::")[1].lower(), ""))[0]
    if service == "kms" and own_service != "kms":
        # The resource's service calls KMS for the caller ("kms:ViaService", KMS Developer Guide).
        base["kms:ViaService"] = f"{own_service}.{deployment.region}.amazonaws.com"
    special = _special_context(stack, logical_id, rtype, action)
    if special is not None:
        return [
            StackCall(stack.name, logical_id, rtype, handler, Request(action, arn, context), target)
            for arn, context, target in special
        ]
    if not required:
        creating = _creating(action, handler, rtype, None)
        context = dict(base)
        if (
            creating
            and tag_on_create(stack, logical_id)
            and _supports(info, None, "aws:RequestTag")
        ):
            context[f"aws:RequestTag/{deployment.tag_key}"] = deployment.environment
        return [
            StackCall(
                stack.name,
                logical_id,
                rtype,
                handler,
                Request(action, "*", context),
                None,
                creating,
            )
        ]
    calls = []
    for iam_type in required:
        for arn, target in _arns_for(stack, logical_id, rtype, service, iam_type):
            creating = target == logical_id and (
                _creating(action, handler, rtype, iam_type) or _tags_new(action, handler)
            )
            context = dict(base)
            if (
                target is not None
                and _supports(info, iam_type, "aws:ResourceTag")
                and _exists_tagged(stack, target, logical_id, handler, creating)
            ):
                context[f"aws:ResourceTag/{deployment.tag_key}"] = deployment.environment
            if (
                creating
                and tag_on_create(stack, logical_id)
                and _supports(info, iam_type, "aws:RequestTag")
            ):
                context[f"aws:RequestTag/{deployment.tag_key}"] = deployment.environment
            calls.append(
                StackCall(
                    stack.name,
                    logical_id,
                    rtype,
                    handler,
                    Request(action, arn, context),
                    target,
                    creating,
                )
            )
    return calls


def _tags_new(action: str, handler: str) -> bool:
    """In a create handler, tagging the new resource is part of creating it: AWS authorises tags
    given to a create call as a tagging action on a resource that has no tags yet ("Grant
    permission to tag resources on creation", EC2 and ECS guides)."""
    name = action.split(":", 1)[1]
    return handler == "create" and name in TAGGING_ACTIONS


def _supports(info: actions.ActionInfo, iam_type: str | None, key: str) -> bool:
    return actions.condition_key_applies(info.action, key + "/x", iam_type)


def _exists_tagged(
    stack: SampleStack, target: str, logical_id: str, handler: str, creating: bool
) -> bool:
    if not tagged(stack, target):
        return False
    if target != logical_id or handler != "create":
        return True  # dependencies exist before; update and delete meet the tagged resource
    return not creating and tag_on_create(stack, target)


def _arns_for(
    stack: SampleStack, logical_id: str, rtype: str, service: str, iam_type: str
) -> list[tuple[str, str | None]]:
    """The ARNs of `iam_type` that a call for `logical_id` touches: itself, what it refers to,
    or else an external sample resource."""
    if OWN_RESOURCE_TYPE.get(rtype) == (service, iam_type):
        arn = resource_arn(stack, logical_id)
        assert arn is not None
        return [(arn, logical_id)]
    if (service, iam_type) == ("cloudwatch", "alarm") and rtype in TARGET_TRACKING_TYPES:
        # Target tracking alarms are named after the scalable target's resource ID
        # ("Target tracking scaling policies", Application Auto Scaling User Guide).
        identity = stack.identities[logical_id]
        name = f"TargetTracking-service/{identity['ClusterName']}/{identity['ServiceName']}"
        template = actions.arn_template(service, iam_type)
        return [
            (
                sample_arn(
                    stack.deployment, template, {"AlarmName": f"{name}-AlarmHigh-0"}, service
                ),
                None,
            )
        ]
    found: list[tuple[str, str | None]] = []
    for ref in _reachable(stack, logical_id):
        if OWN_RESOURCE_TYPE.get(str(stack.resources[ref]["Type"])) == (service, iam_type):
            arn = resource_arn(stack, ref)
            if arn is not None and (arn, ref) not in found:
                found.append((arn, ref))
    if found:
        return found
    template = actions.arn_template(service, iam_type)
    # Not in the template: named after the resource where the ARN shares its parts (a table's
    # stream, a service's deployments), untagged.
    return [(sample_arn(stack.deployment, template, stack.identities[logical_id], service), None)]


def _reachable(stack: SampleStack, logical_id: str) -> list[str]:
    """Resources `logical_id` refers to, nearest first (direct references, then theirs)."""
    order: list[str] = []
    frontier = [logical_id]
    while frontier:
        following: list[str] = []
        for current in frontier:
            for ref in references(stack.resources[current].get("Properties") or {}):
                if ref in stack.resources and ref not in order and ref != logical_id:
                    order.append(ref)
                    following.append(ref)
        frontier = following
    return order


Special = tuple[str, dict[str, Any], str | None]  # (resource ARN, context, target logical ID)


def _special_context(
    stack: SampleStack, logical_id: str, rtype: str, action: str
) -> list[Special] | None:
    """Requests whose resource and context come from a property, not from the resource itself."""
    deployment = stack.deployment
    base: dict[str, Any] = {
        "aws:RequestedRegion": "us-east-1",
        "aws:PrincipalAccount": deployment.account,
        "aws:SecureTransport": True,
    }
    if action == "iam:PassRole":
        calls: list[Special] = []
        for path, service in PASSED_ROLES.get(rtype, ()):
            values = _at(stack.resources[logical_id].get("Properties") or {}, path)
            for ref in dict.fromkeys(r for value in values for r in references(value)):
                role = _role_behind(stack, ref)
                if role is not None:
                    arn = resource_arn(stack, role)
                    assert arn is not None
                    calls.append((arn, {**base, "iam:PassedToService": service}, role))
        return calls  # no role passed: PassRole is not called
    if rtype == "AWS::IAM::Role" and action in BOUNDED_ROLE_ACTIONS:
        return _bounded_role_calls(stack, logical_id, action, base)
    if rtype == "AWS::Lambda::Function" and action in CODE_READS:
        # The package `make deploy` uploaded (scripts/deploy/package.py).
        code = (stack.resources[logical_id].get("Properties") or {}).get("Code") or {}
        bucket, key = code.get("S3Bucket"), code.get("S3Key")
        if not (isinstance(bucket, str) and isinstance(key, str)):
            return None
        arn = f"arn:{deployment.partition}:s3:::{bucket}/{key}"
        return [(arn, {**base, "aws:RequestedRegion": deployment.region}, None)]
    if action == "iam:CreateServiceLinkedRole":
        service_name = SERVICE_LINKED.get(rtype)
        if service_name is None:
            return []
        arn = (
            f"arn:{deployment.partition}:iam::{deployment.account}:role/aws-service-role/"
            f"{service_name}/AWSServiceRoleFor{fake_id(service_name)}"
        )
        return [(arn, {**base, "iam:AWSServiceName": service_name}, None)]
    return None


def _at(value: Any, path: Sequence[str]) -> list[Any]:
    """The values at `path` inside a property, through lists (every element) and mappings."""
    if not path:
        return [value]
    if isinstance(value, list):
        return [found for item in value for found in _at(item, path)]
    if isinstance(value, dict) and path[0] in value:
        return _at(value[path[0]], path[1:])
    return []


def _bounded_role_calls(
    stack: SampleStack, logical_id: str, action: str, base: Mapping[str, Any]
) -> list[Special]:
    """IAM calls on a role carry the role's permissions boundary (`iam:PermissionsBoundary`) and,
    for managed policies, which one (`iam:PolicyARN`): "IAM condition context keys"."""
    arn = resource_arn(stack, logical_id)
    assert arn is not None
    properties = stack.resources[logical_id].get("Properties") or {}
    context = dict(base)
    if "PermissionsBoundary" in properties:
        context["iam:PermissionsBoundary"] = stack.resolver.text(
            properties["PermissionsBoundary"], f"{logical_id}.PermissionsBoundary"
        )
    if action in ("iam:AttachRolePolicy", "iam:DetachRolePolicy"):
        policies = stack.resolver.resolve(properties.get("ManagedPolicyArns", []), logical_id)
        found: list[Special] = [
            (arn, {**context, "iam:PolicyARN": p}, logical_id) for p in policies
        ]
        return found
    return [(arn, context, logical_id)]


def _role_behind(stack: SampleStack, ref: str) -> str | None:
    rtype = stack.resources[ref]["Type"]
    if rtype == "AWS::IAM::Role":
        return ref
    if rtype == "AWS::IAM::InstanceProfile":
        roles = stack.resources[ref]["Properties"].get("Roles", [])
        return next(references(roles), None)
    return None
