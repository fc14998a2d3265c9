"""What the GitHub roles must be able to do, as IAM evaluates it, and what they must not.

CloudFormation evaluates some of a change set with the caller's credentials, not the execution
role's: resolving SSM-typed parameters ("Specify existing resources at runtime with
CloudFormation-supplied parameter types"), reading the template from S3 ("Uploading templates to
Amazon S3"), passing the execution role, and using the SAM transform
("AWS::Serverless transform", its cloudformation:CreateChangeSet on the transform's ARN).
"""

from __future__ import annotations

import pytest

from generator.core.compute import ECS_AMI
from scripts.iam.policy import Request
from scripts.iam.sample import generated_name
from tests.aws.conftest import ACCOUNT, ENVIRONMENTS, REGION, allowed, ci_roles

CFN = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}"
STACK_ID = "00000000-0000-0000-0000-000000000000"
AMI_PARAMETER = f"arn:aws:ssm:{REGION}::parameter{ECS_AMI}"
SAM_TRANSFORM = f"arn:aws:cloudformation:{REGION}:aws:transform/Serverless-2016-10-31"
IN_REGION = {"aws:RequestedRegion": REGION}


def artifact_bucket(environment: str) -> str:
    name = generated_name(f"todo-{environment}-ci", "DeployArtifactBucket", "AWS::S3::Bucket")
    return f"arn:aws:s3:::{name}"


def execution_role_arn(environment: str) -> str:
    return ci_roles(environment)["CloudFormationExecutionRole"].arn


def change_set_requests(environment: str, layer: str) -> list[Request]:
    """What `make changeset STACK=<layer> ENV=<environment>` asks IAM for."""
    stack = f"{CFN}:stack/todo-{environment}-{layer}/{STACK_ID}"
    return [
        Request(
            "cloudformation:CreateChangeSet",
            stack,
            {**IN_REGION, "cloudformation:RoleArn": execution_role_arn(environment)},
        ),
        Request("cloudformation:CreateChangeSet", SAM_TRANSFORM, IN_REGION),
        Request("ssm:GetParameters", AMI_PARAMETER, IN_REGION),
        Request("s3:GetObject", f"{artifact_bucket(environment)}/{layer}.yaml", IN_REGION),
        Request(
            "iam:PassRole",
            execution_role_arn(environment),
            {
                "aws:RequestedRegion": "us-east-1",
                "iam:PassedToService": "cloudformation.amazonaws.com",
            },
        ),
        # Change-set calls are authorised on the stack (the reference's only resource type).
        Request("cloudformation:DescribeChangeSet", stack, IN_REGION),
        Request("cloudformation:DescribeStacks", stack, IN_REGION),
    ]


@pytest.mark.parametrize("layer", ["core", "website"])
@pytest.mark.parametrize(
    ("environment", "role"),
    [(e, "GitHubDeployRole") for e in ENVIRONMENTS] + [("dev", "GitHubPreviewRole")],
)
def test_github_roles_can_create_a_change_set(environment: str, role: str, layer: str) -> None:
    """Fails on the templates before the fix: no ssm:GetParameters for ContainerInstanceAmi."""
    caller = ci_roles(environment)[role]
    for request in change_set_requests(environment, layer):
        decision = allowed(caller, request)
        assert decision.allowed, (
            f"{role}: {request.action} on {request.resource}: {decision.reason}"
        )


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_a_change_set_must_run_as_the_execution_role(environment: str) -> None:
    """Without RoleARN CloudFormation would act with the deploy role's own credentials."""
    deploy = ci_roles(environment)["GitHubDeployRole"]
    stack = f"{CFN}:stack/todo-{environment}-core/{STACK_ID}"
    for role_arn in (None, f"arn:aws:iam::{ACCOUNT}:role/some-admin-role"):
        context = dict(IN_REGION)
        if role_arn:
            context["cloudformation:RoleArn"] = role_arn
        request = Request("cloudformation:CreateChangeSet", stack, context)
        assert not allowed(deploy, request).allowed, role_arn


def test_the_preview_role_can_never_execute() -> None:
    preview = ci_roles("dev")["GitHubPreviewRole"]
    stack = f"{CFN}:stack/todo-dev-core/{STACK_ID}"
    for action in ("cloudformation:ExecuteChangeSet", "cloudformation:DeleteStack"):
        assert not allowed(preview, Request(action, stack, IN_REGION)).allowed


@pytest.mark.parametrize("other", [("dev", "prod"), ("prod", "dev")])
def test_a_deploy_role_cannot_touch_the_other_environment(other: tuple[str, str]) -> None:
    own, foreign = other
    deploy = ci_roles(own)["GitHubDeployRole"]
    for request in change_set_requests(foreign, "core"):
        if request.action in ("ssm:GetParameters",) or "transform/" in request.resource:
            continue  # the public AMI parameter and the SAM transform are the same for both
        decision = allowed(deploy, request)
        assert not decision.allowed, f"{own} may {request.action} on {request.resource}"
    push = Request(
        "ecr:PutImage",
        f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/todo-{foreign}-core-mainrepository-0a1b2c",
        IN_REGION,
    )
    assert not allowed(deploy, push).allowed


def test_the_deploy_role_can_push_and_publish_its_own_environment() -> None:
    deploy = ci_roles("dev")["GitHubDeployRole"]
    for request in (
        Request("ecr:GetAuthorizationToken", "*", IN_REGION),
        Request(
            "ecr:PutImage",
            f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/todo-dev-core-mainrepository-0a1b2c",
            IN_REGION,
        ),
        Request(
            "s3:PutObject",
            "arn:aws:s3:::todo-dev-website-websitebucket-0a1b2c/index.html",
            IN_REGION,
        ),
        Request(
            "cloudfront:CreateInvalidation",
            f"arn:aws:cloudfront::{ACCOUNT}:distribution/E0A1B2C3D4",
            {"aws:RequestedRegion": "us-east-1"},
        ),
    ):
        decision = allowed(deploy, request)
        assert decision.allowed, f"{request.action} on {request.resource}: {decision.reason}"


@pytest.mark.parametrize(
    ("environment", "role"),
    [(e, "GitHubDeployRole") for e in ENVIRONMENTS] + [("dev", "GitHubPreviewRole")],
)
def test_make_changeset_may_count_the_alarm_topics_subscribers(environment: str, role: str) -> None:
    """Its warning when nobody is subscribed (scripts/deploy/subscribers.py), on its own
    environment's topic only."""
    roles = ci_roles(environment)
    other = "prod" if environment == "dev" else "dev"
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:todo-{{}}-core-AlarmTopic-0A1B2C3D"
    request = Request("sns:ListSubscriptionsByTopic", topic.format(environment), IN_REGION)
    assert allowed(roles[role], request).allowed
    elsewhere = Request(request.action, topic.format(other), IN_REGION)
    assert not allowed(roles[role], elsewhere).allowed


@pytest.mark.parametrize(("own", "other"), [("dev", "prod"), ("prod", "dev")])
def test_make_deploy_may_refresh_its_own_container_instances_only(own: str, other: str) -> None:
    """After a new AMI, make deploy starts an instance refresh (scripts/deploy/refresh.py)."""
    deploy = ci_roles(own)["GitHubDeployRole"]
    group = (
        f"arn:aws:autoscaling:{REGION}:{ACCOUNT}:autoScalingGroup:0a1b2c3d-0000-4000-8000-"
        "000000000000:autoScalingGroupName/todo-{}-core-ContainerInstanceAutoScalingGroup-1A2B"
    )
    start = Request("autoscaling:StartInstanceRefresh", group.format(own), IN_REGION)
    assert allowed(deploy, start).allowed
    assert not allowed(deploy, Request(start.action, group.format(other), IN_REGION)).allowed
    follow = Request("autoscaling:DescribeInstanceRefreshes", "*", IN_REGION)
    assert allowed(deploy, follow).allowed
