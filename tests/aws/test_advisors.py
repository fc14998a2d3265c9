"""scripts.iam.advisors: each wrapper reports a finding its tool is known for, and none on a clean
policy; and what cloudsplaining cannot see, so nobody mistakes it for the gate."""

from __future__ import annotations

from typing import Any

import pytest

from scripts.iam.advisors import Finding, cloudsplaining_findings, findings, parliament_findings


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: Any, resource: Any, **extra: Any) -> dict[str, Any]:
    return policy({"Effect": "Allow", "Action": action, "Resource": resource, **extra})


CLEAN = policy(
    {
        "Effect": "Allow",
        "Action": ["s3:GetObject", "s3:PutObject"],
        "Resource": "arn:aws:s3:::todo-dev-files/*",
    },
    {
        "Effect": "Allow",
        "Action": "dynamodb:GetItem",
        "Resource": "arn:aws:dynamodb:us-east-1:123456789012:table/todo-dev-core-TodosTable",
    },
)


def test_clean_policy_has_no_findings() -> None:
    assert parliament_findings(CLEAN) == []
    assert cloudsplaining_findings(CLEAN) == []
    assert findings(CLEAN) == []


def test_parliament_reports_an_unknown_action() -> None:
    [finding] = parliament_findings(allow("s3:GetObjectz", "arn:aws:s3:::b/*"))
    assert finding == Finding(
        "parliament", "UNKNOWN_ACTION", "low", "s3:GetObjectz", "Unknown action s3:GetObjectz"
    )


def test_parliament_reports_a_resource_that_cannot_match_the_action() -> None:
    [finding] = parliament_findings(allow("s3:GetObject", "arn:aws:s3:::todo-dev-files"))
    assert (finding.tool, finding.issue, finding.severity, finding.subject) == (
        "parliament",
        "RESOURCE_MISMATCH",
        "medium",
        "s3:GetObject",
    )
    assert "arn:*:s3:::*/*" in finding.detail, "it says which ARN format the action needs"


def test_parliament_reports_an_unknown_condition_key_and_a_missing_version() -> None:
    condition = {"StringEquals": {"s3:prefixx": "home/"}}
    [finding] = parliament_findings(allow("s3:ListBucket", "arn:aws:s3:::b", Condition=condition))
    assert finding.issue == "UNKNOWN_CONDITION_FOR_ACTION"
    assert "s3:prefixx" in finding.detail
    no_version = {"Statement": CLEAN["Statement"]}
    assert [f.issue for f in parliament_findings(no_version)] == ["NO_VERSION"]


def test_parliament_lists_each_action_it_names_once() -> None:
    found = parliament_findings(allow(["iam:PassRole", "ec2:RunInstances"], "*"))
    assert [(f.issue, f.subject) for f in found] == [
        ("RESOURCE_STAR", "ec2:RunInstances"),
        ("RESOURCE_STAR", "iam:PassRole"),
    ]
    many = parliament_findings(allow("iam:*", "arn:aws:iam::123456789012:role/todo-dev-core-*"))
    assert len(many) == len(set(many)) > 10


def test_cloudsplaining_reports_privilege_escalation_through_pass_role_and_run_instances() -> None:
    found = cloudsplaining_findings(allow(["iam:PassRole", "ec2:RunInstances"], "*"))
    [escalation] = [f for f in found if f.issue == "PrivilegeEscalation"]
    assert escalation.severity == "high"
    assert escalation.subject == "CreateEC2WithExistingIP"
    assert "iam:passrole" in escalation.detail
    assert "ec2:runinstances" in escalation.detail
    assert (
        Finding(
            "cloudsplaining",
            "ResourceExposure",
            "high",
            "iam:PassRole",
            "changes permissions on Resource * without a condition",
        )
        in found
    )


def test_cloudsplaining_reports_data_exfiltration_for_get_object_on_star() -> None:
    found = cloudsplaining_findings(allow("s3:GetObject", "*"))
    assert (
        Finding(
            "cloudsplaining",
            "DataExfiltration",
            "medium",
            "s3:GetObject",
            "reads data on Resource * without a condition",
        )
        in found
    )
    assert cloudsplaining_findings(allow("s3:GetObject", "arn:aws:s3:::todo-dev-files/*")) == []


def test_cloudsplaining_reports_service_wildcards_and_credentials_exposure() -> None:
    assert ("ServiceWildcard", "kms") in {
        (f.issue, f.subject) for f in cloudsplaining_findings(allow("kms:*", "*"))
    }
    exposure = cloudsplaining_findings(allow("ecr:GetAuthorizationToken", "*"))
    assert [(f.issue, f.subject, f.severity) for f in exposure] == [
        ("CredentialsExposure", "ecr:GetAuthorizationToken", "high")
    ]


@pytest.mark.parametrize(
    "statement",
    [
        # The CloudFormation execution role's old shape (issue 9, defect 4): iam:* on the stack's
        # role names lets a workflow create an administrator role, yet it is no escalation here.
        {
            "Effect": "Allow",
            "Action": "iam:*",
            "Resource": "arn:aws:iam::123456789012:role/todo-dev-core-*",
        },
        # Any condition hides a statement from cloudsplaining, even one unrelated to the escalation.
        {
            "Effect": "Allow",
            "Action": ["iam:PassRole", "ec2:RunInstances"],
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"}},
        },
    ],
)
def test_cloudsplaining_does_not_see_escalation_behind_a_resource_or_a_condition(
    statement: dict[str, Any],
) -> None:
    found = cloudsplaining_findings(policy(statement))
    assert not [f for f in found if f.issue == "PrivilegeEscalation"]


def test_findings_combines_both_tools() -> None:
    both = findings(allow("s3:GetObject", "*"))
    assert {f.tool for f in both} == {"parliament", "cloudsplaining"}
    assert both == sorted(both)
    assert str(both[0]).startswith(f"{both[0].tool} {both[0].severity} {both[0].issue}")
