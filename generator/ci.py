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
- `DeployArtifactBucket`: where templates over CloudFormation's 51,200-byte body limit go;
- `StackFailureRule`: an EventBridge rule that tells the environment's `stack-events` topic (and
  `NotificationEmail`) when an operation of its core or website stack fails or rolls back. It
  lives here because this stack outlives them: a rule inside the core stack would vanish with the
  failed creation it should report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from awacs import cloudformation as cfn
from awacs import cloudfront as cloudfront_actions
from awacs import ecr, ecs, elasticloadbalancing, iam, logs, s3, sns, sts
from awacs.aws import (
    Action,
    Allow,
    ArnEquals,
    Condition,
    Policy,
    Principal,
    Statement,
    StringEquals,
    StringLike,
)
from troposphere import Equals, GetAtt, If, Not, NoValue, Parameter, Ref, Sub, Template
from troposphere import events as events_resources
from troposphere import iam as iam_resources
from troposphere import kms as kms_resources
from troposphere import s3 as s3_resources
from troposphere import sns as sns_resources

from generator.buckets import bucket_policy, expiry_rule, private_bucket, sse_s3
from generator.ci_permissions import (
    BOUNDARY_ADVISOR_NOTES,
    EXECUTION_ADVISOR_NOTES,
    REGISTRY_LOGIN,
    boundary_name,
    boundary_policy,
    execution_policies,
    stack_prefixes,
)
from generator.common import (
    add_output,
    advisor_notes,
    all_of,
    arn,
    assumed_by,
    checkov_skip,
    key_administered_through_iam,
    retain,
    rules_publish_to_topic,
    service_publishes_to_encrypted_topics,
    sub,
)
from generator.config import Settings
from generator.core.compute import ECS_AMI
from generator.naming import logical_id, stack_events_topic_name

GITHUB_OIDC_HOST = "token.actions.githubusercontent.com"
# GitHub's published intermediate thumbprints; IAM no longer checks them for this provider,
# but older partitions still require the list.
GITHUB_THUMBPRINTS = [
    "6938fd4d98bab03faadb97b34396831e3780aea1",
    "1c58a3a8518e8759bf075b76b750d4f2df264fcd",
]
SAM_TRANSFORM = "Serverless-2016-10-31"
ARTIFACT_EXPIRY_DAYS = 30

CREATE_PROVIDER = "CreateOidcProvider"
PROMOTES = "PromotesFromAnotherEnvironment"
IS_DEV = "IsDevEnvironment"


@dataclass(frozen=True)
class Params:
    repository: Parameter
    environment: Parameter
    existing_provider: Parameter
    deploy_branch: Parameter
    promotes_from: Parameter


@dataclass(frozen=True)
class Roles:
    execution: iam_resources.Role
    execution_policies: list[iam_resources.ManagedPolicy]
    deploy: iam_resources.Role
    preview: iam_resources.Role
    boundary: iam_resources.ManagedPolicy


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
    add_stack_notifications(t, settings)
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
                # An environment exists because config/<env>.json does (config/promotion.json
                # orders them); the core stack's Environment takes the same names.
                AllowedPattern=r"^[a-z][a-z0-9]{1,15}$",
                ConstraintDescription="lower-case letters and digits, as in config/<env>.json",
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
        deploy_branch=t.add_parameter(
            Parameter(
                "DeployBranch",
                Type="String",
                Default="main",
                Description="The only branch whose workflow runs may assume the deploy role",
                AllowedPattern=r"^[A-Za-z0-9._/-]+$",
                ConstraintDescription="a branch name, no wildcards",
            )
        ),
        promotes_from=t.add_parameter(
            Parameter(
                "PromotesFrom",
                Type="String",
                Default="",
                AllowedPattern=r"^$|^[a-z][a-z0-9]{1,15}$",
                ConstraintDescription="empty, or an environment's name",
                Description="The environment before this one in config/promotion.json, whose "
                "images make promote copies (empty for the first environment)",
            )
        ),
    )
    t.add_condition(CREATE_PROVIDER, Equals(Ref(params.existing_provider), ""))
    t.add_condition(PROMOTES, Not(Equals(Ref(params.promotes_from), "")))
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


def _stack_arns(settings: Settings) -> list[Sub]:
    return [
        arn(f"cloudformation:${{AWS::Region}}:${{AWS::AccountId}}:stack/{p}/*")
        for p in stack_prefixes(settings)
    ]


# The OIDC subject GitHub issues once the repository's subject template includes the job's ref
# (docs/cd.md: `gh api -X PUT repos/<owner>/<name>/actions/oidc/customization/sub` with
# include_claim_keys repo, context, ref). Binding the ref in the trust policy means a workflow run
# from any other branch cannot assume the deploy role, whatever the GitHub environment's own
# protection rules say ("Configuring OpenID Connect in Amazon Web Services", GitHub Docs;
# "Customizing the token claims").
# parliament's ARN checks do not know two ARNs AWS documents (advisor_notes).
CHANGE_SET_ADVISOR_NOTES = (
    (
        "parliament",
        "INVALID_ARN",
        "the SAM transform's ARN has 'aws' as its account "
        "(arn:aws:cloudformation:<region>:aws:transform/Serverless-2016-10-31), as AWS documents",
    ),
    (
        "parliament",
        "RESOURCE_MISMATCH",
        "a public SSM parameter's ARN has no account (arn:aws:ssm:<region>::parameter/aws/...), "
        "as AWS documents for public parameters",
    ),
)
DEPLOY_SUBJECT = (
    "repo:${GitHubRepository}:environment:${Environment}:ref:refs/heads/${DeployBranch}"
)
PREVIEW_SUBJECT = "repo:${GitHubRepository}:pull_request:ref:refs/pull/*/merge"


def _github_trust(provider_arn: If, subject: Sub, *, exact: bool) -> Policy:
    """Trust for this repository's jobs with that OIDC subject. `exact`: StringEquals; else
    StringLike, where the subject's only wildcard is the pull-request number."""
    match = StringEquals if exact else StringLike
    return Policy(
        Version="2012-10-17",
        Statement=[
            Statement(
                Effect=Allow,
                Principal=Principal("Federated", provider_arn),
                Action=[sts.AssumeRoleWithWebIdentity],
                Condition=all_of(
                    StringEquals(f"{GITHUB_OIDC_HOST}:aud", "sts.amazonaws.com"),
                    match(f"{GITHUB_OIDC_HOST}:sub", subject),
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
    extra_policies: Sequence[Any] = (),
    **properties: Any,
) -> iam_resources.Role:
    """A role for this repository's jobs whose OIDC subject is `subject`, one hour at most."""
    return iam_resources.Role(
        title,
        Description=Sub(description),
        MaxSessionDuration=3600,
        AssumeRolePolicyDocument=_github_trust(
            provider_arn, Sub(subject), exact="*" not in subject
        ),
        Policies=[
            iam_resources.Policy(PolicyName=policy_name, PolicyDocument=policy),
            *extra_policies,
        ],
        **properties,
    )


def _change_set_statements(
    settings: Settings, execution: iam_resources.Role, *, execute: bool
) -> list[Statement]:
    actions = [
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
    # IAM authorises change-set calls on the stack's ARN, never on the change set's (Service
    # Authorization Reference, AWS CloudFormation: the only resource type of these is `stack`).
    stacks = _stack_arns(settings)
    prefixes = stack_prefixes(settings)[:1]  # the core stack's topic
    return [
        Statement(Sid="ProjectStackChangeSets", Effect=Allow, Action=actions, Resource=stacks),
        # A change set always runs as the execution role: without a role, CloudFormation would
        # act with the caller's own credentials ("cloudformation:RoleArn", CloudFormation User
        # Guide, "Control access with IAM").
        Statement(
            Sid="CreateChangeSetsThatRunAsTheExecutionRole",
            Effect=Allow,
            Action=[cfn.CreateChangeSet],
            Resource=stacks,
            Condition=Condition(ArnEquals("cloudformation:RoleArn", GetAtt(execution, "Arn"))),
        ),
        Statement(
            Sid="UseTheSamTransform",
            Effect=Allow,
            Action=[cfn.CreateChangeSet],
            Resource=[arn(f"cloudformation:${{AWS::Region}}:aws:transform/{SAM_TRANSFORM}")],
        ),
        # CloudFormation resolves SSM-typed parameters during CreateChangeSet with the caller's
        # credentials, not the execution role's ("Specify existing resources at runtime with
        # CloudFormation-supplied parameter types", CloudFormation User Guide): the core stack's
        # ContainerInstanceAmi.
        Statement(
            Sid="ResolveTheContainerInstanceAmiParameter",
            Effect=Allow,
            Action=[Action("ssm", "GetParameters")],
            Resource=[arn("ssm:${AWS::Region}::parameter" + ECS_AMI)],
        ),
        # make changeset warns when nobody is subscribed to the alarm topic.
        Statement(
            Sid="ReadAlarmSubscribers",
            Effect=Allow,
            Action=[sns.ListSubscriptionsByTopic],
            Resource=[arn(f"sns:${{AWS::Region}}:${{AWS::AccountId}}:{p}-*") for p in prefixes],
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
    core, website = stack_prefixes(settings)
    website_bucket = f"s3:::{website}-websitebucket-*"
    return Policy(
        Version="2012-10-17",
        Statement=[
            *_change_set_statements(settings, execution, execute=True),
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
                    # deploy-service follows ECS's deployments; rollback finds the last healthy
                    # revision's image (scripts/deploy/follow.py, rollback.py).
                    ecs.ListServiceDeployments,
                    ecs.DescribeServiceDeployments,
                    ecs.DescribeServiceRevisions,
                    Action("autoscaling", "DescribeInstanceRefreshes"),  # no resource type
                    elasticloadbalancing.DescribeTargetHealth,
                    elasticloadbalancing.DescribeTargetGroups,
                    elasticloadbalancing.DescribeLoadBalancers,
                    logs.DescribeLogGroups,
                ],
                Resource=["*"],
            ),
            # make deploy replaces the container instances after a new AMI (instance refresh).
            Statement(
                Sid="RefreshContainerInstances",
                Effect=Allow,
                Action=[Action("autoscaling", "StartInstanceRefresh")],
                Resource=[
                    arn(
                        "autoscaling:${AWS::Region}:${AWS::AccountId}:autoScalingGroup:*:"
                        f"autoScalingGroupName/{core}-*"
                    )
                ],
            ),
            # make smoke signs in as the environment's smoke user (scripts/smoke/user.py).
            Statement(
                Sid="ReadTheSmokeUsersPassword",
                Effect=Allow,
                Action=[Action("secretsmanager", "GetSecretValue")],
                Resource=[
                    arn(
                        "secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:"
                        f"{settings.project}/${{Environment}}/smoke-user-*"
                    )
                ],
            ),
            Statement(
                Sid="ReadServiceLogs",
                Effect=Allow,
                Action=[logs.FilterLogEvents, logs.GetLogEvents, logs.DescribeLogStreams],
                Resource=[arn(f"logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:{core}-*")],
            ),
        ],
    )


def promote_policy(settings: Settings) -> Policy:
    """make promote: read the previous environment's core stack and pull its images (never
    push there); the copy lands in this environment's repositories (docs/releasing.md)."""
    source = f"{settings.project}-${{PromotesFrom}}-core"
    return Policy(
        Version="2012-10-17",
        Statement=[
            Statement(
                Sid="ReadThePreviousEnvironmentsCoreStack",
                Effect=Allow,
                Action=[cfn.DescribeStacks],
                Resource=[
                    arn(f"cloudformation:${{AWS::Region}}:${{AWS::AccountId}}:stack/{source}/*")
                ],
            ),
            Statement(
                Sid="PullThePreviousEnvironmentsImages",
                Effect=Allow,
                Action=[
                    ecr.BatchGetImage,
                    ecr.GetDownloadUrlForLayer,
                    ecr.DescribeImages,
                    ecr.BatchCheckLayerAvailability,
                ],
                Resource=[arn(f"ecr:${{AWS::Region}}:${{AWS::AccountId}}:repository/{source}-*")],
            ),
        ],
    )


def preview_policy(
    settings: Settings, execution: iam_resources.Role, artifacts: s3_resources.Bucket
) -> Policy:
    return Policy(
        Version="2012-10-17",
        Statement=[
            *_change_set_statements(settings, execution, execute=False),
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
    boundary = t.add_resource(
        advisor_notes(
            checkov_skip(
                iam_resources.ManagedPolicy(
                    "WorkloadPermissionsBoundary",
                    ManagedPolicyName=Sub(boundary_name(settings)),
                    Description=Sub(
                        "The most any role of the ${Environment} core stack may do (its "
                        "permissions boundary; the execution role cannot create a role without it)"
                    ),
                    PolicyDocument=boundary_policy(settings),
                ),
                (
                    "CKV_AWS_111",
                    "A permissions boundary grants nothing by itself: it caps the SSM agent's AWS "
                    "managed policy, whose writes AWS scopes to the calling instance",
                ),
            ),
            *BOUNDARY_ADVISOR_NOTES,
        )
    )
    execution = [
        t.add_resource(
            advisor_notes(
                iam_resources.ManagedPolicy(
                    logical_id("cloud-formation-execution", part),
                    Description=Sub(f"CloudFormation applies the ${{Environment}} stacks: {part}"),
                    PolicyDocument=document,
                ),
                *EXECUTION_ADVISOR_NOTES.get(part, ()),
            )
        )
        for part, document in execution_policies(settings).items()
    ]
    execution_role = t.add_resource(
        iam_resources.Role(
            "CloudFormationExecutionRole",
            Description=Sub("CloudFormation applies the ${Environment} stacks with this role"),
            AssumeRolePolicyDocument=assumed_by(
                "cloudformation.amazonaws.com", this_account_only=True
            ),
            ManagedPolicyArns=[Ref(p) for p in execution],
        )
    )
    deploy = t.add_resource(
        advisor_notes(
            _github_role(
                "GitHubDeployRole",
                description="GitHub Actions deploys of ${Environment} (${GitHubRepository})",
                provider_arn=provider_arn,
                subject=DEPLOY_SUBJECT,
                policy_name="deploy",
                policy=deploy_policy(settings, execution_role, artifacts),
                extra_policies=[
                    If(
                        PROMOTES,
                        iam_resources.Policy(
                            PolicyName="promote", PolicyDocument=promote_policy(settings)
                        ),
                        Ref("AWS::NoValue"),
                    )
                ],
            ),
            ("cloudsplaining", "CredentialsExposure", REGISTRY_LOGIN),
            (
                "parliament",
                "RESOURCE_STAR",
                "status reads for make status and the rollout's diagnosis (services, tasks, "
                "target health): configuration, never data",
            ),
            *CHANGE_SET_ADVISOR_NOTES,
        )
    )
    preview = t.add_resource(
        advisor_notes(
            _github_role(
                "GitHubPreviewRole",
                description="Pull-request change-set previews (${GitHubRepository})",
                provider_arn=provider_arn,
                subject=PREVIEW_SUBJECT,
                policy_name="preview",
                policy=preview_policy(settings, execution_role, artifacts),
                Condition=IS_DEV,
            ),
            *CHANGE_SET_ADVISOR_NOTES,
        )
    )
    return Roles(
        execution=execution_role,
        execution_policies=execution,
        deploy=deploy,
        preview=preview,
        boundary=boundary,
    )


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
    add_output(
        t,
        "WorkloadBoundaryArn",
        Ref(roles.boundary),
        "Permissions boundary of every role the core stack creates",
    )


# The statuses of a failed or rolled-back stack operation ("Stack status codes", CloudFormation
# User Guide): a rollback that starts carries the reason, the *_FAILED ones need a person.
STACK_FAILURE_STATUSES = [
    "CREATE_FAILED",
    "ROLLBACK_IN_PROGRESS",
    "ROLLBACK_FAILED",
    "UPDATE_FAILED",
    "UPDATE_ROLLBACK_IN_PROGRESS",
    "UPDATE_ROLLBACK_FAILED",
    "DELETE_FAILED",
    "IMPORT_ROLLBACK_IN_PROGRESS",
    "IMPORT_ROLLBACK_FAILED",
]
HAS_NOTIFICATION_EMAIL = "HasNotificationEmail"


def stack_failure_pattern(settings: Settings) -> dict[str, Any]:
    """An operation of this environment's core or website stack failed or is rolling back
    (EventBridge's "CloudFormation Stack Status Change" events, CloudFormation User Guide)."""
    return {
        "source": ["aws.cloudformation"],
        "detail-type": ["CloudFormation Stack Status Change"],
        "detail": {
            "stack-id": [
                {
                    "prefix": Sub(
                        "arn:${AWS::Partition}:cloudformation:${AWS::Region}:"
                        f"${{AWS::AccountId}}:stack/{prefix}/"
                    )
                }
                for prefix in stack_prefixes(settings)
            ],
            "status-details": {"status": STACK_FAILURE_STATUSES},
        },
    }


def add_stack_notifications(t: Template, settings: Settings) -> sns_resources.Topic:
    email = t.add_parameter(
        Parameter(
            "NotificationEmail",
            Type="String",
            Default="",
            AllowedPattern=r"^$|^[^@\s]+@[^@\s]+$",
            Description="E-mail address told when a core or website stack operation fails "
            "(empty: none; the core stack's Slack channel, if any, gets them too)",
        )
    )
    t.add_condition(HAS_NOTIFICATION_EMAIL, Not(Equals(Ref(email), "")))
    # EventBridge cannot publish to a topic encrypted with the AWS managed SNS key: a key of
    # its own, whose policy admits EventBridge ("Amazon SNS topic permissions", EventBridge).
    key = t.add_resource(
        retain(
            kms_resources.Key(
                "NotificationKey",
                Description=Sub("${Environment}: the stack-events topic"),
                EnableKeyRotation=True,
                PendingWindowInDays=30,
                KeyPolicy=Policy(
                    Version="2012-10-17",
                    Statement=[
                        key_administered_through_iam(),
                        service_publishes_to_encrypted_topics(
                            "EventBridgePublishesToTheEncryptedTopic", "events.amazonaws.com"
                        ),
                    ],
                ),
            )
        )
    )
    topic = t.add_resource(
        sns_resources.Topic(
            "StackEventsTopic",
            TopicName=Sub(stack_events_topic_name(settings.project)),
            DisplayName=Sub("${Environment} stack events"),
            KmsMasterKeyId=GetAtt(key, "Arn"),
            Subscription=If(
                HAS_NOTIFICATION_EMAIL,
                [sns_resources.Subscription(Protocol="email", Endpoint=Ref(email))],
                NoValue,
            ),
        )
    )
    rule = t.add_resource(
        events_resources.Rule(
            "StackFailureRule",
            Description=Sub("A ${Environment} core or website stack operation failed"),
            State="ENABLED",
            EventPattern=stack_failure_pattern(settings),
            Targets=[
                events_resources.Target(
                    Id="StackEventsTopic",
                    Arn=Ref(topic),
                    InputTransformer=events_resources.InputTransformer(
                        InputPathsMap={
                            "stack": "$.detail.stack-id",
                            "status": "$.detail.status-details.status",
                            "reason": "$.detail.status-details.status-reason",
                            "time": "$.time",
                        },
                        InputTemplate=Sub(
                            "CloudFormation stack <stack> is <status> at <time>: <reason>. "
                            "The events of the stack say which resource failed and why "
                            "(make status ENV=${Environment})."
                        ),
                    ),
                )
            ],
        )
    )
    t.add_resource(
        sns_resources.TopicPolicy(
            "StackEventsTopicPolicy",
            Topics=[Ref(topic)],
            PolicyDocument=Policy(
                Version="2012-10-17",
                Statement=[rules_publish_to_topic("OnlyTheStackFailureRule", topic, [rule])],
            ),
        )
    )
    add_output(
        t,
        "StackEventsTopicArn",
        Ref(topic),
        "Topic told of failed core and website stack operations",
    )
    return topic
