"""The CI stack's roles: who may assume them, and that each may do only its job."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from awacs.aws import Policy
from troposphere import If, iam

from generator import ci, core, website
from generator.config import Settings

GITHUB = "token.actions.githubusercontent.com"
# Read-only or account-level actions that have no resource scope in IAM.
UNSCOPED_READS = {
    "cloudformation:ValidateTemplate",
    "ecr:GetAuthorizationToken",
    "ecs:DescribeClusters",
    "ecs:DescribeServices",
    "ecs:DescribeTasks",
    "ecs:ListTasks",
    "ecs:DescribeTaskDefinition",
    "ecs:ListServiceDeployments",
    "ecs:DescribeServiceDeployments",
    "ecs:DescribeServiceRevisions",
    "elasticloadbalancing:DescribeTargetHealth",
    "elasticloadbalancing:DescribeTargetGroups",
    "elasticloadbalancing:DescribeLoadBalancers",
    "logs:DescribeLogGroups",
    "autoscaling:DescribeInstanceRefreshes",  # make deploy follows the refresh it started
}
# CloudFormation resource-type prefix -> IAM service prefix.
SERVICE_OF_TYPE = {
    "AWS::EC2": "ec2",
    "AWS::ECS": "ecs",
    "AWS::ElasticLoadBalancingV2": "elasticloadbalancing",
    "AWS::AutoScaling": "autoscaling",
    "AWS::ApplicationAutoScaling": "application-autoscaling",
    "AWS::ApiGatewayV2": "apigateway",
    "AWS::Serverless::HttpApi": "apigateway",
    "AWS::Serverless::Function": "lambda",
    "AWS::Lambda": "lambda",
    "AWS::Cognito": "cognito-idp",
    "AWS::DynamoDB": "dynamodb",
    "AWS::S3": "s3",
    "AWS::ECR": "ecr",
    "AWS::Logs": "logs",
    "AWS::SNS": "sns",
    "AWS::CloudWatch": "cloudwatch",
    "AWS::IAM": "iam",
    "AWS::KMS": "kms",
    "AWS::CloudFront": "cloudfront",
    "AWS::SSM": "ssm",
    "AWS::Events": "events",
    "AWS::Chatbot": "chatbot",
}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    rendered: dict[str, Any] = ci.build(Settings()).to_dict()
    return rendered


def role(template: dict[str, Any], name: str) -> dict[str, Any]:
    resource: dict[str, Any] = template["Resources"][name]
    assert resource["Type"] == "AWS::IAM::Role"
    return resource


def inline_policies(resource: dict[str, Any]) -> list[dict[str, Any]]:
    """A role's inline policies, a conditional one (`Fn::If` [condition, policy, NoValue]) too."""
    found = []
    for policy in resource["Properties"].get("Policies", []):
        found.append(policy["Fn::If"][1] if "Fn::If" in policy else policy)
    return found


def statements(resource: dict[str, Any], template: dict[str, Any] | None = None) -> list[Any]:
    """A role's statements: its inline policies', and (given the template) its managed ones'."""
    found = [s for p in inline_policies(resource) for s in p["PolicyDocument"]["Statement"]]
    for ref in resource["Properties"].get("ManagedPolicyArns", []):
        if template is not None and isinstance(ref, dict) and "Ref" in ref:
            found += template["Resources"][ref["Ref"]]["Properties"]["PolicyDocument"]["Statement"]
    return found


def actions(resource: dict[str, Any], template: dict[str, Any] | None = None) -> set[str]:
    return {a for s in statements(resource, template) for a in s["Action"]}


def trust(resource: dict[str, Any]) -> dict[str, Any]:
    (statement,) = resource["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    return dict(statement)


@pytest.mark.parametrize(
    ("name", "operator", "subject"),
    [
        (
            "GitHubDeployRole",
            "StringEquals",
            "repo:${GitHubRepository}:environment:${Environment}:ref:refs/heads/${DeployBranch}",
        ),
        (
            "GitHubPreviewRole",
            "StringLike",
            "repo:${GitHubRepository}:pull_request:ref:refs/pull/*/merge",
        ),
    ],
)
def test_github_roles_trust_only_this_repository_by_subject(
    template: dict[str, Any], name: str, operator: str, subject: str
) -> None:
    """The subject binds the job's ref (GitHub's subject template with repo, context and ref):
    only the deploy branch may assume the deploy role, whatever the GitHub environment allows.
    The preview role's only wildcard is the pull request's number."""
    statement = trust(role(template, name))
    assert statement["Action"] == ["sts:AssumeRoleWithWebIdentity"]
    assert statement["Principal"] == {
        "Federated": {
            "Fn::If": [
                "CreateOidcProvider",
                {"Ref": "GitHubOidcProvider"},
                {"Ref": "ExistingOidcProviderArn"},
            ]
        }
    }
    expected: dict[str, Any] = {"StringEquals": {f"{GITHUB}:aud": "sts.amazonaws.com"}}
    expected.setdefault(operator, {})[f"{GITHUB}:sub"] = {"Fn::Sub": subject}
    assert statement["Condition"] == expected


def test_deploy_branch_parameter_admits_no_wildcard(template: dict[str, Any]) -> None:
    parameter = template["Parameters"]["DeployBranch"]
    assert parameter["Default"] == "main"
    pattern = re.compile(parameter["AllowedPattern"])
    assert pattern.fullmatch("release/2026-12")
    for bad in ("*", "main*", "ma?n", "main:ref", ""):
        assert not pattern.fullmatch(bad), bad


def test_repository_parameter_is_owner_and_name(template: dict[str, Any]) -> None:
    pattern = re.compile(template["Parameters"]["GitHubRepository"]["AllowedPattern"])
    assert pattern.fullmatch("example-org/todo-app")
    for bad in ("example-org/*", "*", "example-org", "a/b/c", "org/repo:ref:refs/heads/x"):
        assert not pattern.fullmatch(bad), bad


def test_oidc_provider_is_created_unless_one_is_given(template: dict[str, Any]) -> None:
    assert template["Conditions"]["CreateOidcProvider"] == {
        "Fn::Equals": [{"Ref": "ExistingOidcProviderArn"}, ""]
    }
    provider = template["Resources"]["GitHubOidcProvider"]
    assert provider["Condition"] == "CreateOidcProvider"
    assert provider["Properties"]["Url"] == f"https://{GITHUB}"
    assert provider["Properties"]["ClientIdList"] == ["sts.amazonaws.com"]


def test_preview_role_exists_only_in_dev_and_cannot_execute(template: dict[str, Any]) -> None:
    preview = role(template, "GitHubPreviewRole")
    assert preview["Condition"] == "IsDevEnvironment"
    granted = actions(preview)
    assert "cloudformation:CreateChangeSet" in granted
    assert "cloudformation:ExecuteChangeSet" not in granted
    assert not {a for a in granted if a.split(":")[0] in {"ecr", "cloudfront", "ecs"}}


@pytest.mark.parametrize("name", ["GitHubDeployRole", "GitHubPreviewRole"])
def test_github_roles_name_every_action_and_scope_every_write(
    template: dict[str, Any], name: str
) -> None:
    for statement in statements(role(template, name)):
        for action in statement["Action"]:
            assert "*" not in action, f"{name} grants {action}"
        if statement["Resource"] == ["*"]:
            assert set(statement["Action"]) <= UNSCOPED_READS, statement["Sid"]


@pytest.mark.parametrize("name", ["GitHubDeployRole", "GitHubPreviewRole"])
def test_github_roles_touch_only_this_environments_project_stacks(
    template: dict[str, Any], name: str
) -> None:
    (stack_statement,) = [
        s for s in statements(role(template, name)) if s["Sid"] == "ProjectStackChangeSets"
    ]
    stacks = [r["Fn::Sub"] for r in stack_statement["Resource"] if ":stack/" in r["Fn::Sub"]]
    assert [s.split(":stack/")[1] for s in stacks] == [
        "todo-${Environment}-core/*",
        "todo-${Environment}-website/*",
    ]


@pytest.mark.parametrize("name", ["GitHubDeployRole", "GitHubPreviewRole"])
def test_github_roles_may_pass_only_the_execution_role_to_cloudformation(
    template: dict[str, Any], name: str
) -> None:
    passes = [s for s in statements(role(template, name)) if "iam:PassRole" in s["Action"]]
    assert passes == [
        {
            "Sid": "PassOnlyTheExecutionRoleToCloudFormation",
            "Effect": "Allow",
            "Action": ["iam:PassRole"],
            "Resource": [{"Fn::GetAtt": ["CloudFormationExecutionRole", "Arn"]}],
            "Condition": {"StringEquals": {"iam:PassedToService": "cloudformation.amazonaws.com"}},
        }
    ]
    assert not {a for a in actions(role(template, name)) if a.startswith("iam:")} - {"iam:PassRole"}


def test_deploy_role_does_exactly_the_deploy_jobs(template: dict[str, Any]) -> None:
    by_sid = {s["Sid"]: s for s in statements(role(template, "GitHubDeployRole"))}
    assert "cloudformation:ExecuteChangeSet" in by_sid["ProjectStackChangeSets"]["Action"]
    (ecr_repos,) = by_sid["PushServiceImages"]["Resource"]
    assert ecr_repos["Fn::Sub"].endswith(":repository/todo-${Environment}-core-*")
    (site,) = by_sid["PublishWebsiteObjects"]["Resource"]
    assert site == {
        "Fn::Sub": "arn:${AWS::Partition}:s3:::todo-${Environment}-website-websitebucket-*/*"
    }
    assert by_sid["InvalidateWebsiteCache"]["Action"] == [
        "cloudfront:CreateInvalidation",
        "cloudfront:GetInvalidation",
    ]
    (log_groups,) = by_sid["ReadServiceLogs"]["Resource"]
    assert log_groups["Fn::Sub"].endswith(":log-group:todo-${Environment}-core-*")


def test_execution_role_is_for_cloudformation_of_this_account_only(
    template: dict[str, Any],
) -> None:
    statement = trust(role(template, "CloudFormationExecutionRole"))
    assert statement["Principal"] == {"Service": "cloudformation.amazonaws.com"}
    assert statement["Action"] == ["sts:AssumeRole"]
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    }


ARTIFACT_OBJECTS = ":s3:::todo-${Environment}-ci-deployartifactbucket-*/*"


def test_execution_role_cannot_reach_the_ci_stack_itself(template: dict[str, Any]) -> None:
    """Every named resource pattern is one of the project stacks', never todo-<env>-ci's (but for
    reading the functions' code packages from its artifact bucket); an allow on `*` is confined
    to a region (tests/aws check what each confinement admits)."""
    for statement in statements(role(template, "CloudFormationExecutionRole"), template):
        for resource in statement["Resource"]:
            text = resource if isinstance(resource, str) else resource["Fn::Sub"]
            if text.endswith(ARTIFACT_OBJECTS):
                # The functions' code packages, which Lambda reads as the caller.
                assert set(statement["Action"]) == {"s3:GetObject", "s3:GetObjectVersion"}
                continue
            if "todo-" in text:
                assert re.search(r"todo-\$\{Environment\}-(core|website)", text), text
                assert "todo-${Environment}-ci" not in text, text
            if text == "*" and statement["Effect"] == "Allow":
                assert "aws:RequestedRegion" in json.dumps(statement.get("Condition")) or set(
                    statement["Action"]
                ) <= {"iam:CreateServiceLinkedRole"}, statement["Sid"]


def _resource_types(template: dict[str, Any]) -> set[str]:
    return {r["Type"] for r in template.get("Resources", {}).values()}


def test_execution_role_covers_every_service_the_stacks_use(template: dict[str, Any]) -> None:
    """A quick guard; tests/aws/test_handler_permissions.py checks every handler permission."""
    granted = {
        a.split(":")[0] for a in actions(role(template, "CloudFormationExecutionRole"), template)
    }
    settings = Settings()
    used = _resource_types(core.build(settings).to_dict()) | _resource_types(
        website.build(settings).to_dict()
    )
    for resource_type in sorted(used):
        prefix = next((p for p in SERVICE_OF_TYPE if resource_type.startswith(p)), None)
        assert prefix is not None, f"map {resource_type} to its IAM service in this test"
        assert SERVICE_OF_TYPE[prefix] in granted, (
            f"{resource_type}: add {SERVICE_OF_TYPE[prefix]} to generator/ci_permissions.py"
        )


def test_iam_documents_are_awacs_objects() -> None:
    t = ci.build(Settings())
    roles = [r for r in t.resources.values() if isinstance(r, iam.Role)]
    assert len(roles) == 3
    for r in roles:
        assert isinstance(r.AssumeRolePolicyDocument, Policy), r.title
        for policy in getattr(r, "Policies", []):
            if isinstance(policy, If):  # a conditional policy: [condition, policy, NoValue]
                policy = policy.data["Fn::If"][1]
            assert isinstance(policy.PolicyDocument, Policy), r.title
    managed = [r for r in t.resources.values() if isinstance(r, iam.ManagedPolicy)]
    assert len(managed) == 5  # four for the execution role, the workload boundary
    for m in managed:
        assert isinstance(m.PolicyDocument, Policy), m.title


def test_artifact_bucket_is_private_encrypted_retained_and_expires(
    template: dict[str, Any],
) -> None:
    bucket = template["Resources"]["DeployArtifactBucket"]
    props = bucket["Properties"]
    assert all(props["PublicAccessBlockConfiguration"].values())
    assert len(props["PublicAccessBlockConfiguration"]) == 4
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert (bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"]) == ("Retain", "Retain")
    (rule,) = props["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == ci.ARTIFACT_EXPIRY_DAYS


def test_outputs_are_exported_with_the_stack_name(template: dict[str, Any]) -> None:
    assert set(template["Outputs"]) == {
        "DeployRoleArn",
        "PreviewRoleArn",
        "CloudFormationExecutionRoleArn",
        "ArtifactBucketName",
        "OidcProviderArn",
        "StackEventsTopicArn",
        "WorkloadBoundaryArn",
    }
    for key, output in template["Outputs"].items():
        assert output["Export"] == {"Name": {"Fn::Sub": "${AWS::StackName}-" + key}}
