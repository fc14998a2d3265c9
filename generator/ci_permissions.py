"""What CloudFormation may do for one environment, and what the roles it creates may ever do.

Two documents of the CI stack (templates/ci.yaml):

- `execution_policy`: the CloudFormation execution role's permissions. CloudFormation calls, with
  this role, every action its resource handlers list for the stacks' resource types (checked by
  tests/aws/test_handler_permissions.py against the provider schemas). Each action is confined to
  the environment:
  - by ARN, where the service names resources after the stack that creates them (IAM, S3,
    DynamoDB, Logs, ECR, SNS, CloudWatch, ECS, Auto Scaling, KMS aliases): `todo-<env>-core-*`;
  - by the `todo:environment` tag where ARNs hold only opaque IDs (EC2, Elastic Load Balancing,
    Application Auto Scaling, Cognito, KMS keys, API Gateway, CloudFront): `make deploy` tags each
    stack, and CloudFormation copies stack tags to every taggable resource;
  - a resource that does not exist yet carries no tag, so the calls that create one are allowed in
    the region on the created resource types only; whatever else such a call touches (the VPC of a
    new subnet) must carry the environment's tag.
  Reads that return configuration, not data, are allowed on `*` in the region.
- `boundary_policy`: the permissions boundary every role of the core stack carries. The execution
  role can create or change a role only with this boundary attached (`iam:PermissionsBoundary`),
  cannot remove or replace it, and cannot edit the boundary policy, so no role it makes can do more
  than the workloads need in this environment ("Permissions boundaries for IAM entities", IAM User
  Guide).

In one account per environment (the recommended layout, docs/aws-semantics.md) the scoping is
belt and braces. In a shared account it is what stops dev's pipeline from touching prod; what it
cannot cover there is listed in docs/aws-semantics.md ("Shared account: what stays open").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from awacs.aws import (
    Action,
    Allow,
    ArnEquals,
    ArnNotEquals,
    Bool,
    Condition,
    ConditionElement,
    Deny,
    ForAnyValueStringEquals,
    Null,
    Policy,
    Statement,
    StringEquals,
    StringNotEquals,
)
from troposphere import Ref, Sub

from generator.common import all_of
from generator.config import Settings
from generator.core.compute import ECS_AMI
from generator.managed_policies import CONTAINER_INSTANCE_POLICIES
from generator.naming import workload_boundary_name

STACK_LAYERS = ("core", "website")
# CloudFormation calls IAM and CloudFront in us-east-1, whatever the stack's region.
GLOBAL_REGION = "us-east-1"


def environment_tag(settings: Settings) -> str:
    """The tag key `make deploy` gives each stack; its value is the environment's name
    (generator.core.environment puts the same key on what stack tags do not reach)."""
    return f"{settings.project}:environment"


def boundary_name(settings: Settings) -> str:
    return workload_boundary_name(settings.project)


def stack_prefixes(settings: Settings) -> list[str]:
    return [f"{settings.project}-${{Environment}}-{layer}" for layer in STACK_LAYERS]


@dataclass(frozen=True)
class NameScoped:
    """A service whose ARNs carry the names CloudFormation gives (`<stack>-<LogicalId>-<id>`)."""

    service: str
    arns: tuple[str, ...]  # after `arn:${AWS::Partition}:`; `<stack>` is each project stack
    reads: tuple[str, ...] = ()  # configuration reads allowed on `*` in the region
    # Writes the service authorises only on `*` (no resource type in the reference): allowed in
    # the region, and listed in docs/aws-semantics.md as what a shared account cannot confine.
    unscoped: tuple[str, ...] = ()
    global_service: bool = False


REGION_ACCOUNT = "${AWS::Region}:${AWS::AccountId}"
NAME_SCOPED: tuple[NameScoped, ...] = (
    NameScoped("s3", ("s3:::<stack>-*",), reads=("ListAllMyBuckets",)),
    NameScoped(
        "dynamodb",
        (f"dynamodb:{REGION_ACCOUNT}:table/<stack>-*",),
        reads=("Describe*", "ListTables", "ListTagsOfResource"),
    ),
    NameScoped(
        "logs",
        (f"logs:{REGION_ACCOUNT}:log-group:<stack>-*",),
        reads=("DescribeLogGroups", "DescribeResourcePolicies", "ListTagsForResource"),
    ),
    NameScoped(
        "ecr", (f"ecr:{REGION_ACCOUNT}:repository/<stack>-*",), reads=("DescribeRepositories",)
    ),
    NameScoped(
        "sns",
        (f"sns:{REGION_ACCOUNT}:<stack>-*",),
        reads=("ListTopics",),
        unscoped=("Unsubscribe",),  # removing AlarmEmail's subscription; no resource type
    ),
    NameScoped(
        "cloudwatch",
        (
            f"cloudwatch:{REGION_ACCOUNT}:alarm:<stack>-*",
            # Application Auto Scaling's target tracking alarms, named after the ECS service
            # (`service/<cluster>/<service>`, the cluster named after the core stack).
            f"cloudwatch:{REGION_ACCOUNT}:alarm:TargetTracking-service/<stack>-*",
            "cloudwatch::${AWS::AccountId}:dashboard/<stack>",
        ),
        reads=("DescribeAlarms", "ListDashboards", "ListTagsForResource", "GetMetricData"),
        # The reference gives dashboards' tagging calls no resource type.
        unscoped=("TagResource", "UntagResource"),
    ),
    NameScoped(
        "ecs",
        (
            f"ecs:{REGION_ACCOUNT}:cluster/<stack>-*",
            f"ecs:{REGION_ACCOUNT}:service/<stack>-*",
            f"ecs:{REGION_ACCOUNT}:task-definition/<stack>-*",
            f"ecs:{REGION_ACCOUNT}:capacity-provider/<stack>-*",
            f"ecs:{REGION_ACCOUNT}:service-deployment/<stack>-*",
        ),
        reads=("Describe*", "List*"),
        unscoped=("DeregisterTaskDefinition",),
    ),
    NameScoped(
        "lambda",
        (f"lambda:{REGION_ACCOUNT}:function:<stack>-*",),
        reads=("GetAccountSettings", "ListFunctions"),
    ),
    NameScoped(
        "secretsmanager",
        (f"secretsmanager:{REGION_ACCOUNT}:secret:<stack>-*",),
        reads=("ListSecrets", "GetRandomPassword"),
    ),
    NameScoped(
        "events",
        (f"events:{REGION_ACCOUNT}:rule/<stack>-*",),
        reads=("DescribeRule", "ListRules", "ListTargetsByRule", "ListTagsForResource"),
    ),
    NameScoped(
        "chatbot",
        # Its configuration's type (slack-channel) sits before the name the template gives it.
        ("chatbot::${AWS::AccountId}:chat-configuration/*/<stack>-*",),
        reads=("Describe*", "List*", "Get*"),
        unscoped=("CreateSlackChannelConfiguration",),  # no resource type in the reference
    ),
    NameScoped(
        "autoscaling",
        (f"autoscaling:{REGION_ACCOUNT}:autoScalingGroup:*:autoScalingGroupName/<stack>-*",),
        reads=("Describe*",),
    ),
)


@dataclass(frozen=True)
class TagScoped:
    """A service whose ARNs hold opaque IDs: confined by the environment tag."""

    service: str
    # Calls that create a resource, with the ARN patterns of what they create (after
    # `arn:${AWS::Partition}:`); "*" where the service has no resource type for it.
    creates: tuple[tuple[str, tuple[str, ...]], ...]
    reads: tuple[str, ...]
    # Resources that can carry no tag and whose ARNs hold no name (API Gateway's routes and
    # integrations, CloudFront's access-control and header policies): every action on them, in
    # the region. What a shared account cannot confine (docs/aws-semantics.md).
    untaggable: tuple[str, ...] = ()
    untaggable_actions: tuple[str, ...] = ("*",)
    unscoped: tuple[str, ...] = ()
    global_service: bool = False


EC2 = f"ec2:{REGION_ACCOUNT}"
TAG_SCOPED: tuple[TagScoped, ...] = (
    TagScoped(
        "ec2",
        creates=(
            ("CreateVpc", (f"{EC2}:vpc/*",)),
            ("CreateSubnet", (f"{EC2}:subnet/*",)),
            ("CreateRouteTable", (f"{EC2}:route-table/*",)),
            ("CreateSecurityGroup", (f"{EC2}:security-group/*",)),
            ("CreateNetworkAcl", (f"{EC2}:network-acl/*",)),
            ("CreateInternetGateway", (f"{EC2}:internet-gateway/*",)),
            ("AllocateAddress", (f"{EC2}:elastic-ip/*",)),
            ("CreateNatGateway", (f"{EC2}:natgateway/*",)),
            ("CreateFlowLogs", (f"{EC2}:vpc-flow-log/*",)),
            ("CreateLaunchTemplate", (f"{EC2}:launch-template/*",)),
            ("CreateVpcEndpoint", (f"{EC2}:vpc-endpoint/*",)),
            # Auto Scaling checks that the caller may launch what the launch template describes:
            # the instance, its network interface and volume, from a public AMI.
            (
                "RunInstances",
                (
                    f"{EC2}:instance/*",
                    f"{EC2}:network-interface/*",
                    f"{EC2}:volume/*",
                    "ec2:${AWS::Region}::image/*",
                ),
            ),
        ),
        reads=("Describe*", "Get*"),
    ),
    TagScoped(
        "elasticloadbalancing",
        creates=(
            ("CreateLoadBalancer", (f"elasticloadbalancing:{REGION_ACCOUNT}:loadbalancer/app/*",)),
            ("CreateTargetGroup", (f"elasticloadbalancing:{REGION_ACCOUNT}:targetgroup/*",)),
            ("CreateListener", (f"elasticloadbalancing:{REGION_ACCOUNT}:listener/app/*",)),
            ("CreateRule", (f"elasticloadbalancing:{REGION_ACCOUNT}:listener-rule/app/*",)),
        ),
        reads=("Describe*",),
    ),
    TagScoped(
        "application-autoscaling",
        creates=(
            (
                "RegisterScalableTarget",
                (f"application-autoscaling:{REGION_ACCOUNT}:scalable-target/*",),
            ),
        ),
        reads=("Describe*",),
    ),
    TagScoped(
        "cognito-idp",
        creates=(("CreateUserPool", ("*",)),),
        reads=("ListUserPools", "DescribeUserPool"),
    ),
    TagScoped(
        "kms",
        creates=(("CreateKey", ("*",)),),
        reads=("DescribeKey", "ListAliases", "ListKeys", "ListResourceTags", "GetKeyPolicy"),
    ),
    TagScoped(
        "apigateway",
        creates=(
            (
                "POST",
                (
                    "apigateway:${AWS::Region}::/apis",
                    "apigateway:${AWS::Region}::/vpclinks",
                    # A stage is created in its API's collection, which carries no tag.
                    "apigateway:${AWS::Region}::/apis/*/stages",
                ),
            ),
        ),
        reads=("GET",),
        # An HTTP API's children carry no tags and, unlike a REST API's, inherit none ("API
        # Gateway resources that can be tagged", API Gateway Developer Guide).
        untaggable=(
            "apigateway:${AWS::Region}::/apis/*/authorizers*",
            "apigateway:${AWS::Region}::/apis/*/integrations*",
            "apigateway:${AWS::Region}::/apis/*/routes*",
            "apigateway:${AWS::Region}::/apis/*/deployments*",
        ),
        untaggable_actions=("GET", "POST", "PATCH", "DELETE"),
    ),
    TagScoped(
        "cloudfront",
        creates=(
            ("CreateDistribution", ("cloudfront::${AWS::AccountId}:distribution/*",)),
            ("CreateOriginAccessControl", ("*",)),
            ("CreateCloudFrontOriginAccessIdentity", ("*",)),
            ("CreateResponseHeadersPolicy", ("*",)),
        ),
        reads=("Get*", "List*"),
        untaggable=(
            "cloudfront::${AWS::AccountId}:origin-access-control/*",
            "cloudfront::${AWS::AccountId}:origin-access-identity/*",
            "cloudfront::${AWS::AccountId}:response-headers-policy/*",
        ),
        untaggable_actions=(
            "UpdateOriginAccessControl",
            "DeleteOriginAccessControl",
            "UpdateCloudFrontOriginAccessIdentity",
            "DeleteCloudFrontOriginAccessIdentity",
            "UpdateResponseHeadersPolicy",
            "DeleteResponseHeadersPolicy",
        ),
        global_service=True,
    ),
)

# Actions that tag a resource: allowed on a resource without the environment tag only when the
# request sets it to this environment (a new resource being tagged by its create handler).
TAGGING_ACTIONS: dict[str, tuple[str, ...]] = {
    "ec2": ("CreateTags",),
    "elasticloadbalancing": ("AddTags",),
    "application-autoscaling": ("TagResource",),
    "cognito-idp": ("TagResource",),
    "kms": ("TagResource",),
    "apigateway": ("POST", "PUT"),  # POST /tags/<arn>
    "cloudfront": ("TagResource",),
}

# Every call that can set a tag on what the stacks manage (the deny below covers them all).
RETAGGING_ACTIONS = (
    "application-autoscaling:TagResource",
    "autoscaling:CreateOrUpdateTags",
    "cloudfront:TagResource",
    "cloudwatch:TagResource",
    "cognito-idp:TagResource",
    "dynamodb:TagResource",
    "ec2:CreateTags",
    "ecr:TagResource",
    "ecs:TagResource",
    "elasticloadbalancing:AddTags",
    "iam:TagInstanceProfile",
    "iam:TagRole",
    "kms:TagResource",
    "logs:TagResource",
    "logs:TagLogGroup",
    "s3:PutBucketTagging",
    "sns:TagResource",
)

# Account-level log delivery (API Gateway access logs, VPC flow logs): no resource-level scope.
LOG_DELIVERY_ACTIONS = (
    "CreateLogDelivery",
    "GetLogDelivery",
    "UpdateLogDelivery",
    "DeleteLogDelivery",
    "ListLogDeliveries",
    "PutResourcePolicy",
    "DeleteResourcePolicy",
    "DescribeResourcePolicies",
)
# The services' own service-linked roles (created on first use).
SERVICE_LINKED_ROLE_SERVICES = [
    "ecs.amazonaws.com",
    "autoscaling.amazonaws.com",
    "elasticloadbalancing.amazonaws.com",
    "ecs.application-autoscaling.amazonaws.com",
    "ops.apigateway.amazonaws.com",
    "management.chatbot.amazonaws.com",
    # Cognito's, when the user pool sends its e-mail through an SES identity
    "email.cognito-idp.amazonaws.com",
]
# What the core stack's roles are passed to: the task roles to ECS tasks, the instance role to
# EC2 (through the launch template's instance profile). Patterns of the roles' generated names.
PASSED_ROLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ecs-tasks.amazonaws.com", ("*TaskRole-*", "*TaskExecutionRole-*")),
    ("ec2.amazonaws.com", ("*ContainerInstanceRole-*",)),
    ("vpc-flow-logs.amazonaws.com", ("*VpcFlowLogRole-*",)),
    # The Lambda functions' roles, and the ECS infrastructure roles of progressive deployments
    # (the services pass them to ECS, which moves ALB traffic and invokes the release gate).
    ("lambda.amazonaws.com", ("*FunctionRole-*",)),
    ("ecs.amazonaws.com", ("*EcsInfrastructureRole-*",)),
    ("chatbot.amazonaws.com", ("*ChatbotRole-*",)),
)
# IAM calls that create or change what a role may do: only with the project's boundary on it.
BOUNDED_ROLE_ACTIONS = (
    "CreateRole",
    "PutRolePolicy",
    "DeleteRolePolicy",
    "AttachRolePolicy",
    "DetachRolePolicy",
    "PutRolePermissionsBoundary",
)
ROLE_ACTIONS = (
    "GetRole",
    "GetRolePolicy",
    "ListRolePolicies",
    "ListAttachedRolePolicies",
    "ListRoleTags",
    "UpdateRole",
    "UpdateRoleDescription",
    "UpdateAssumeRolePolicy",
    "TagRole",
    "UntagRole",
    "DeleteRole",
)
INSTANCE_PROFILE_ACTIONS = (
    "CreateInstanceProfile",
    "DeleteInstanceProfile",
    "GetInstanceProfile",
    "AddRoleToInstanceProfile",
    "RemoveRoleFromInstanceProfile",
    "TagInstanceProfile",
    "UntagInstanceProfile",
)


def _arn(pattern: str) -> Sub:
    return Sub(f"arn:${{AWS::Partition}}:{pattern}")


def _per_stack(settings: Settings, patterns: Sequence[str]) -> list[Sub | str]:
    resources: list[Sub | str] = []
    for pattern in patterns:
        if pattern == "*":
            resources.append("*")
        elif "<stack>" in pattern:
            resources += [_arn(pattern.replace("<stack>", p)) for p in stack_prefixes(settings)]
        else:
            resources.append(_arn(pattern))
    return resources


def _sid(*words: str) -> str:
    return "".join(w[:1].upper() + w[1:] for word in words for w in word.replace("-", " ").split())


def _in_region(global_service: bool = False) -> Condition:
    region = GLOBAL_REGION if global_service else Ref("AWS::Region")
    return Condition(StringEquals("aws:RequestedRegion", region))


def _actions(service: str, names: Sequence[str]) -> list[Action]:
    return [Action(service, name) for name in names]


def _manage_by_name(settings: Settings) -> list[Statement]:
    """Each name-scoped service: everything, on the environment's own resources."""
    return [
        Statement(
            Sid=_sid("manage", scope.service, "of this environment"),
            Effect=Allow,
            Action=[Action(scope.service, "*")],
            # `*` matches across `/` and `:`: a table's pattern covers its indexes and streams, a
            # log group's its streams, a bucket's its objects.
            Resource=_per_stack(settings, scope.arns),
        )
        for scope in NAME_SCOPED
    ]


def _by_region(
    settings: Settings,
    sid: str,
    pick: Callable[[NameScoped | TagScoped], Sequence[str]],
    scopes: Sequence[NameScoped | TagScoped],
    *,
    resources: Callable[[NameScoped | TagScoped], Sequence[str]] | None = None,
    extra: Sequence[ConditionElement] = (),
) -> list[Statement]:
    """One statement for the regional services and one for the global ones (CloudFront, called
    in us-east-1): `pick` gives each service's action names, `resources` its ARN patterns."""
    statements = []
    for global_service in (False, True):
        chosen = [s for s in scopes if s.global_service == global_service and pick(s)]
        if not chosen:
            continue
        patterns = sorted({p for s in chosen for p in resources(s)}) if resources else ["*"]
        region = GLOBAL_REGION if global_service else Ref("AWS::Region")
        statements.append(
            Statement(
                Sid=sid + ("InUsEast1" if global_service else ""),
                Effect=Allow,
                Action=[Action(s.service, name) for s in chosen for name in pick(s)],
                Resource=_per_stack(settings, patterns),
                Condition=all_of(StringEquals("aws:RequestedRegion", region), *extra),
            )
        )
    return statements


def _by_tag(settings: Settings) -> list[Statement]:
    """For the tag-scoped services: creating what has no tag yet, changing what carries this
    environment's tag, and tagging a new resource with it."""
    tag = environment_tag(settings)
    untagged = Null(f"aws:ResourceTag/{tag}", "true")
    ours = StringEquals(f"aws:ResourceTag/{tag}", Ref("Environment"))
    tag_scoped = list(TAG_SCOPED)

    def creates(scope: NameScoped | TagScoped) -> Sequence[str]:
        return sorted({a for a, _ in scope.creates}) if isinstance(scope, TagScoped) else ()

    def created(scope: NameScoped | TagScoped) -> Sequence[str]:
        return [p for _, ps in scope.creates for p in ps] if isinstance(scope, TagScoped) else ()

    statements = [
        # Only what carries no environment tag yet: the resource being created (and an AMI).
        # Whatever else a create call touches (the VPC of a new subnet) has a tag, so only the
        # next statement can allow it, for this environment's resources alone.
        *_by_region(
            settings, "CreateNewResources", creates, tag_scoped, resources=created, extra=[untagged]
        ),
        *_by_region(
            settings, "ChangeThisEnvironmentsResources", lambda s: ("*",), tag_scoped, extra=[ours]
        ),
        *_by_region(
            settings,
            "TagNewResourcesForThisEnvironment",
            lambda s: TAGGING_ACTIONS.get(s.service, ()),
            tag_scoped,
            extra=[untagged, StringEquals(f"aws:RequestTag/{tag}", Ref("Environment"))],
        ),
    ]
    return statements


def _untaggable_actions(scope: NameScoped | TagScoped) -> Sequence[str]:
    return scope.untaggable_actions if isinstance(scope, TagScoped) else ()


def _untaggable(scope: NameScoped | TagScoped) -> Sequence[str]:
    return scope.untaggable if isinstance(scope, TagScoped) else ()


def _unconfined(settings: Settings) -> list[Statement]:
    """What no tag or name can confine: configuration reads, calls the reference gives no
    resource type, and resources that can carry neither (docs/aws-semantics.md)."""
    scopes: list[NameScoped | TagScoped] = [*NAME_SCOPED, *TAG_SCOPED]
    statements = [
        *_by_region(settings, "ReadConfiguration", lambda s: s.reads, scopes),
        *_by_region(settings, "CallsWithoutResourceScope", lambda s: s.unscoped, scopes),
    ]
    # An interface endpoint with private DNS: EC2 associates the VPC with the endpoint's private
    # hosted zone, which AWS owns, on the caller's behalf (the Service Authorization Reference
    # lists it as a dependent action of ec2:CreateVpcEndpoint; the provider schema does not).
    # Only through a service (aws:ViaAWSService): the role cannot make the call itself.
    statements.append(
        Statement(
            Sid="AssociateInterfaceEndpointsPrivateDns",
            Effect=Allow,
            Action=[Action("route53", "AssociateVPCWithHostedZone")],
            Resource=["*"],
            Condition=all_of(
                StringEquals("aws:RequestedRegion", GLOBAL_REGION),
                Bool("aws:ViaAWSService", "true"),
            ),
        )
    )
    for scope in TAG_SCOPED:
        if scope.untaggable:
            statements += _by_region(
                settings,
                _sid("change untaggable", scope.service, "resources"),
                _untaggable_actions,
                [scope],
                resources=_untaggable,
            )
    return statements


def _iam(settings: Settings) -> list[Statement]:
    core = f"{settings.project}-${{Environment}}-core"
    roles = _arn(f"iam::${{AWS::AccountId}}:role/{core}-*")
    boundary = _arn(f"iam::${{AWS::AccountId}}:policy/{boundary_name(settings)}")
    managed = [_arn(p.arn_suffix) for p in CONTAINER_INSTANCE_POLICIES]
    statements = [
        Statement(
            Sid="ChangeRolesOnlyWithTheBoundary",
            Effect=Allow,
            Action=_actions("iam", BOUNDED_ROLE_ACTIONS),
            Resource=[roles],
            Condition=Condition(ArnEquals("iam:PermissionsBoundary", boundary)),
        ),
        Statement(
            Sid="ManageRolesOfTheCoreStack",
            Effect=Allow,
            Action=_actions("iam", ROLE_ACTIONS),
            Resource=[roles],
        ),
        Statement(
            Sid="ManageInstanceProfilesOfTheCoreStack",
            Effect=Allow,
            Action=_actions("iam", INSTANCE_PROFILE_ACTIONS),
            Resource=[_arn(f"iam::${{AWS::AccountId}}:instance-profile/{core}-*")],
        ),
        Statement(
            Sid="CreateServiceLinkedRoles",
            Effect=Allow,
            Action=[Action("iam", "CreateServiceLinkedRole")],
            Resource=[_arn("iam::${AWS::AccountId}:role/aws-service-role/*")],
            Condition=Condition(StringEquals("iam:AWSServiceName", SERVICE_LINKED_ROLE_SERVICES)),
        ),
        # Defence in depth: what no allow above grants, denied outright, so that widening an
        # allow later cannot reopen it.
        Statement(
            Sid="NeverRemoveTheBoundary",
            Effect=Deny,
            Action=[Action("iam", "DeleteRolePermissionsBoundary")],
            Resource=["*"],
        ),
        Statement(
            Sid="NeverSwapTheBoundary",
            Effect=Deny,
            Action=_actions("iam", ("CreateRole", "PutRolePermissionsBoundary")),
            Resource=["*"],
            Condition=Condition(ArnNotEquals("iam:PermissionsBoundary", boundary)),
        ),
        Statement(
            Sid="NeverAttachOtherManagedPolicies",
            Effect=Deny,
            Action=[Action("iam", "AttachRolePolicy")],
            Resource=["*"],
            Condition=Condition(ArnNotEquals("iam:PolicyARN", managed)),
        ),
        Statement(
            Sid="NeverEditPolicies",
            Effect=Deny,
            Action=_actions(
                "iam",
                (
                    "CreatePolicy",
                    "CreatePolicyVersion",
                    "DeletePolicy",
                    "DeletePolicyVersion",
                    "SetDefaultPolicyVersion",
                ),
            ),
            Resource=["*"],
        ),
    ]
    for service, patterns in PASSED_ROLES:
        statements.append(
            Statement(
                Sid=_sid("pass roles to", service.split(".")[0]),
                Effect=Allow,
                Action=[Action("iam", "PassRole")],
                Resource=[_arn(f"iam::${{AWS::AccountId}}:role/{core}-{p}") for p in patterns],
                Condition=Condition(StringEquals("iam:PassedToService", service)),
            )
        )
    return statements


def _kms_aliases(settings: Settings) -> Statement:
    return Statement(
        Sid="ManageKeyAliasesOfThisEnvironment",
        Effect=Allow,
        Action=_actions("kms", ("CreateAlias", "UpdateAlias", "DeleteAlias")),
        Resource=_per_stack(settings, [f"kms:{REGION_ACCOUNT}:alias/<stack>-*"]),
    )


def _never_retag(settings: Settings) -> Statement:
    """No request may give a resource another environment's tag."""
    tag = environment_tag(settings)
    return Statement(
        Sid="NeverTagForAnotherEnvironment",
        Effect=Deny,
        Action=[Action(*a.split(":", 1)) for a in RETAGGING_ACTIONS],
        Resource=["*"],
        Condition=all_of(
            Null(f"aws:RequestTag/{tag}", "false"),
            StringNotEquals(f"aws:RequestTag/{tag}", Ref("Environment")),
        ),
    )


# Why each IAM advisor finding on the execution role's policies stands (advisor_notes).
REGISTRY_LOGIN = (
    "ECR's registry login (ecr:GetAuthorizationToken) has no resource-level permission; the "
    "token lets the caller do only what its repository permissions allow"
)
EXECUTION_ADVISOR_NOTES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "by-name": (
        ("cloudsplaining", "CredentialsExposure", REGISTRY_LOGIN + " (part of ecr:*)"),
        (
            "cloudsplaining",
            "ServiceWildcard",
            "every action of the service, on the resources named after this environment's "
            "stacks only: the Resource element confines it, which cloudsplaining does not read",
        ),
        (
            "parliament",
            "RESOURCE_MISMATCH",
            "service:* includes actions whose resource types are not these ARNs; IAM does not "
            "match them here, which is intended",
        ),
    ),
    "by-tag": (
        (
            "parliament",
            "RESOURCE_STAR",
            "these services' ARNs hold opaque IDs: the aws:ResourceTag/<project>:environment "
            "condition confines the changes, and creation only reaches untagged resources",
        ),
    ),
    "unconfined": (
        (
            "parliament",
            "RESOURCE_STAR",
            "configuration reads, and the calls no tag or name can confine "
            "(docs/aws-semantics.md, 'Shared account: what stays open')",
        ),
        (
            "parliament",
            "UNKNOWN_CONDITION_FOR_ACTION",
            "aws:ViaAWSService is a global condition key (IAM User Guide, 'AWS global condition "
            "context keys') that parliament does not list: route53:AssociateVPCWithHostedZone "
            "holds only when EC2 makes it for the role, turning on an endpoint's private DNS",
        ),
    ),
}


def execution_policies(settings: Settings) -> dict[str, Policy]:
    """What CloudFormation may do while it applies the project's stacks of one environment.

    Four managed policies, by how they confine: IAM caps a role's inline policies at 10,240
    characters in all and a managed policy at 6,144 ("IAM and AWS STS quotas"), which one
    document this size would exceed (tests/aws/test_policy_sizes.py keeps each under its cap).
    """

    def policy(statements: list[Statement]) -> Policy:
        return Policy(Version="2012-10-17", Statement=statements)

    return {
        "by-name": policy(
            [
                *_manage_by_name(settings),
                _kms_aliases(settings),
                # Lambda reads a function's code package with the caller's credentials when the
                # function is created or its code changes; make deploy puts it in this
                # environment's artifact bucket (scripts/deploy/package.py).
                Statement(
                    Sid="ReadTheFunctionsCodePackages",
                    Effect=Allow,
                    Action=_actions("s3", ("GetObject", "GetObjectVersion")),
                    Resource=[
                        _arn(
                            f"s3:::{settings.project}-${{Environment}}-ci-deployartifactbucket-*/*"
                        )
                    ],
                ),
                Statement(
                    Sid="ReadTheContainerInstanceAmiParameter",
                    Effect=Allow,
                    Action=_actions("ssm", ("GetParameter", "GetParameters")),
                    Resource=[_arn("ssm:${AWS::Region}::parameter" + ECS_AMI)],
                ),
            ]
        ),
        "by-tag": policy(_by_tag(settings)),
        "unconfined": policy(_unconfined(settings)),
        "roles-and-guards": policy(
            [
                *_iam(settings),
                Statement(
                    Sid="ConfigureLogDelivery",
                    Effect=Allow,
                    Action=_actions("logs", LOG_DELIVERY_ACTIONS),
                    Resource=["*"],
                    Condition=_in_region(),
                ),
                _never_retag(settings),
            ]
        ),
    }


BOUNDARY_ADVISOR_NOTES: tuple[tuple[str, str, str], ...] = (
    ("cloudsplaining", "CredentialsExposure", REGISTRY_LOGIN),
    (
        "cloudsplaining",
        "InfrastructureModification",
        "the SSM agent's calls about the instance it runs on, as AmazonSSMManagedInstanceCore "
        "grants them; a permissions boundary grants nothing by itself",
    ),
    (
        "parliament",
        "RESOURCE_STAR",
        "calls without resource-level permissions (registry login, the ECS agent's endpoint "
        "discovery, Session Manager channels, the SSM agent) and the data key, confined by its "
        "tag and kms:ViaService; a boundary caps, the roles' own policies name resources",
    ),
)


def boundary_policy(settings: Settings) -> Policy:
    """The most any role of the core stack may do: the workloads' calls, in this environment.

    The task roles' and the execution role's own policies grant less; the container instance
    role's AWS managed policies grant more (ECS agent and SSM calls on `*`), and this cuts them
    down to the environment's cluster, repositories and log groups.
    """
    core = f"{settings.project}-${{Environment}}-core"
    tag = environment_tag(settings)
    in_env = f"{REGION_ACCOUNT}"
    return Policy(
        Version="2012-10-17",
        Statement=[
            Statement(
                Sid="TablesOfThisEnvironment",
                Effect=Allow,
                Action=_actions(
                    "dynamodb",
                    (
                        "GetItem",
                        "PutItem",
                        "UpdateItem",
                        "DeleteItem",
                        "ConditionCheckItem",
                        "Query",
                        "BatchWriteItem",
                        "BatchGetItem",
                    ),
                ),
                Resource=[
                    _arn(f"dynamodb:{in_env}:table/{core}-*"),
                    _arn(f"dynamodb:{in_env}:table/{core}-*/index/*"),
                ],
            ),
            Statement(
                Sid="BucketsOfThisEnvironment",
                Effect=Allow,
                Action=_actions("s3", ("ListBucket", "GetObject", "PutObject", "DeleteObject")),
                Resource=[_arn(f"s3:::{core}-*"), _arn(f"s3:::{core}-*/*")],
            ),
            Statement(
                Sid="DataKeyThroughTheDataServices",
                Effect=Allow,
                Action=_actions("kms", ("Decrypt", "Encrypt", "GenerateDataKey", "DescribeKey")),
                Resource=["*"],
                Condition=all_of(
                    StringEquals(f"aws:ResourceTag/{tag}", Ref("Environment")),
                    ForAnyValueStringEquals(
                        "kms:ViaService",
                        [
                            Sub(f"{service}.${{AWS::Region}}.amazonaws.com")
                            for service in ("dynamodb", "s3", "secretsmanager", "ssm")
                        ],
                    ),
                ),
            ),
            # The tasks' secrets, which ECS reads with the task execution role when a task
            # starts (generator/core/secrets.py).
            Statement(
                Sid="SecretsOfThisEnvironment",
                Effect=Allow,
                Action=[Action("secretsmanager", "GetSecretValue")],
                Resource=[_arn(f"secretsmanager:{in_env}:secret:{core}-*")],
            ),
            Statement(
                Sid="SecureStringsOfThisEnvironment",
                Effect=Allow,
                Action=[Action("ssm", "GetParameters")],
                Resource=[_arn(f"ssm:{in_env}:parameter/{core}/*")],
            ),
            Statement(
                Sid="PullImagesOfThisEnvironment",
                Effect=Allow,
                Action=_actions(
                    "ecr",
                    ("BatchCheckLayerAvailability", "BatchGetImage", "GetDownloadUrlForLayer"),
                ),
                Resource=[_arn(f"ecr:{in_env}:repository/{core}-*")],
            ),
            Statement(
                Sid="WriteLogsOfThisEnvironment",
                Effect=Allow,
                Action=_actions("logs", ("CreateLogStream", "DescribeLogStreams", "PutLogEvents")),
                Resource=[_arn(f"logs:{in_env}:log-group:{core}-*")],
            ),
            Statement(
                Sid="EcsAgentInThisEnvironmentsCluster",
                Effect=Allow,
                Action=_actions(
                    "ecs",
                    (
                        "DeregisterContainerInstance",
                        "RegisterContainerInstance",
                        "Poll",
                        "StartTelemetrySession",
                        "UpdateContainerInstancesState",
                        "Submit*",
                        "ListTagsForResource",
                        "TagResource",
                    ),
                ),
                Resource=[
                    _arn(f"ecs:{in_env}:cluster/{core}-*"),
                    _arn(f"ecs:{in_env}:container-instance/{core}-*"),
                    _arn(f"ecs:{in_env}:task/{core}-*"),
                ],
            ),
            # Progressive deployments: ECS, with a service's infrastructure role, moves tasks
            # between the service's target groups, moves its rules' weights and invokes the
            # release gate (generator/core/release.py).
            Statement(
                Sid="DeploymentTrafficOfThisEnvironment",
                Effect=Allow,
                Action=_actions(
                    "elasticloadbalancing", ("RegisterTargets", "DeregisterTargets", "ModifyRule")
                ),
                Resource=["*"],
                Condition=Condition(StringEquals(f"aws:ResourceTag/{tag}", Ref("Environment"))),
            ),
            Statement(
                Sid="ReleaseGateOfThisEnvironment",
                Effect=Allow,
                Action=[Action("lambda", "InvokeFunction")],
                Resource=[_arn(f"lambda:{in_env}:function:{core}-*")],
            ),
            # A function in the VPC: Lambda attaches its network interfaces with its role
            # (AWSLambdaVPCAccessExecutionRole's actions).
            Statement(
                Sid="FunctionNetworkInterfaces",
                Effect=Allow,
                Action=_actions(
                    "ec2",
                    (
                        "CreateNetworkInterface",
                        "DeleteNetworkInterface",
                        "AssignPrivateIpAddresses",
                        "UnassignPrivateIpAddresses",
                    ),
                ),
                Resource=["*"],
            ),
            # No resource-level permissions exist for these (Service Authorization Reference):
            # the registry login, the ECS agent's endpoint discovery, EC2 and Elastic Load
            # Balancing reads, ECS Exec's log group lookup, and the Session Manager channels of
            # the SSM agent and ECS Exec.
            Statement(
                Sid="CallsWithoutResourceScope",
                Effect=Allow,
                Action=[
                    Action("ecr", "GetAuthorizationToken"),
                    Action("ecs", "DiscoverPollEndpoint"),
                    *_actions(
                        "ec2", ("DescribeTags", "DescribeNetworkInterfaces", "DescribeSubnets")
                    ),
                    *_actions(
                        "elasticloadbalancing",
                        (
                            "DescribeListeners",
                            "DescribeRules",
                            "DescribeTargetGroups",
                            "DescribeTargetHealth",
                        ),
                    ),
                    Action("logs", "DescribeLogGroups"),  # ECS Exec finds its session log
                    *_actions(
                        "ssmmessages",
                        (
                            "CreateControlChannel",
                            "CreateDataChannel",
                            "OpenControlChannel",
                            "OpenDataChannel",
                        ),
                    ),
                    *_actions(
                        "ec2messages",
                        (
                            "AcknowledgeMessage",
                            "DeleteMessage",
                            "FailMessage",
                            "GetEndpoint",
                            "GetMessages",
                            "SendReply",
                        ),
                    ),
                ],
                Resource=["*"],
            ),
            Statement(
                Sid="SsmAgentOfTheContainerInstances",
                Effect=Allow,
                Action=_actions(
                    "ssm",
                    (
                        "DescribeAssociation",
                        "GetDeployablePatchSnapshotForInstance",
                        "GetDocument",
                        "DescribeDocument",
                        "GetManifest",
                        "ListAssociations",
                        "ListInstanceAssociations",
                        "PutInventory",
                        "PutComplianceItems",
                        "PutConfigurePackageResult",
                        "UpdateAssociationStatus",
                        "UpdateInstanceAssociationStatus",
                        "UpdateInstanceInformation",
                    ),
                ),
                Resource=["*"],
            ),
        ],
    )
