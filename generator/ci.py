"""The CI stack (templates/ci.yaml): GitHub Actions deploys with OIDC, never with stored keys.

Deployed once per environment by hand, with administrator credentials, as `todo-<env>-ci`
(docs: "Continuous delivery"). It holds:

- the account's GitHub OIDC provider (or reuses one through `ExistingOidcProviderArn`);
- `GitHubDeployRole`: assumable only by this repository's jobs in the GitHub environment of the
  same name; it drives change sets on `todo-<env>-core` and `todo-<env>-website`, pushes images,
  publishes the site and reads status, and nothing else;
- `GitHubPreviewRole` (dev only): assumable by this repository's pull-request jobs; it creates
  and reads change sets but can never execute one;
- `CloudFormationExecutionRole`: the role CloudFormation itself uses to create the stacks'
  resources. Only CloudFormation can assume it and only the two GitHub roles may pass it, so the
  broad resource permissions never reach a workflow directly;
- `DeployArtifactBucket`: where templates over CloudFormation's 51,200-byte body limit go.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from awacs import cloudformation as cfn
from awacs import cloudfront as cloudfront_actions
from awacs import ecr, ecs, elasticloadbalancing, iam, logs, s3, sts
from awacs.aws import Action, Allow, Condition, Policy, Principal, Statement, StringEquals
from troposphere import Equals, GetAtt, If, Parameter, Ref, Sub, Template
from troposphere import iam as iam_resources
from troposphere import s3 as s3_resources

from generator.buckets import bucket_policy, expiry_rule, private_bucket, sse_s3
from generator.common import add_output, arn, assumed_by, checkov_skip, retain, sub
from generator.config import Settings

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
# GitHub's published intermediate thumbprints; IAM no longer checks them for this provider,
# but older partitions still require the list.
GITHUB_THUMBPRINTS = [
    "6938fd4d98bab03faadb97b34396831e3780aea1",
    "1c58a3a8518e8759bf075b76b750d4f2df264fcd",
]
SAM_TRANSFORM = "Serverless-2016-10-31"
ARTIFACT_EXPIRY_DAYS = 30
STACK_LAYERS = ("core", "website")

CREATE_PROVIDER = "CreateOidcProvider"
IS_DEV = "IsDevEnvironment"

# What CloudFormation may do while it applies the project's stacks: per IAM service, the actions
# (all of the service's, unless listed) and the resources. `<stack>` stands for each project
# stack's name (todo-<env>-core, todo-<env>-website): CloudFormation names what it creates after
# the stack, so these patterns cover exactly the stacks' own resources and nothing of this CI
# stack. `*` only where the service has no resource-level permission for creating (EC2, ECS,
# Cognito user pools, KMS keys, ...); those statements are limited to this region.
ALL = ("*",)
EXECUTION_SCOPES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "iam": (
        ALL,
        (
            "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/<stack>-*",
            "arn:${AWS::Partition}:iam::${AWS::AccountId}:instance-profile/<stack>-*",
        ),
    ),
    "s3": (ALL, ("arn:${AWS::Partition}:s3:::<stack>-*",)),
    "dynamodb": (
        ALL,
        ("arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/<stack>-*",),
    ),
    "ecr": (
        ALL,
        ("arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/<stack>-*",),
    ),
    "logs": (
        ALL,
        ("arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:<stack>-*",),
    ),
    "sns": (ALL, ("arn:${AWS::Partition}:sns:${AWS::Region}:${AWS::AccountId}:<stack>-*",)),
    "cloudwatch": (
        ALL,
        (
            "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:<stack>-*",
            "arn:${AWS::Partition}:cloudwatch::${AWS::AccountId}:dashboard/<stack>-*",
        ),
    ),
    "apigateway": (ALL, ("arn:${AWS::Partition}:apigateway:${AWS::Region}::/*",)),
    "cloudfront": (ALL, ("arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:*",)),
    # The ECS-optimized AMI ID comes from a public SSM parameter.
    "ssm": (
        ("GetParameter", "GetParameters"),
        ("arn:${AWS::Partition}:ssm:${AWS::Region}::parameter/aws/service/*",),
    ),
    "ec2": (ALL, ALL),
    "ecs": (ALL, ALL),
    "elasticloadbalancing": (ALL, ALL),
    "autoscaling": (ALL, ALL),
    "application-autoscaling": (ALL, ALL),
    "cognito-idp": (ALL, ALL),
    # Managing the stack's keys and letting DynamoDB, S3 and Logs use them; no key material export.
    "kms": (
        (
            "CreateKey",
            "CreateAlias",
            "UpdateAlias",
            "DeleteAlias",
            "DescribeKey",
            "EnableKey",
            "DisableKey",
            "EnableKeyRotation",
            "DisableKeyRotation",
            "GetKeyPolicy",
            "PutKeyPolicy",
            "GetKeyRotationStatus",
            "ListAliases",
            "ListResourceTags",
            "ScheduleKeyDeletion",
            "TagResource",
            "UntagResource",
            "UpdateKeyDescription",
            "CreateGrant",
            "Encrypt",
            "Decrypt",
            "GenerateDataKey",
            "GenerateDataKeyWithoutPlaintext",
        ),
        ALL,
    ),
}
# Log delivery (API Gateway access logs, VPC flow logs) is configured on account-level resources.
LOG_DELIVERY_ACTIONS = (
    "CreateLogDelivery",
    "GetLogDelivery",
    "UpdateLogDelivery",
    "DeleteLogDelivery",
    "ListLogDeliveries",
    "PutResourcePolicy",
    "DescribeResourcePolicies",
    "DescribeLogGroups",
)
# The services' own service-linked roles (ECS, Auto Scaling, ELB, Application Auto Scaling).
SERVICE_LINKED_ROLE_SERVICES = [
    "ecs.amazonaws.com",
    "autoscaling.amazonaws.com",
    "elasticloadbalancing.amazonaws.com",
    "ecs.application-autoscaling.amazonaws.com",
]


@dataclass(frozen=True)
class Params:
    repository: Parameter
    environment: Parameter
    existing_provider: Parameter


@dataclass(frozen=True)
class Roles:
    execution: iam_resources.Role
    deploy: iam_resources.Role
    preview: iam_resources.Role


def build(settings: Settings) -> Template:
    t = Template(
        Description=f"{settings.project}: CI (GitHub OIDC deploy roles for one environment)"
    )
    t.set_version("2010-09-09")
    params = add_parameters(t)
    provider_arn = add_oidc_provider(t)
    artifacts = add_artifact_bucket(t)
    roles = add_roles(t, settings, params, provider_arn, artifacts)
    add_outputs(t, provider_arn, artifacts, roles)
    return t


def add_parameters(t: Template) -> Params:
    params = Params(
        repository=t.add_parameter(
            Parameter(
                "GitHubRepository",
                Type="String",
                Description="owner/name of the GitHub repository whose workflows may deploy",
                AllowedPattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$",
                ConstraintDescription="owner/name",
            )
        ),
        environment=t.add_parameter(
            Parameter(
                "Environment",
                Type="String",
                AllowedValues=["dev", "prod"],
                Description="The environment (and GitHub environment) these roles deploy",
            )
        ),
        existing_provider=t.add_parameter(
            Parameter(
                "ExistingOidcProviderArn",
                Type="String",
                Default="",
                Description="ARN of the account's GitHub OIDC provider if it already exists "
                "(an account has at most one per URL); empty creates it",
                AllowedPattern=r"^$|^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/"
                + GITHUB_OIDC_HOST.replace(".", r"\.")
                + "$",
                ConstraintDescription="empty or the ARN of the "
                + GITHUB_OIDC_HOST
                + " OIDC provider",
            )
        ),
    )
    t.add_condition(CREATE_PROVIDER, Equals(Ref(params.existing_provider), ""))
    t.add_condition(IS_DEV, Equals(Ref(params.environment), "dev"))
    return params


def add_oidc_provider(t: Template) -> If:
    # Other environments' CI stacks may reuse it: keep it if this stack goes.
    provider = t.add_resource(
        retain(
            iam_resources.OIDCProvider(
                "GitHubOidcProvider",
                Condition=CREATE_PROVIDER,
                Url=f"https://{GITHUB_OIDC_HOST}",
                ClientIdList=["sts.amazonaws.com"],
                ThumbprintList=GITHUB_THUMBPRINTS,
            )
        )
    )
    return If(CREATE_PROVIDER, Ref(provider), Ref("ExistingOidcProviderArn"))


def add_artifact_bucket(t: Template) -> s3_resources.Bucket:
    bucket = t.add_resource(
        checkov_skip(
            private_bucket(
                "DeployArtifactBucket",
                encryption=sse_s3(),
                lifecycle=[
                    expiry_rule(
                        "ExpireArtifacts",
                        days=ARTIFACT_EXPIRY_DAYS,
                        noncurrent_days=1,
                        incomplete_upload_days=1,
                    )
                ],
            ),
            (
                "CKV_AWS_18",
                "Holds only copies of generated templates that are "
                "committed to the repository; CloudTrail records who wrote them.",
            ),
        )
    )
    t.add_resource(bucket_policy(bucket))
    return bucket


def _stack_prefixes(settings: Settings) -> list[str]:
    return [f"{settings.project}-${{Environment}}-{layer}" for layer in STACK_LAYERS]


def _stack_arns(settings: Settings) -> list[Sub]:
    return [
        arn(f"cloudformation:${{AWS::Region}}:${{AWS::AccountId}}:stack/{p}/*")
        for p in _stack_prefixes(settings)
    ]


def _github_trust(provider_arn: If, subject: Sub) -> Policy:
    return Policy(
        Version="2012-10-17",
        Statement=[
            Statement(
                Effect=Allow,
                Principal=Principal("Federated", provider_arn),
                Action=[sts.AssumeRoleWithWebIdentity],
                Condition=Condition(
                    StringEquals(
                        {
                            f"{GITHUB_OIDC_HOST}:aud": "sts.amazonaws.com",
                            f"{GITHUB_OIDC_HOST}:sub": subject,
                        }
                    )
                ),
            )
        ],
    )


def _github_role(
    title: str,
    *,
    description: str,
    provider_arn: If,
    subject: str,
    policy_name: str,
    policy: Policy,
    **properties: Any,
) -> iam_resources.Role:
    """A role for this repository's jobs whose OIDC subject is `subject`, one hour at most."""
    return iam_resources.Role(
        title,
        Description=Sub(description),
        MaxSessionDuration=3600,
        AssumeRolePolicyDocument=_github_trust(provider_arn, Sub(subject)),
        Policies=[iam_resources.Policy(PolicyName=policy_name, PolicyDocument=policy)],
        **properties,
    )


def execution_policy(settings: Settings) -> Policy:
    """What CloudFormation may do while it applies the project's stacks of one environment."""
    in_region = Condition(StringEquals("aws:RequestedRegion", Ref("AWS::Region")))
    statements = []
    for service, (actions, patterns) in EXECUTION_SCOPES.items():
        resources: list[str | Sub] = []
        for pattern in patterns:
            if "<stack>" in pattern:
                resources += [Sub(pattern.replace("<stack>", p)) for p in _stack_prefixes(settings)]
            else:
                resources.append(pattern if pattern == "*" else Sub(pattern))
        statement = Statement(
            Sid="Manage" + "".join(w.title() for w in service.split("-")),
            Effect=Allow,
            Action=[Action(service, a) for a in actions],
            Resource=resources,
        )
        if patterns == ALL:
            statement.Condition = in_region
        statements.append(statement)
    statements.append(
        Statement(
            Sid="ConfigureLogDelivery",
            Effect=Allow,
            Action=[Action("logs", a) for a in LOG_DELIVERY_ACTIONS],
            Resource=["*"],
            Condition=in_region,
        )
    )
    statements.append(
        Statement(
            Sid="CreateServiceLinkedRoles",
            Effect=Allow,
            Action=[iam.CreateServiceLinkedRole],
            Resource=[arn("iam::${AWS::AccountId}:role/aws-service-role/*")],
            Condition=Condition(StringEquals("iam:AWSServiceName", SERVICE_LINKED_ROLE_SERVICES)),
        )
    )
    return Policy(Version="2012-10-17", Statement=statements)


def _change_set_statements(settings: Settings, *, execute: bool) -> list[Statement]:
    actions = [
        cfn.CreateChangeSet,
        cfn.DescribeChangeSet,
        cfn.DeleteChangeSet,
        cfn.ListChangeSets,
        cfn.DescribeStacks,
        cfn.DescribeStackEvents,
        cfn.DescribeStackResource,
        cfn.DescribeStackResources,
        cfn.ListStackResources,
        cfn.GetTemplate,
        cfn.GetTemplateSummary,
    ]
    if execute:
        actions.append(cfn.ExecuteChangeSet)
    return [
        Statement(
            Sid="ProjectStackChangeSets",
            Effect=Allow,
            Action=actions,
            Resource=[
                *_stack_arns(settings),
                arn("cloudformation:${AWS::Region}:${AWS::AccountId}:changeSet/*"),
            ],
        ),
        Statement(
            Sid="UseTheSamTransform",
            Effect=Allow,
            Action=[cfn.CreateChangeSet],
            Resource=[arn(f"cloudformation:${{AWS::Region}}:aws:transform/{SAM_TRANSFORM}")],
        ),
        Statement(
            Sid="ValidateTemplates",
            Effect=Allow,
            Action=[cfn.ValidateTemplate],
            Resource=["*"],
        ),
    ]


def _pass_execution_role(execution: iam_resources.Role) -> Statement:
    return Statement(
        Sid="PassOnlyTheExecutionRoleToCloudFormation",
        Effect=Allow,
        Action=[iam.PassRole],
        Resource=[GetAtt(execution, "Arn")],
        Condition=Condition(StringEquals("iam:PassedToService", "cloudformation.amazonaws.com")),
    )


def _artifacts(bucket: s3_resources.Bucket) -> Statement:
    return Statement(
        Sid="TemplateArtifacts",
        Effect=Allow,
        Action=[s3.PutObject, s3.GetObject],
        Resource=[sub("${<b>.Arn}/*", b=bucket)],
    )


def deploy_policy(
    settings: Settings, execution: iam_resources.Role, artifacts: s3_resources.Bucket
) -> Policy:
    core, website = _stack_prefixes(settings)
    website_bucket = f"s3:::{website}-websitebucket-*"
    return Policy(
        Version="2012-10-17",
        Statement=[
            *_change_set_statements(settings, execute=True),
            _pass_execution_role(execution),
            _artifacts(artifacts),
            Statement(
                Sid="EcrLogin",
                Effect=Allow,
                Action=[ecr.GetAuthorizationToken],
                Resource=["*"],
            ),
            Statement(
                Sid="PushServiceImages",
                Effect=Allow,
                Action=[
                    ecr.BatchCheckLayerAvailability,
                    ecr.InitiateLayerUpload,
                    ecr.UploadLayerPart,
                    ecr.CompleteLayerUpload,
                    ecr.PutImage,
                    ecr.BatchGetImage,
                    ecr.DescribeImages,
                    ecr.DescribeRepositories,
                ],
                Resource=[arn(f"ecr:${{AWS::Region}}:${{AWS::AccountId}}:repository/{core}-*")],
            ),
            Statement(
                Sid="PublishWebsiteListing",
                Effect=Allow,
                Action=[s3.ListBucket],
                Resource=[arn(website_bucket)],
            ),
            Statement(
                Sid="PublishWebsiteObjects",
                Effect=Allow,
                Action=[s3.PutObject, s3.GetObject, s3.DeleteObject],
                Resource=[arn(website_bucket + "/*")],
            ),
            Statement(
                Sid="InvalidateWebsiteCache",
                Effect=Allow,
                Action=[
                    cloudfront_actions.CreateInvalidation,
                    cloudfront_actions.GetInvalidation,
                ],
                Resource=[arn("cloudfront::${AWS::AccountId}:distribution/*")],
            ),
            Statement(
                Sid="ReadServiceStatus",
                Effect=Allow,
                Action=[
                    ecs.DescribeClusters,
                    ecs.DescribeServices,
                    ecs.DescribeTasks,
                    ecs.ListTasks,
                    ecs.DescribeTaskDefinition,
                    elasticloadbalancing.DescribeTargetHealth,
                    elasticloadbalancing.DescribeTargetGroups,
                    elasticloadbalancing.DescribeLoadBalancers,
                    logs.DescribeLogGroups,
                ],
                Resource=["*"],
            ),
            Statement(
                Sid="ReadServiceLogs",
                Effect=Allow,
                Action=[logs.FilterLogEvents, logs.GetLogEvents, logs.DescribeLogStreams],
                Resource=[arn(f"logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:{core}-*")],
            ),
        ],
    )


def preview_policy(
    settings: Settings, execution: iam_resources.Role, artifacts: s3_resources.Bucket
) -> Policy:
    return Policy(
        Version="2012-10-17",
        Statement=[
            *_change_set_statements(settings, execute=False),
            _pass_execution_role(execution),
            _artifacts(artifacts),
        ],
    )


def add_roles(
    t: Template,
    settings: Settings,
    params: Params,
    provider_arn: If,
    artifacts: s3_resources.Bucket,
) -> Roles:
    execution = t.add_resource(
        iam_resources.Role(
            "CloudFormationExecutionRole",
            Description=Sub("CloudFormation applies the ${Environment} stacks with this role"),
            AssumeRolePolicyDocument=assumed_by(
                "cloudformation.amazonaws.com", this_account_only=True
            ),
            Policies=[
                iam_resources.Policy(
                    PolicyName="apply-project-stacks",
                    PolicyDocument=execution_policy(settings),
                )
            ],
        )
    )
    deploy = t.add_resource(
        _github_role(
            "GitHubDeployRole",
            description="GitHub Actions deploys of ${Environment} (${GitHubRepository})",
            provider_arn=provider_arn,
            subject="repo:${GitHubRepository}:environment:${Environment}",
            policy_name="deploy",
            policy=deploy_policy(settings, execution, artifacts),
        )
    )
    preview = t.add_resource(
        _github_role(
            "GitHubPreviewRole",
            description="Pull-request change-set previews (${GitHubRepository})",
            provider_arn=provider_arn,
            subject="repo:${GitHubRepository}:pull_request",
            policy_name="preview",
            policy=preview_policy(settings, execution, artifacts),
            Condition=IS_DEV,
        )
    )
    return Roles(execution=execution, deploy=deploy, preview=preview)


def add_outputs(
    t: Template, provider_arn: If, artifacts: s3_resources.Bucket, roles: Roles
) -> None:
    add_output(
        t, "DeployRoleArn", GetAtt(roles.deploy, "Arn"), "GitHub environment variable AWS_ROLE_ARN"
    )
    add_output(
        t,
        "PreviewRoleArn",
        GetAtt(roles.preview, "Arn"),
        "Repository variable AWS_PREVIEW_ROLE_ARN",
        condition=IS_DEV,
    )
    add_output(
        t,
        "CloudFormationExecutionRoleArn",
        GetAtt(roles.execution, "Arn"),
        "GitHub environment variable AWS_CFN_EXECUTION_ROLE_ARN",
    )
    add_output(
        t,
        "ArtifactBucketName",
        Ref(artifacts),
        "GitHub environment variable DEPLOY_ARTIFACT_BUCKET",
    )
    add_output(t, "OidcProviderArn", provider_arn, "The GitHub OIDC provider the roles trust")
