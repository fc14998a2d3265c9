"""scripts.iam.policy: first the examples printed on AWS's pages with the outcome each page states,
then each rule on its own.

Example policies are copied as the pages print them (the IAM User Guide's text as of its 2023
source; AWS has since renamed some example buckets to amzn-s3-demo-bucket-*, which changes no
outcome). Where a page prints one statement, the test wraps it in a policy.
"""

from __future__ import annotations

from typing import Any

import pytest

from scripts.iam.policy import (
    AmbiguousCondition,
    Decision,
    Effect,
    MalformedPolicy,
    Policy,
    Request,
    RequestError,
    UnknownConditionOperator,
    UnsupportedPolicy,
    evaluate,
)

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/deployer"
ALLOW_ALL = {
    "Version": "2012-10-17",
    "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"},
}


def doc(*statements: dict[str, Any], version: str | None = "2012-10-17") -> dict[str, Any]:
    document: dict[str, Any] = {"Statement": list(statements)}
    if version is not None:
        document["Version"] = version
    return document


def decide(
    action: str,
    resource: str,
    *identity: dict[str, Any],
    context: dict[str, Any] | None = None,
    principal: str | None = ROLE,
    session_name: str | None = None,
    boundary: dict[str, Any] | None = None,
    resource_policy: dict[str, Any] | None = None,
    required: bool = False,
) -> Decision:
    return evaluate(
        Request(action, resource, context or {}, principal, session_name),
        [Policy(f"identity{i + 1}", d) for i, d in enumerate(identity)],
        boundary=None if boundary is None else Policy("boundary", boundary),
        resource_policy=None if resource_policy is None else Policy("resource", resource_policy),
        resource_policy_required=required,
    )


def allowed(*args: Any, **kwargs: Any) -> bool:
    return decide(*args, **kwargs).allowed


# --- Policy evaluation logic -------------------------------------------------------------------

CARLOS = f"arn:aws:iam::{ACCOUNT}:user/carlossalazar"
CARLOS_IDENTITY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "AllowS3ListRead",
            "Effect": "Allow",
            "Action": [
                "s3:GetBucketLocation",
                "s3:GetAccountPublicAccessBlock",
                "s3:ListAccessPoints",
                "s3:ListAllMyBuckets",
            ],
            "Resource": "arn:aws:s3:::*",
        },
        {
            "Sid": "AllowS3Self",
            "Effect": "Allow",
            "Action": "s3:*",
            "Resource": ["arn:aws:s3:::carlossalazar/*", "arn:aws:s3:::carlossalazar"],
        },
        {"Sid": "DenyS3Logs", "Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::*log*"},
    ],
}
CARLOS_BUCKET_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:user/carlossalazar"},
            "Action": "s3:*",
            "Resource": ["arn:aws:s3:::carlossalazar/*", "arn:aws:s3:::carlossalazar"],
        }
    ],
}


def test_carlos_is_denied_the_logs_bucket_and_allowed_his_own() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-basics.html
    "Example identity-based and resource-based policy evaluation": the identity policy's
    DenyS3Logs denies the save to the logs bucket; both policies allow his own bucket, and "if one
    of the policy types allows the request and the other doesn't, the request is still allowed".
    """
    logs = decide(
        "s3:PutObject",
        "arn:aws:s3:::carlossalazar-logs/file.txt",
        CARLOS_IDENTITY,
        principal=CARLOS,
        resource_policy=CARLOS_BUCKET_POLICY,
    )
    assert logs.effect is Effect.EXPLICIT_DENY
    assert "'DenyS3Logs'" in logs.reason
    own = "arn:aws:s3:::carlossalazar/file.txt"
    assert allowed("s3:PutObject", own, CARLOS_IDENTITY, principal=CARLOS)
    assert allowed("s3:PutObject", own, principal=CARLOS, resource_policy=CARLOS_BUCKET_POLICY), (
        "the bucket policy alone allows"
    )
    assert allowed(
        "s3:PutObject", own, CARLOS_IDENTITY, principal=CARLOS, resource_policy=CARLOS_BUCKET_POLICY
    )


EXPLICIT_IMPLICIT = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "AllowGetList",
            "Effect": "Allow",
            "Action": ["iam:Get*", "iam:List*"],
            "Resource": "*",
        },
        {"Sid": "DenyReports", "Effect": "Deny", "Action": "iam:*Report", "Resource": "*"},
    ],
}


def test_explicit_deny_overrides_an_allow_and_everything_else_is_implicitly_denied() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_AccessPolicyLanguage_Interplay.html
    AllowGetList allows Get*/List*; iam:CreatePolicy is implicitly denied; DenyReports explicitly
    denies iam:GetOrganizationsAccessReport, and iam:GenerateCredentialReport stays denied even
    when another policy grants it.
    """
    assert allowed("iam:GetUser", "*", EXPLICIT_IMPLICIT)
    assert decide("iam:CreatePolicy", "*", EXPLICIT_IMPLICIT).effect is Effect.IMPLICIT_DENY
    report = decide("iam:GetOrganizationsAccessReport", "*", EXPLICIT_IMPLICIT)
    assert report.effect is Effect.EXPLICIT_DENY
    grant = doc({"Effect": "Allow", "Action": "iam:GenerateCredentialReport", "Resource": "*"})
    both = decide("iam:GenerateCredentialReport", "*", grant, EXPLICIT_IMPLICIT)
    assert both.effect is Effect.EXPLICIT_DENY
    assert "identity policy 'identity2' statement 'DenyReports'" in both.reason


# --- NotAction and NotResource -----------------------------------------------------------------


def test_notaction_with_allow() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notaction.html
    "allows users to access all of the Amazon S3 actions that can be performed on any S3 resource
    except for deleting a bucket. This does not allow ... ListAllMyBuckets ... because that action
    requires the "*" resource", and "NotAction": "iam:*" on "*" allows everything but IAM.
    """
    s3 = doc({"Effect": "Allow", "NotAction": "s3:DeleteBucket", "Resource": "arn:aws:s3:::*"})
    assert allowed("s3:PutObject", "arn:aws:s3:::bucket/key", s3)
    assert not allowed("s3:DeleteBucket", "arn:aws:s3:::bucket", s3)
    assert not allowed("s3:ListAllMyBuckets", "*", s3)
    not_iam = doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
    assert allowed("ec2:RunInstances", "*", not_iam)
    assert not allowed("iam:CreateUser", "*", not_iam)


NOT_IAM_WITHOUT_MFA = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "DenyAllUsersNotUsingMFA",
            "Effect": "Deny",
            "NotAction": "iam:*",
            "Resource": "*",
            "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
        }
    ],
}


def test_notaction_with_deny_and_bool_if_exists() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notaction.html
    "denies access to non-IAM actions if the user is not signed in using MFA. If the user is signed
    in with MFA, then the Condition test fails"; BoolIfExists also denies when the key is absent.
    """
    ec2 = ("ec2:DescribeInstances", "*", ALLOW_ALL, NOT_IAM_WITHOUT_MFA)
    assert not allowed(*ec2, context={"aws:MultiFactorAuthPresent": False})
    assert not allowed(*ec2), "a missing key satisfies ...IfExists"
    assert allowed(*ec2, context={"aws:MultiFactorAuthPresent": "true"})
    assert allowed(
        "iam:ListUsers",
        "*",
        ALLOW_ALL,
        NOT_IAM_WITHOUT_MFA,
        context={"aws:MultiFactorAuthPresent": False},
    )


HR_PAYROLL = {
    "Version": "2012-10-17",
    "Statement": {
        "Effect": "Deny",
        "Action": "s3:*",
        "NotResource": ["arn:aws:s3:::HRBucket/Payroll", "arn:aws:s3:::HRBucket/Payroll/*"],
    },
}


def test_notresource_denies_everything_but_the_listed_resources() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_notresource.html
    "explicitly denies access to all Amazon S3 resources other than the listed resources ... this
    policy does not grant the user access to any resources".
    """
    assert allowed("s3:GetObject", "arn:aws:s3:::HRBucket/Payroll/2024.csv", ALLOW_ALL, HR_PAYROLL)
    assert not allowed("s3:GetObject", "arn:aws:s3:::HRBucket/Payroll/2024.csv", HR_PAYROLL)
    other = decide("s3:GetObject", "arn:aws:s3:::HRBucket/Other/x", ALLOW_ALL, HR_PAYROLL)
    assert other.effect is Effect.EXPLICIT_DENY
    assert decide("s3:ListAllMyBuckets", "*", ALLOW_ALL, HR_PAYROLL).effect is Effect.EXPLICIT_DENY


# --- Condition operators -----------------------------------------------------------------------

OPERATORS_PAGE = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html"
JOB_CATEGORY = {
    "Version": "2012-10-17",
    "Statement": {
        "Effect": "Allow",
        "Action": "iam:*AccessKey*",
        "Resource": "arn:aws:iam::account-id:user/*",
        "Condition": {"StringEquals": {"aws:PrincipalTag/job-category": "iamuser-admin"}},
    },
}


def test_string_equals_on_a_missing_key_does_not_match() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
    "If a user without the tag attempts to view or edit an access key, the condition returns false
    and the request is implicitly denied by this statement."
    """
    key = "arn:aws:iam::account-id:user/someone"
    tagged = {"aws:PrincipalTag/job-category": "iamuser-admin"}
    assert allowed("iam:CreateAccessKey", key, JOB_CATEGORY, context=tagged)
    assert not allowed(
        "iam:CreateAccessKey", key, JOB_CATEGORY, context={"aws:PrincipalTag/job-category": "dev"}
    )
    untagged = decide("iam:CreateAccessKey", key, JOB_CATEGORY)
    assert untagged.effect is Effect.IMPLICIT_DENY


HOME_DIRECTORY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["s3:ListAllMyBuckets", "s3:GetBucketLocation"],
            "Resource": "arn:aws:s3:::*",
        },
        {
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": "arn:aws:s3:::BUCKET-NAME",
            "Condition": {"StringLike": {"s3:prefix": ["", "home/", "home/${aws:username}/"]}},
        },
        {
            "Effect": "Allow",
            "Action": "s3:*",
            "Resource": [
                "arn:aws:s3:::BUCKET-NAME/home/${aws:username}",
                "arn:aws:s3:::BUCKET-NAME/home/${aws:username}/*",
            ],
        },
    ],
}


def test_string_like_with_policy_variables_gives_each_user_a_home_directory() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
    The StringLike example: "allows the specified actions on an S3 bucket as long as the s3:prefix
    matches any one of the specified patterns", with ${aws:username} in the condition and Resource.
    """
    david = f"arn:aws:iam::{ACCOUNT}:user/David"
    bucket = "arn:aws:s3:::BUCKET-NAME"
    for prefix in ("", "home/", "home/David/"):
        assert allowed(
            "s3:ListBucket", bucket, HOME_DIRECTORY, principal=david, context={"s3:prefix": prefix}
        )
    for prefix in ("home/Adele/", "home/David/photos/", "other/"):
        assert not allowed(
            "s3:ListBucket", bucket, HOME_DIRECTORY, principal=david, context={"s3:prefix": prefix}
        )
    assert allowed(
        "s3:GetObject", f"{bucket}/home/David/notes.txt", HOME_DIRECTORY, principal=david
    )
    assert not allowed(
        "s3:GetObject", f"{bucket}/home/Adele/notes.txt", HOME_DIRECTORY, principal=david
    )


def test_numeric_less_than_equals() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
    "the requester can list up to 10 objects in example_bucket at a time".
    """
    policy = {
        "Version": "2012-10-17",
        "Statement": {
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": "arn:aws:s3:::example_bucket",
            "Condition": {"NumericLessThanEquals": {"s3:max-keys": "10"}},
        },
    }
    bucket = "arn:aws:s3:::example_bucket"
    assert allowed("s3:ListBucket", bucket, policy, context={"s3:max-keys": 10})
    assert allowed("s3:ListBucket", bucket, policy, context={"s3:max-keys": "3"})
    assert not allowed("s3:ListBucket", bucket, policy, context={"s3:max-keys": 11})
    assert not allowed("s3:ListBucket", bucket, policy)


def test_date_greater_than_on_token_issue_time() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
    "temporary security credentials ... were issued in 2020"; the key is absent for requests made
    with access keys: "if an IAM user attempts to view or edit an access key, the request is
    denied".
    """
    policy = {
        "Version": "2012-10-17",
        "Statement": {
            "Effect": "Allow",
            "Action": "iam:*AccessKey*",
            "Resource": "arn:aws:iam::account-id:user/*",
            "Condition": {"DateGreaterThan": {"aws:TokenIssueTime": "2020-01-01T00:00:01Z"}},
        },
    }
    user = "arn:aws:iam::account-id:user/someone"
    assert allowed(
        "iam:ListAccessKeys", user, policy, context={"aws:TokenIssueTime": "2020-06-01T12:00:00Z"}
    )
    assert not allowed(
        "iam:ListAccessKeys", user, policy, context={"aws:TokenIssueTime": "2019-12-31T23:59:59Z"}
    )
    assert not allowed("iam:ListAccessKeys", user, policy)


def test_bool_deny_without_secure_transport() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
    "deny all S3 actions on a bucket and its contents if the request is not over SSL".
    """
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "BooleanExample",
                "Action": "s3:*",
                "Effect": "Deny",
                "Resource": [
                    "arn:aws:s3:::DOC-EXAMPLE-BUCKET",
                    "arn:aws:s3:::DOC-EXAMPLE-BUCKET/*",
                ],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }
    obj = "arn:aws:s3:::DOC-EXAMPLE-BUCKET/key"
    plain = decide("s3:GetObject", obj, ALLOW_ALL, policy, context={"aws:SecureTransport": False})
    assert plain.effect is Effect.EXPLICIT_DENY
    assert "'BooleanExample'" in plain.reason
    assert allowed("s3:GetObject", obj, ALLOW_ALL, policy, context={"aws:SecureTransport": True})


def test_ip_address_ranges_ipv4_and_ipv6() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
    "the request must come from the IP range 203.0.113.0 to 203.0.113.255"; the second example mixes
    IPv4 and IPv6; without aws:SourceIp (a VPC endpoint) "the condition returns false".
    """
    policy = {
        "Version": "2012-10-17",
        "Statement": {
            "Effect": "Allow",
            "Action": "someservice:*",
            "Resource": "*",
            "Condition": {
                "IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:DB8:1234:5678::/64"]}
            },
        },
    }
    for ip, expected in [
        ("203.0.113.7", True),
        ("203.0.114.1", False),
        ("2001:db8:1234:5678::9", True),
        ("2001:db8:1234:5679::9", False),
    ]:
        assert allowed("someservice:Do", "*", policy, context={"aws:SourceIp": ip}) is expected, ip
    assert not allowed("someservice:Do", "*", policy)


def test_arn_like_compares_each_of_the_six_parts() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
    "With a StringLike condition, the match succeeds ... With an ArnLike condition, which matches
    elements between colons, the match fails."
    """
    pattern = "arn:aws:someservice:*:111122223333:finance/*"
    value = "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt"

    def with_operator(operator: str) -> dict[str, Any]:
        return doc(
            {
                "Effect": "Allow",
                "Action": "someservice:*",
                "Resource": "*",
                "Condition": {operator: {"aws:SourceArn": pattern}},
            }
        )

    context = {"aws:SourceArn": value}
    assert allowed("someservice:Read", "*", with_operator("StringLike"), context=context)
    assert not allowed("someservice:Read", "*", with_operator("ArnLike"), context=context)
    assert allowed("someservice:Read", "*", with_operator("ArnNotLike"), context=context)
    own = "arn:aws:someservice:us-east-2:111122223333:finance/document.txt"
    assert allowed(
        "someservice:Read", "*", with_operator("ArnLike"), context={"aws:SourceArn": own}
    )


SQS_FROM_TOPIC = {
    "Version": "2012-10-17",
    "Statement": {
        "Effect": "Allow",
        "Principal": {"AWS": "123456789012"},
        "Action": "SQS:SendMessage",
        "Resource": "arn:aws:sqs:REGION:123456789012:QUEUE-ID",
        "Condition": {"ArnEquals": {"aws:SourceArn": "arn:aws:sns:REGION:123456789012:TOPIC-ID"}},
    },
}


def test_arn_equals_in_a_queue_policy_that_names_the_account() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
    The SQS queue policy: aws:SourceArn "is present in the request context only if a resource
    triggers a service to call another service ... If an IAM user attempts to perform this operation
    directly, the condition returns false". The account principal delegates to IAM policies
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html).
    """
    queue = "arn:aws:sqs:REGION:123456789012:QUEUE-ID"
    send = doc({"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": queue})
    from_topic = {"aws:SourceArn": "arn:aws:sns:REGION:123456789012:TOPIC-ID"}
    assert not allowed(
        "sqs:SendMessage", queue, resource_policy=SQS_FROM_TOPIC, context=from_topic
    ), "naming the account grants nothing without an identity policy"
    assert allowed(
        "sqs:SendMessage", queue, send, resource_policy=SQS_FROM_TOPIC, context=from_topic
    )
    assert allowed("sqs:SendMessage", queue, send, resource_policy=SQS_FROM_TOPIC), (
        "the identity policy allows on its own in the same account"
    )


RUN_INSTANCES_BROKEN = {
    "Version": "2012-10-17",
    "Statement": {
        "Sid": "THISPOLICYDOESNOTWORK",
        "Effect": "Allow",
        "Action": "ec2:RunInstances",
        "Resource": "*",
        "Condition": {"StringLike": {"ec2:InstanceType": ["t1.*", "t2.*", "m3.*"]}},
    },
}
RUN_INSTANCES_IF_EXISTS = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "RunInstance",
            "Effect": "Allow",
            "Action": "ec2:RunInstances",
            "Resource": "*",
            "Condition": {"StringLikeIfExists": {"ec2:InstanceType": ["t1.*", "t2.*", "m3.*"]}},
        },
        {
            "Sid": "DescribeActions",
            "Effect": "Allow",
            "Action": [
                "ec2:DescribeImages",
                "ec2:DescribeInstances",
                "ec2:DescribeVpcs",
                "ec2:DescribeKeyPairs",
                "ec2:DescribeSubnets",
                "ec2:DescribeSecurityGroups",
            ],
            "Resource": "*",
        },
    ],
}


def test_if_exists_lets_resources_without_the_key_through() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
    "These additional resources do not have the ec2:InstanceType condition key, so the StringLike
    check fails"; with StringLikeIfExists "If the resource being checked does not have that
    condition key, then don't worry about it".
    """
    image = "arn:aws:ec2:us-east-1::image/ami-0abcdef1234567890"
    instance = f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/*"
    assert not allowed("ec2:RunInstances", image, RUN_INSTANCES_BROKEN)
    assert allowed("ec2:RunInstances", image, RUN_INSTANCES_IF_EXISTS)
    assert allowed(
        "ec2:RunInstances",
        instance,
        RUN_INSTANCES_IF_EXISTS,
        context={"ec2:InstanceType": "t2.micro"},
    )
    assert not allowed(
        "ec2:RunInstances",
        instance,
        RUN_INSTANCES_IF_EXISTS,
        context={"ec2:InstanceType": "m5.large"},
    )


def test_null_requires_the_key_to_be_absent() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
    "the user must not be using temporary credentials (the key must not exist) for the user to use
    the Amazon EC2 API".
    """
    policy = {
        "Version": "2012-10-17",
        "Statement": {
            "Action": "ec2:*",
            "Effect": "Allow",
            "Resource": "*",
            "Condition": {"Null": {"aws:TokenIssueTime": "true"}},
        },
    }
    assert allowed("ec2:DescribeVpcs", "*", policy)
    assert not allowed(
        "ec2:DescribeVpcs", "*", policy, context={"aws:TokenIssueTime": "2024-01-01T00:00:00Z"}
    )


# --- Several keys and values; set operators ----------------------------------------------------

MULTI_VALUE_PAGE = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_multi-value-conditions.html"


def test_keys_and_operators_are_anded_values_ored() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_multi-value-conditions.html
    "The user making the request must have both principal tag keys, department and role, that
    include one of the tag key values ... Also, the user making the request must belong to the AWS
    account identifier specified in the policy."
    """
    condition = {
        "StringEqualsIgnoreCase": {
            "aws:PrincipalTag/department": ["finance", "hr", "legal"],
            "aws:PrincipalTag/role": ["audit", "security"],
        },
        "StringEquals": {"aws:PrincipalAccount": "123456789012"},
    }
    policy = doc(
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*", "Condition": condition}
    )
    tags = {"aws:PrincipalTag/department": "HR", "aws:PrincipalTag/role": "Audit"}
    assert allowed("s3:ListBucket", "*", policy, context=tags), "account comes from the principal"
    assert not allowed(
        "s3:ListBucket", "*", policy, context={**tags, "aws:PrincipalAccount": "111122223333"}
    )
    assert not allowed("s3:ListBucket", "*", policy, context={"aws:PrincipalTag/department": "hr"})
    assert not allowed(
        "s3:ListBucket", "*", policy, context={**tags, "aws:PrincipalTag/role": "dev"}
    )


THREAD_GET = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": "dynamodb:GetItem",
            "Resource": "arn:aws:dynamodb:*:*:table/Thread",
            "Condition": {
                "ForAllValues:StringEquals": {"dynamodb:Attributes": ["ID", "Message", "Tags"]}
            },
        }
    ],
}
THREAD_PUT_DENY = {
    "Version": "2012-10-17",
    "Statement": {
        "Effect": "Deny",
        "Action": "dynamodb:PutItem",
        "Resource": "arn:aws:dynamodb:*:*:table/Thread",
        "Condition": {"ForAnyValue:StringEquals": {"dynamodb:Attributes": ["ID", "PostDateTime"]}},
    },
}
THREAD = f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/Thread"


def test_for_all_values_and_for_any_value_on_the_thread_table() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_multi-value-conditions.html
    GetItem of Message and Tags is allowed; with UserName "the request fails". PutItem touching
    PostDateTime is denied by the ForAnyValue Deny; PutItem with just UserName is not denied.
    """
    assert allowed(
        "dynamodb:GetItem", THREAD, THREAD_GET, context={"dynamodb:Attributes": ["Message", "Tags"]}
    )
    assert not allowed(
        "dynamodb:GetItem",
        THREAD,
        THREAD_GET,
        context={"dynamodb:Attributes": ["Message", "UserName"]},
    )
    put = ("dynamodb:PutItem", THREAD, ALLOW_ALL, THREAD_PUT_DENY)
    assert (
        decide(*put, context={"dynamodb:Attributes": ["PostDateTime", "Message"]}).effect
        is Effect.EXPLICIT_DENY
    )
    assert allowed(*put, context={"dynamodb:Attributes": ["UserName"]})


def test_empty_or_missing_value_set_for_all_values_is_true_for_any_value_is_false() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_multi-value-conditions.html
    "If the key values in the request resolve to an empty data set, such as an empty list, a
    condition operator modified by ForAllValues returns true. A condition operator modified by
    ForAnyValue returns false." ForAllValues "also returns true if there are no keys in the
    request".
    """
    contexts: tuple[dict[str, Any], ...] = ({"dynamodb:Attributes": []}, {})
    for context in contexts:
        assert allowed("dynamodb:GetItem", THREAD, THREAD_GET, context=context), context
        assert allowed("dynamodb:PutItem", THREAD, ALLOW_ALL, THREAD_PUT_DENY, context=context), (
            context
        )


DENY_OUTSIDE_REGIONS = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "DenyAllOutsideRequestedRegions",
            "Effect": "Deny",
            "NotAction": ["cloudfront:*", "iam:*", "route53:*", "support:*"],
            "Resource": "*",
            "Condition": {
                "StringNotEquals": {
                    "aws:RequestedRegion": ["eu-central-1", "eu-west-1", "eu-west-2", "eu-west-3"]
                }
            },
        }
    ],
}


def test_string_not_equals_nors_its_values_and_is_true_on_a_missing_key() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_examples_aws_deny-requested-region.html
    "denies access to any actions outside the Regions specified ... except for actions in the
    services specified using NotAction". Several values under a negated operator: the value must
    match none of them (reference_policies_multi-value-conditions.html). A missing key makes a
    negated operator true: "If the policy condition requires that the key is not matched, such as
    StringNotLike or ArnNotLike, and the right key is not present, the condition is true"
    (reference_policies_elements_condition_operators.html), so this Deny denies.
    """
    ec2 = ("ec2:DescribeVpcs", "*", ALLOW_ALL, DENY_OUTSIDE_REGIONS)
    assert allowed(*ec2, context={"aws:RequestedRegion": "eu-west-1"})
    assert allowed(*ec2, context={"aws:RequestedRegion": "eu-central-1"})
    assert decide(*ec2, context={"aws:RequestedRegion": "us-east-1"}).effect is Effect.EXPLICIT_DENY
    assert decide(*ec2).effect is Effect.EXPLICIT_DENY
    assert allowed(
        "iam:CreateUser",
        "*",
        ALLOW_ALL,
        DENY_OUTSIDE_REGIONS,
        context={"aws:RequestedRegion": "us-east-1"},
    )


# --- Policy variables ----------------------------------------------------------------------------


def test_variable_in_the_resource_names_each_users_queue() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
    "gives users in that group the ability to create, use, and delete queues that have their
    names and that are in the us-east-2 Region".
    """
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ListForConsole",
                "Effect": "Allow",
                "Action": "sqs:ListQueues",
                "Resource": "*",
            },
            {
                "Sid": "AllQueueActions",
                "Effect": "Allow",
                "Action": "sqs:*",
                "Resource": "arn:aws:sqs:us-east-2:*:${aws:username}-queue",
            },
        ],
    }
    adele = f"arn:aws:iam::{ACCOUNT}:user/Adele"
    assert allowed(
        "sqs:DeleteQueue", f"arn:aws:sqs:us-east-2:{ACCOUNT}:Adele-queue", policy, principal=adele
    )
    assert not allowed(
        "sqs:DeleteQueue", f"arn:aws:sqs:us-east-2:{ACCOUNT}:David-queue", policy, principal=adele
    )
    assert not allowed(
        "sqs:DeleteQueue", f"arn:aws:sqs:us-west-2:{ACCOUNT}:Adele-queue", policy, principal=adele
    )


def test_variable_with_a_default_value() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
    "if a principal is tagged with team=yellow, they can access ... DOC-EXAMPLE-BUCKET-yellow ...
    For users without team tags, it sets a default value of company-wide".
    """
    policy = doc(
        {
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": "arn:aws:s3:::DOC-EXAMPLE-BUCKET-${aws:PrincipalTag/team, 'company-wide'}",
        }
    )
    yellow = {"aws:PrincipalTag/team": "yellow"}
    assert allowed(
        "s3:ListBucket", "arn:aws:s3:::DOC-EXAMPLE-BUCKET-yellow", policy, context=yellow
    )
    assert not allowed(
        "s3:ListBucket", "arn:aws:s3:::DOC-EXAMPLE-BUCKET-company-wide", policy, context=yellow
    )
    assert allowed("s3:ListBucket", "arn:aws:s3:::DOC-EXAMPLE-BUCKET-company-wide", policy)


def test_variable_without_a_value_matches_nothing_and_negated_operators_match_it() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
    "operators like StringEquals or StringLike do not match ... Inverted condition operators like
    StringNotEquals or StringNotLike do match against a null value"; in Resource "the resource that
    includes a policy variable with no value will not match any resource".
    """

    def with_condition(operator: str) -> dict[str, Any]:
        return doc(
            {
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": "*",
                "Condition": {operator: {"s3:ExistingObjectTag/Team": "${aws:PrincipalTag/Team}"}},
            }
        )

    tagged_object = {"s3:ExistingObjectTag/Team": "blue"}
    assert not allowed("s3:GetObject", "*", with_condition("StringEquals"), context=tagged_object)
    assert allowed("s3:GetObject", "*", with_condition("StringNotEquals"), context=tagged_object)
    both = {**tagged_object, "aws:PrincipalTag/Team": "blue"}
    assert allowed("s3:GetObject", "*", with_condition("StringEquals"), context=both)
    assert not allowed("s3:GetObject", "*", with_condition("StringNotEquals"), context=both)
    per_team = doc(
        {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::${aws:PrincipalTag/Team}"}
    )
    assert not allowed("s3:ListBucket", "arn:aws:s3:::anything", per_team)


def test_special_character_variables_are_literal() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
    "${*} - use where you need an * (asterisk) character", likewise ${?} and ${$}.
    """
    policy = doc(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/${*}${?}${$}"}
    )
    assert allowed("s3:GetObject", "arn:aws:s3:::b/*?$", policy)
    assert not allowed("s3:GetObject", "arn:aws:s3:::b/xy$", policy)


def test_text_substituted_for_a_variable_is_not_a_wildcard() -> None:
    """A tag value of "*" must not turn into a wildcard (the special variables exist for that)."""
    policy = doc(
        {
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": "arn:aws:s3:::team-${aws:PrincipalTag/team}",
        }
    )
    star = {"aws:PrincipalTag/team": "*"}
    assert not allowed("s3:ListBucket", "arn:aws:s3:::team-red", policy, context=star)
    assert allowed("s3:ListBucket", "arn:aws:s3:::team-*", policy, context=star)


def test_variables_only_in_2012_10_17_policies() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_version.html
    Policy variables need Version 2012-10-17; under 2008-10-17 (the default when Version is
    omitted) ${aws:username} is literal text.
    """
    statement = {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/${aws:username}"}
    ann = f"arn:aws:iam::{ACCOUNT}:user/ann"
    assert allowed("s3:GetObject", "arn:aws:s3:::b/ann", doc(statement), principal=ann)
    for old in (doc(statement, version=None), doc(statement, version="2008-10-17")):
        assert not allowed("s3:GetObject", "arn:aws:s3:::b/ann", old, principal=ann)
        assert allowed("s3:GetObject", "arn:aws:s3:::b/${aws:username}", old, principal=ann)


# --- Permissions boundaries --------------------------------------------------------------------

BOUNDARIES_PAGE = "https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html"
SHIRLEY_BOUNDARY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": ["s3:*", "cloudwatch:*", "ec2:*"], "Resource": "*"}
    ],
}
SHIRLEY_CREATE_USER = {
    "Version": "2012-10-17",
    "Statement": {"Effect": "Allow", "Action": "iam:CreateUser", "Resource": "*"},
}


def test_boundary_limits_what_the_identity_policy_allows() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
    ShirleyRodriguez: "If you attach this permissions policy ... and Shirley tries to create a user,
    the operation fails ... because the permissions boundary does not allow the iam:CreateUser
    operation. Given these two policies, Shirley does not have permission to perform any
    operations".
    """
    shirley = f"arn:aws:iam::{ACCOUNT}:user/ShirleyRodriguez"
    create = decide(
        "iam:CreateUser", "*", SHIRLEY_CREATE_USER, principal=shirley, boundary=SHIRLEY_BOUNDARY
    )
    assert create.effect is Effect.IMPLICIT_DENY
    assert "permissions boundary 'boundary' does not" in create.reason
    assert not allowed(
        "s3:ListAllMyBuckets",
        "*",
        SHIRLEY_CREATE_USER,
        principal=shirley,
        boundary=SHIRLEY_BOUNDARY,
    )
    assert allowed("iam:CreateUser", "*", SHIRLEY_CREATE_USER, principal=shirley)


XCOMPANY_BOUNDARIES = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "ServiceBoundaries",
            "Effect": "Allow",
            "Action": ["s3:*", "cloudwatch:*", "ec2:*", "dynamodb:*"],
            "Resource": "*",
        },
        {
            "Sid": "AllowIAMConsoleForCredentials",
            "Effect": "Allow",
            "Action": ["iam:ListUsers", "iam:GetAccountPasswordPolicy"],
            "Resource": "*",
        },
        {
            "Sid": "AllowManageOwnPasswordAndAccessKeys",
            "Effect": "Allow",
            "Action": [
                "iam:*AccessKey*",
                "iam:ChangePassword",
                "iam:GetUser",
                "iam:*ServiceSpecificCredential*",
                "iam:*SigningCertificate*",
            ],
            "Resource": ["arn:aws:iam::*:user/${aws:username}"],
        },
        {
            "Sid": "DenyS3Logs",
            "Effect": "Deny",
            "Action": "s3:*",
            "Resource": ["arn:aws:s3:::logs", "arn:aws:s3:::logs/*"],
        },
        {
            "Sid": "DenyEC2Production",
            "Effect": "Deny",
            "Action": "ec2:*",
            "Resource": "arn:aws:ec2:*:*:instance/i-1234567890abcdef0",
        },
    ],
}
DELEGATED_USER_BOUNDARY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "CreateOrChangeOnlyWithBoundary",
            "Effect": "Allow",
            "Action": [
                "iam:AttachUserPolicy",
                "iam:CreateUser",
                "iam:DeleteUserPolicy",
                "iam:DetachUserPolicy",
                "iam:PutUserPermissionsBoundary",
                "iam:PutUserPolicy",
            ],
            "Resource": "*",
            "Condition": {
                "StringEquals": {
                    "iam:PermissionsBoundary": "arn:aws:iam::123456789012:policy/XCompanyBoundaries"
                }
            },
        },
        {
            "Sid": "CloudWatchAndOtherIAMTasks",
            "Effect": "Allow",
            "Action": [
                "cloudwatch:*",
                "iam:CreateAccessKey",
                "iam:CreateGroup",
                "iam:CreateLoginProfile",
                "iam:CreatePolicy",
                "iam:DeleteGroup",
                "iam:DeletePolicy",
                "iam:DeletePolicyVersion",
                "iam:DeleteUser",
                "iam:GetAccountPasswordPolicy",
                "iam:GetGroup",
                "iam:GetLoginProfile",
                "iam:GetPolicy",
                "iam:GetPolicyVersion",
                "iam:GetRolePolicy",
                "iam:GetUser",
                "iam:GetUserPolicy",
                "iam:ListAccessKeys",
                "iam:ListAttachedRolePolicies",
                "iam:ListAttachedUserPolicies",
                "iam:ListEntitiesForPolicy",
                "iam:ListGroups",
                "iam:ListGroupsForUser",
                "iam:ListMFADevices",
                "iam:ListPolicies",
                "iam:ListPolicyVersions",
                "iam:ListRolePolicies",
                "iam:ListSSHPublicKeys",
                "iam:ListServiceSpecificCredentials",
                "iam:ListSigningCertificates",
                "iam:ListUserPolicies",
                "iam:ListUsers",
                "iam:SetDefaultPolicyVersion",
                "iam:SimulateCustomPolicy",
                "iam:SimulatePrincipalPolicy",
                "iam:UpdateGroup",
                "iam:UpdateLoginProfile",
                "iam:UpdateUser",
            ],
            "NotResource": "arn:aws:iam::123456789012:user/Maria",
        },
        {
            "Sid": "NoBoundaryPolicyEdit",
            "Effect": "Deny",
            "Action": [
                "iam:CreatePolicyVersion",
                "iam:DeletePolicy",
                "iam:DeletePolicyVersion",
                "iam:SetDefaultPolicyVersion",
            ],
            "Resource": [
                "arn:aws:iam::123456789012:policy/XCompanyBoundaries",
                "arn:aws:iam::123456789012:policy/DelegatedUserBoundary",
            ],
        },
        {
            "Sid": "NoBoundaryUserDelete",
            "Effect": "Deny",
            "Action": "iam:DeleteUserPermissionsBoundary",
            "Resource": "*",
        },
    ],
}
DELEGATED_USER_PERMISSIONS = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "IAM", "Effect": "Allow", "Action": "iam:*", "Resource": "*"},
        {
            "Sid": "CloudWatchLimited",
            "Effect": "Allow",
            "Action": [
                "cloudwatch:GetDashboard",
                "cloudwatch:GetMetricData",
                "cloudwatch:ListDashboards",
                "cloudwatch:GetMetricStatistics",
                "cloudwatch:ListMetrics",
            ],
            "Resource": "*",
        },
        {
            "Sid": "S3BucketContents",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": "arn:aws:s3:::ZhangBucket",
        },
    ],
}
ZHANG = f"arn:aws:iam::{ACCOUNT}:user/Zhang"
NIKHIL = f"arn:aws:iam::{ACCOUNT}:user/Nikhil"


def zhang(action: str, resource: str = "*", **context: str) -> Decision:
    return decide(
        action,
        resource,
        DELEGATED_USER_PERMISSIONS,
        principal=ZHANG,
        boundary=DELEGATED_USER_BOUNDARY,
        context=context,
    )


def test_boundary_limits_an_administrator_of_iam() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
    "Delegating responsibility to others using permissions boundaries": Zhang's identity policy
    allows iam:*, his boundary DelegatedUserBoundary limits it. Creating a user without the
    XCompanyBoundaries boundary "fails and access is denied"; with it "The user is created".
    NoBoundaryUserDelete "denies Zhang access to delete the permissions boundary"; "his permissions
    boundary does not allow any Amazon S3 action, so he cannot perform any S3 operations".
    """
    boundary_arn = "arn:aws:iam::123456789012:policy/XCompanyBoundaries"
    nikhil = "arn:aws:iam::123456789012:user/Nikhil"
    assert zhang("iam:CreateUser", nikhil).effect is Effect.IMPLICIT_DENY
    assert zhang("iam:CreateUser", nikhil, **{"iam:PermissionsBoundary": boundary_arn}).allowed
    other = "arn:aws:iam::123456789012:policy/AdministratorAccess"
    assert not zhang("iam:CreateUser", nikhil, **{"iam:PermissionsBoundary": other}).allowed
    remove = zhang("iam:DeleteUserPermissionsBoundary", nikhil)
    assert remove.effect is Effect.EXPLICIT_DENY
    assert "'NoBoundaryUserDelete'" in remove.reason
    edit = zhang("iam:CreatePolicyVersion", boundary_arn)
    assert edit.effect is Effect.EXPLICIT_DENY
    assert zhang("iam:DeletePolicy", "arn:aws:iam::123456789012:policy/Other").allowed
    assert not zhang("iam:UpdateLoginProfile", "arn:aws:iam::123456789012:user/Maria").allowed
    assert zhang("iam:UpdateLoginProfile", nikhil).allowed
    assert zhang("cloudwatch:GetDashboard").allowed
    assert not zhang("cloudwatch:PutDashboard").allowed, "the identity policy does not allow it"
    assert not zhang("s3:ListBucket", "arn:aws:s3:::ZhangBucket").allowed


def test_boundary_explicit_deny_beats_a_resource_policy_its_implicit_deny_does_not() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
    Nikhil: "If someone adds a resource-based policy to the logs bucket that allows Nikhil to put an
    object in the bucket, he still cannot access the bucket" (an explicit deny in his boundary);
    "if a resource-based policy attached to a Secrets Manager secret allows Nikhil ... then Nikhil
    can retrieve and decrypt the secret ... implicit denies in permissions boundaries do not limit
    resource-based policies" (for an IAM user named in the resource policy).
    """

    def for_nikhil(action: str, resource: str) -> dict[str, Any]:
        return doc(
            {
                "Effect": "Allow",
                "Principal": {"AWS": NIKHIL},
                "Action": action,
                "Resource": resource,
            }
        )

    logs = decide(
        "s3:PutObject",
        "arn:aws:s3:::logs/report.txt",
        principal=NIKHIL,
        boundary=XCOMPANY_BOUNDARIES,
        resource_policy=for_nikhil("s3:PutObject", "arn:aws:s3:::logs/*"),
    )
    assert logs.effect is Effect.EXPLICIT_DENY
    assert "permissions boundary 'boundary' statement 'DenyS3Logs'" in logs.reason
    secret = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:app-AbCdEf"
    assert allowed(
        "secretsmanager:GetSecretValue",
        secret,
        principal=NIKHIL,
        boundary=XCOMPANY_BOUNDARIES,
        resource_policy=for_nikhil("secretsmanager:GetSecretValue", "*"),
    )


def test_boundary_allows_own_credentials_through_a_variable() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html
    XCompanyBoundaries' AllowManageOwnPasswordAndAccessKeys: "allows the users manage only their own
    console password and programmatic access keys" (Resource arn:aws:iam::*:user/${aws:username}).
    """
    admin = doc({"Effect": "Allow", "Action": "iam:*", "Resource": "*"})
    own = "arn:aws:iam::123456789012:user/Nikhil"
    assert allowed(
        "iam:CreateAccessKey", own, admin, principal=NIKHIL, boundary=XCOMPANY_BOUNDARIES
    )
    assert not allowed(
        "iam:CreateAccessKey",
        "arn:aws:iam::123456789012:user/Zhang",
        admin,
        principal=NIKHIL,
        boundary=XCOMPANY_BOUNDARIES,
    )
    assert not allowed("iam:CreateUser", own, admin, principal=NIKHIL, boundary=XCOMPANY_BOUNDARIES)


# --- Resource-based policies: which principal the statement names --------------------------------

BUCKET = "arn:aws:s3:::todo-dev-files"
OBJECT = f"{BUCKET}/todo/1/file"
S3_ONLY_BOUNDARY = doc({"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"})


def bucket_policy(principal: Any, effect: str = "Allow") -> dict[str, Any]:
    return doc(
        {
            "Effect": effect,
            "Principal": principal,
            "Action": "s3:GetObject",
            "Resource": f"{BUCKET}/*",
        }
    )


def test_resource_policy_naming_the_role_is_limited_by_the_boundary_only() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html
    "IAM role - Resource-based policies that grant permissions to an IAM role ARN are limited by an
    implicit deny in a permissions boundary or session policy." For most resources "you only need an
    explicit allow for the principal in either an identity-based policy or a resource-based policy".
    The permissions-boundaries page says the same (access_policies_boundaries.html).
    """
    names_role = bucket_policy({"AWS": ROLE})
    direct = decide("s3:GetObject", OBJECT, resource_policy=names_role)
    assert direct.allowed
    assert "resource policy 'resource' statement #1" in direct.reason
    limited = decide("s3:GetObject", OBJECT, resource_policy=names_role, boundary=S3_ONLY_BOUNDARY)
    assert limited.effect is Effect.IMPLICIT_DENY
    assert (
        "names the role, but the permissions boundary 'boundary' does not allow it"
        in limited.reason
    )
    widened = doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    assert allowed("s3:GetObject", OBJECT, resource_policy=names_role, boundary=widened)


def test_resource_policy_naming_the_role_session_is_not_limited_by_the_boundary() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_policy-eval-denyallow.html
    "IAM role session - ... resource-based policies that grant permissions to an IAM role session
    ARN grant permissions directly to the assumed role session. Permissions granted directly to a
    session are not limited by an implicit deny in an identity-based policy, a permissions boundary,
    or session policy."
    """
    session = f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/ci-run-42"
    policy = bucket_policy({"AWS": session})
    kwargs: dict[str, Any] = {"resource_policy": policy, "boundary": S3_ONLY_BOUNDARY}
    assert allowed("s3:GetObject", OBJECT, session_name="ci-run-42", **kwargs)
    assert not allowed("s3:GetObject", OBJECT, session_name="other-run", **kwargs)
    assert not allowed("s3:GetObject", OBJECT, **kwargs), (
        "without a session name no session matches"
    )


def test_resource_policy_naming_the_account_delegates_to_identity_policies() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
    "When you specify an AWS account ... This delegates authority to the account"; "The account ARN
    and the shortened account ID behave the same way".
    """
    read = doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{BUCKET}/*"})
    for principal in ({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, {"AWS": ACCOUNT}):
        policy = bucket_policy(principal)
        assert decide("s3:GetObject", OBJECT, resource_policy=policy).effect is Effect.IMPLICIT_DENY
        assert allowed("s3:GetObject", OBJECT, read, resource_policy=policy)
        assert not allowed(
            "s3:GetObject", OBJECT, read, resource_policy=policy, boundary=S3_ONLY_BOUNDARY
        )


def test_resource_policy_with_principal_star_grants_every_principal() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html
    "using a wildcard (*) with an Allow effect grants access to all users ... For IAM users and role
    principals within your account, no other permissions are required"; identity-based policy types
    such as permissions boundaries "do not limit permissions granted using the aws:PrincipalArn
    condition key with a wildcard (*) in the Principal element, unless the identity-based policies
    contain an explicit deny".
    """
    for principal in ("*", {"AWS": "*"}):
        assert allowed(
            "s3:GetObject",
            OBJECT,
            resource_policy=bucket_policy(principal),
            boundary=S3_ONLY_BOUNDARY,
        )
    by_arn = doc(
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"{BUCKET}/*",
            "Condition": {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/deploy*"}},
        }
    )
    assert allowed("s3:GetObject", OBJECT, resource_policy=by_arn, boundary=S3_ONLY_BOUNDARY)
    other = f"arn:aws:iam::{ACCOUNT}:role/reader"
    assert not allowed("s3:GetObject", OBJECT, resource_policy=by_arn, principal=other)
    deny = doc({"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*"})
    assert (
        decide("s3:GetObject", OBJECT, deny, resource_policy=bucket_policy("*")).effect
        is Effect.EXPLICIT_DENY
    )


def test_resource_policy_statements_for_other_principals_do_not_apply() -> None:
    """Service, other roles' and other accounts' principals neither grant nor deny the caller."""
    for principal in (
        {"Service": "ecs-tasks.amazonaws.com"},
        {"AWS": f"arn:aws:iam::{ACCOUNT}:role/someone-else"},
        {"AWS": "arn:aws:iam::111122223333:root"},
        {"Federated": "cognito-identity.amazonaws.com"},
    ):
        assert not allowed("s3:GetObject", OBJECT, resource_policy=bucket_policy(principal))
        read = doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})
        assert allowed(
            "s3:GetObject", OBJECT, read, resource_policy=bucket_policy(principal, "Deny")
        )


def test_resource_policy_deny_naming_the_account_or_role_denies() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html
    "An explicit deny in any policy overrides any allows"; the account principal stands for every
    principal in the account ("does not limit permissions to only the root user").
    """
    read = doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})
    for principal in ({"AWS": ACCOUNT}, {"AWS": ROLE}, "*"):
        deny = decide(
            "s3:GetObject", OBJECT, read, resource_policy=bucket_policy(principal, "Deny")
        )
        assert deny.effect is Effect.EXPLICIT_DENY, principal
        assert "resource policy 'resource'" in deny.reason


# --- KMS key policies ----------------------------------------------------------------------------

KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
DEFAULT_KEY_POLICY = {
    "Version": "2012-10-17",
    "Id": "key-test-1",
    "Statement": [
        {
            "Sid": "Delegate to IAM policies",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    ],
}
USE_KEY = doc({"Effect": "Allow", "Action": ["kms:Decrypt", "kms:Encrypt"], "Resource": KEY})
ENCRYPTION_APP = f"arn:aws:iam::{ACCOUNT}:role/EncryptionApp"


def test_kms_default_key_policy_lets_iam_policies_allow() -> None:
    """https://docs.aws.amazon.com/kms/latest/developerguide/policy-evaluation.html
    Example 1: Alice, with the default key policy and no IAM policy for the key, "is denied access
    to the KMS key because there is no key policy, IAM policy, or grant that gives her the required
    permissions". The default key policy "allows the account to use IAM policies to allow access"
    (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html).
    """
    alice = f"arn:aws:iam::{ACCOUNT}:user/Alice"
    denied = decide(
        "kms:Decrypt", KEY, principal=alice, resource_policy=DEFAULT_KEY_POLICY, required=True
    )
    assert denied.effect is Effect.IMPLICIT_DENY
    assert allowed(
        "kms:Decrypt",
        KEY,
        USE_KEY,
        principal=alice,
        resource_policy=DEFAULT_KEY_POLICY,
        required=True,
    )


def test_kms_key_policy_without_the_account_statement_ignores_iam_policies() -> None:
    """https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-default.html
    "Without this permission, IAM policies that allow access to the key are ineffective, although
    IAM policies that deny access to the key are still effective." Statement 3 of "Examining the
    key policy" names the EncryptionApp role directly: no IAM policy is needed
    (https://docs.aws.amazon.com/kms/latest/developerguide/determining-access-key-policy.html).
    """
    statement_3 = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Allow use of the key",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::123456789012:role/EncryptionApp"},
                "Action": [
                    "kms:DescribeKey",
                    "kms:GenerateDataKey*",
                    "kms:Encrypt",
                    "kms:ReEncrypt*",
                    "kms:Decrypt",
                ],
                "Resource": "*",
            }
        ],
    }
    kms: dict[str, Any] = {"resource_policy": statement_3, "required": True}
    denied = decide("kms:Decrypt", KEY, USE_KEY, **kms)
    assert denied.effect is Effect.IMPLICIT_DENY
    assert "neither allows the caller nor lets IAM policies allow it" in denied.reason
    assert allowed("kms:GenerateDataKeyWithoutPlaintext", KEY, principal=ENCRYPTION_APP, **kms)
    assert not allowed("kms:ScheduleKeyDeletion", KEY, principal=ENCRYPTION_APP, **kms)
    deny = doc({"Effect": "Deny", "Action": "kms:*", "Resource": "*"})
    assert (
        decide("kms:Decrypt", KEY, deny, principal=ENCRYPTION_APP, **kms).effect
        is Effect.EXPLICIT_DENY
    )
    assert not allowed(
        "kms:Decrypt", KEY, principal=ENCRYPTION_APP, boundary=S3_ONLY_BOUNDARY, **kms
    )


def test_kms_grant_statement_needs_grant_is_for_aws_resource() -> None:
    """https://docs.aws.amazon.com/kms/latest/developerguide/determining-access-key-policy.html
    Statement 4: "the delegation is allowed only when the delegate is an AWS service that integrates
    with AWS KMS and uses grants for authorization" (Bool kms:GrantIsForAWSResource true).
    """
    statement_4 = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Allow attachment of persistent resources",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::111122223333:role/EncryptionApp"},
                "Action": ["kms:ListGrants", "kms:CreateGrant", "kms:RevokeGrant"],
                "Resource": "*",
                "Condition": {"Bool": {"kms:GrantIsForAWSResource": True}},
            }
        ],
    }
    app = "arn:aws:iam::111122223333:role/EncryptionApp"
    kms: dict[str, Any] = {"principal": app, "resource_policy": statement_4, "required": True}
    key = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    assert allowed("kms:CreateGrant", key, context={"kms:GrantIsForAWSResource": True}, **kms)
    assert allowed("kms:CreateGrant", key, context={"kms:GrantIsForAWSResource": "true"}, **kms)
    assert not allowed("kms:CreateGrant", key, context={"kms:GrantIsForAWSResource": False}, **kms)
    assert not allowed("kms:CreateGrant", key, **kms)


# --- Rule by rule --------------------------------------------------------------------------------


def only(statement: dict[str, Any]) -> dict[str, Any]:
    return doc({"Effect": "Allow", "Action": "svc:Do", "Resource": "*", **statement})


def with_condition(operator: str, key: str, value: Any) -> dict[str, Any]:
    return only({"Condition": {operator: {key: value}}})


@pytest.mark.parametrize(
    ("pattern", "action", "expected"),
    [
        ("s3:GetObject", "s3:getobject", True),
        ("S3:GETOBJECT", "s3:GetObject", True),
        ("s3:Get*", "s3:GetObjectTagging", True),
        ("s3:Get?bject", "s3:GetObject", True),
        ("s3:Get?bject", "s3:GetObjects", False),
        ("s3:*Object", "s3:PutObjectAcl", False),
        ("*", "kms:Decrypt", True),
        ("s3:*", "s3express:CreateSession", False),
    ],
)
def test_actions_match_case_insensitively_with_wildcards(
    pattern: str, action: str, expected: bool
) -> None:
    policy = doc({"Effect": "Allow", "Action": pattern, "Resource": "*"})
    assert allowed(action, "*", policy) is expected


@pytest.mark.parametrize(
    ("pattern", "resource", "expected"),
    [
        ("arn:aws:s3:::bucket", "arn:aws:s3:::bucket", True),
        ("arn:aws:s3:::bucket", "arn:aws:s3:::Bucket", False),
        ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b:c", True),
        ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket", False),
        ("arn:aws:s3:::bucket-?", "arn:aws:s3:::bucket-1", True),
        ("arn:aws:s3:::bucket-?", "arn:aws:s3:::bucket-12", False),
        ("arn:aws:iam::*:role/todo-dev-*", "arn:aws:iam::123456789012:role/todo-dev-core-x", True),
        (
            "arn:aws:iam::*:role/todo-dev-*",
            "arn:aws:iam::123456789012:role/todo-prod-core-x",
            False,
        ),
        ("arn:aws:ec2:*", "*", False),
        ("*", "*", True),
    ],
)
def test_resources_match_case_sensitively_with_wildcards(
    pattern: str, resource: str, expected: bool
) -> None:
    policy = doc({"Effect": "Allow", "Action": "svc:Do", "Resource": pattern})
    assert allowed("svc:Do", resource, policy) is expected


def test_actions_and_resources_take_strings_or_lists() -> None:
    listed = doc(
        {
            "Effect": "Allow",
            "Action": ["a:One", "b:Two"],
            "Resource": ["arn:aws:s3:::x", "arn:aws:s3:::y"],
        }
    )
    assert allowed("b:Two", "arn:aws:s3:::y", listed)
    assert not allowed("c:Three", "arn:aws:s3:::y", listed)
    assert not allowed("a:One", "arn:aws:s3:::z", listed)
    single = {
        "Version": "2012-10-17",
        "Statement": {"Effect": "Allow", "Action": "a:One", "Resource": "*"},
    }
    assert allowed("a:One", "*", single)


def test_no_statement_means_implicit_deny_with_a_reason() -> None:
    decision = decide("s3:GetObject", "arn:aws:s3:::b/k")
    assert decision.effect is Effect.IMPLICIT_DENY
    assert not decision.allowed
    assert (
        decision.reason
        == "s3:GetObject on arn:aws:s3:::b/k: no identity policy statement allows it"
    )


@pytest.mark.parametrize(
    ("operator", "policy_value", "request_value", "expected"),
    [
        ("StringEquals", "Prod", "Prod", True),
        ("StringEquals", "Prod", "prod", False),
        ("StringEquals", "pro*", "prod", False),
        ("StringNotEquals", "Prod", "prod", True),
        ("StringNotEquals", "Prod", "Prod", False),
        ("StringEqualsIgnoreCase", "Prod", "pROD", True),
        ("StringEqualsIgnoreCase", "Prod", "Pro", False),
        ("StringNotEqualsIgnoreCase", "Prod", "pROD", False),
        ("StringNotEqualsIgnoreCase", "Prod", "dev", True),
        ("StringLike", "todo-*-core", "todo-dev-core", True),
        ("StringLike", "todo-?-core", "todo-dev-core", False),
        ("StringLike", "Todo-*", "todo-dev", False),
        ("StringNotLike", "todo-*", "todo-dev", False),
        ("StringNotLike", "todo-*", "other", True),
        ("StringEquals", ["a", "b"], "b", True),
        ("StringNotEquals", ["a", "b"], "b", False),
        ("StringNotEquals", ["a", "b"], "c", True),
        ("NumericEquals", "10", 10, True),
        ("NumericEquals", "10", "10.0", True),
        ("NumericNotEquals", "10", 11, True),
        ("NumericNotEquals", ["10", "11"], 11, False),
        ("NumericLessThan", "10", 9.5, True),
        ("NumericLessThan", "10", 10, False),
        ("NumericLessThanEquals", "10", 10, True),
        ("NumericGreaterThan", "10", 10, False),
        ("NumericGreaterThan", "10", 11, True),
        ("NumericGreaterThanEquals", "10", 10, True),
        ("DateEquals", "2024-01-01T00:00:00Z", "2024-01-01T00:00:00+00:00", True),
        ("DateNotEquals", "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z", True),
        ("DateLessThan", "2024-01-01T00:00:00Z", "2023-12-31T23:59:59Z", True),
        ("DateLessThanEquals", "2024-01-01T00:00:00Z", "2024-01-01T00:00:01Z", False),
        ("DateGreaterThan", "1704067200", "2024-01-01T00:00:01Z", True),
        ("DateGreaterThanEquals", "2024-01-01", "1704067200", True),
        ("Bool", "true", True, True),
        ("Bool", True, "true", True),
        ("Bool", "false", True, False),
        ("BinaryEquals", "QmluYXJ5VmFsdWVJbkJhc2U2NA==", "QmluYXJ5VmFsdWVJbkJhc2U2NA==", True),
        ("BinaryEquals", "QmluYXJ5VmFsdWVJbkJhc2U2NA==", "QmluYXJ5", False),
        ("IpAddress", "10.0.0.0/8", "10.1.2.3", True),
        ("IpAddress", "10.0.0.1", "10.0.0.2", False),
        ("NotIpAddress", "10.0.0.0/8", "192.0.2.1", True),
        ("NotIpAddress", "10.0.0.0/8", "10.0.0.1", False),
        ("ArnEquals", "arn:aws:iam::123456789012:role/a", "arn:aws:iam::123456789012:role/a", True),
        ("ArnLike", "arn:aws:iam::*:role/todo-*", "arn:aws:iam::123456789012:role/todo-x", True),
        ("ArnLike", "arn:aws:iam::*:role/todo-*", "arn:aws:iam::123456789012:user/todo-x", False),
        ("ArnLike", "arn:aws:iam::*:role/todo-*", "not-an-arn", False),
        ("ArnNotEquals", "arn:aws:iam::*:role/a", "arn:aws:iam::123456789012:role/a", False),
        ("ArnNotLike", "arn:aws:iam::*:role/a", "arn:aws:iam::123456789012:role/b", True),
    ],
)
def test_condition_operators(
    operator: str, policy_value: Any, request_value: Any, expected: bool
) -> None:
    policy = with_condition(operator, "svc:Key", policy_value)
    assert allowed("svc:Do", "*", policy, context={"svc:Key": request_value}) is expected


@pytest.mark.parametrize(
    ("operator", "expected"),
    [
        ("StringEquals", False),
        ("StringLike", False),
        ("StringEqualsIgnoreCase", False),
        ("ArnLike", False),
        ("NumericEquals", False),
        ("DateEquals", False),
        ("Bool", False),
        ("BinaryEquals", False),
        ("IpAddress", False),
        ("StringNotEquals", True),
        ("StringNotEqualsIgnoreCase", True),
        ("StringNotLike", True),
        ("ArnNotEquals", True),
        ("ArnNotLike", True),
        ("NumericNotEquals", True),
        ("DateNotEquals", True),
        ("NotIpAddress", True),
        ("StringEqualsIfExists", True),
        ("ArnLikeIfExists", True),
        ("NumericLessThanIfExists", True),
        ("StringNotEqualsIfExists", True),
        ("ForAllValues:StringEquals", True),
        ("ForAllValues:StringNotLike", True),
        ("ForAnyValue:StringEquals", False),
        ("ForAnyValue:StringNotEquals", False),
        ("ForAnyValue:StringEqualsIfExists", True),
    ],
)
def test_a_missing_key(operator: str, expected: bool) -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
    A missing key: false, except negated operators (true) and ...IfExists (true); set operators
    follow reference_policies_multi-value-conditions.html.
    """
    values = {
        "Arn": "arn:aws:iam::*:role/x",
        "Num": "1",
        "Dat": "2024-01-01T00:00:00Z",
        "Boo": "true",
        "Ip": "10.0.0.0/8",
        "Not": "10.0.0.0/8",
    }
    base = operator.split(":")[-1]
    value = next(
        (v for prefix, v in values.items() if base.startswith(prefix) and "String" not in base), "x"
    )
    assert allowed("svc:Do", "*", with_condition(operator, "svc:Key", value)) is expected


@pytest.mark.parametrize(
    ("value", "present", "expected"),
    [
        ("true", False, True),
        ("true", True, False),
        ("false", True, True),
        ("false", False, False),
        (True, False, True),
    ],
)
def test_null_checks_presence(value: Any, present: bool, expected: bool) -> None:
    context = {"svc:Key": "anything"} if present else {}
    assert (
        allowed("svc:Do", "*", with_condition("Null", "svc:Key", value), context=context)
        is expected
    )


def test_null_treats_an_empty_list_as_absent() -> None:
    policy = with_condition("Null", "aws:TagKeys", "true")
    assert allowed("svc:Do", "*", policy, context={"aws:TagKeys": []})
    assert not allowed("svc:Do", "*", policy, context={"aws:TagKeys": ["team"]})


@pytest.mark.parametrize(
    ("operator", "values", "expected"),
    [
        ("ForAllValues:StringEquals", ["team", "env"], True),
        ("ForAllValues:StringEquals", ["team", "cost"], False),
        ("ForAnyValue:StringEquals", ["cost", "env"], True),
        ("ForAnyValue:StringEquals", ["cost"], False),
        ("ForAllValues:StringNotEquals", ["cost", "owner"], True),
        ("ForAllValues:StringNotEquals", ["cost", "team"], False),
        ("ForAnyValue:StringNotEquals", ["team", "cost"], True),
        ("ForAnyValue:StringNotEquals", ["team", "env"], False),
        ("ForAllValues:StringLike", ["team-a", "env"], True),
        ("ForAnyValue:StringLike", "team-b", True),
    ],
)
def test_set_operators_over_the_request_values(operator: str, values: Any, expected: bool) -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_multi-value-conditions.html
    ForAllValues: every request value matches a policy value; ForAnyValue: at least one does. A
    negated operator applies to each request value (it matches none of the policy values). A single
    request value counts as a set of one.
    """
    policy_values = ["team*", "env"] if "Like" in operator else ["team", "env"]
    policy = with_condition(operator, "aws:TagKeys", policy_values)
    assert allowed("svc:Do", "*", policy, context={"aws:TagKeys": values}) is expected


def test_several_keys_and_blocks_are_anded() -> None:
    policy = only(
        {
            "Condition": {
                "StringEquals": {"svc:A": "1", "svc:B": "2"},
                "StringLike": {"svc:C": "x*"},
            }
        }
    )
    good = {"svc:A": "1", "svc:B": "2", "svc:C": "xy"}
    assert allowed("svc:Do", "*", policy, context=good)
    for key, wrong in (("svc:A", "9"), ("svc:B", "9"), ("svc:C", "yx")):
        assert not allowed("svc:Do", "*", policy, context={**good, key: wrong}), key


def test_condition_key_names_ignore_case_values_do_not() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
    "Key names are case-insensitive. For example, aws:CurrentTime is equivalent to AWS:currenttime."
    """
    policy = with_condition("StringEquals", "AWS:PrincipalTag/Team", "Blue")
    assert allowed("svc:Do", "*", policy, context={"aws:principaltag/team": "Blue"})
    assert not allowed("svc:Do", "*", policy, context={"aws:principaltag/team": "blue"})


def test_principal_keys_come_from_the_caller() -> None:
    """https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html
    aws:PrincipalArn and aws:PrincipalAccount are always in the request context.
    """
    deny_others = doc(
        {
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {
                "ArnNotLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/deploy*"}
            },
        }
    )
    assert allowed("svc:Do", "*", ALLOW_ALL, deny_others)
    assert not allowed(
        "svc:Do", "*", ALLOW_ALL, deny_others, principal=f"arn:aws:iam::{ACCOUNT}:role/ops"
    )
    account = with_condition("StringEquals", "aws:PrincipalAccount", ACCOUNT)
    assert allowed("svc:Do", "*", account)
    assert not allowed("svc:Do", "*", account, principal=None)


def test_variables_in_string_arn_and_bool_values() -> None:
    tag = {
        "aws:PrincipalTag/env": "dev",
        "svc:Env": "dev",
        "svc:Arn": "arn:aws:s3:::todo-dev-files",
    }
    assert allowed(
        "svc:Do",
        "*",
        with_condition("StringEquals", "svc:Env", "${aws:PrincipalTag/env}"),
        context=tag,
    )
    arn = with_condition("ArnLike", "svc:Arn", "arn:aws:s3:::todo-${aws:PrincipalTag/env}-*")
    assert allowed("svc:Do", "*", arn, context=tag)
    assert not allowed("svc:Do", "*", arn, context={**tag, "aws:PrincipalTag/env": "prod"})
    flag = with_condition("Bool", "svc:Flag", "${svc:Expected}")
    assert allowed("svc:Do", "*", flag, context={"svc:Flag": True, "svc:Expected": "true"})


# --- Errors: never a silent allow or deny ------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "error", "message"),
    [
        ({"Statement": []}, MalformedPolicy, "no Statement"),
        ({"Version": "2013-01-01", "Statement": {}}, MalformedPolicy, "unknown Version"),
        ({"Statment": []}, MalformedPolicy, "unknown element"),
        (doc({"Effect": "allow", "Action": "a:B", "Resource": "*"}), MalformedPolicy, "Effect"),
        (doc({"Effect": "Allow", "Resource": "*"}), MalformedPolicy, "needs Action"),
        (
            doc({"Effect": "Allow", "Action": "a:B", "NotAction": "a:C", "Resource": "*"}),
            MalformedPolicy,
            "both",
        ),
        (
            doc({"Effect": "Allow", "Action": "GetObject", "Resource": "*"}),
            MalformedPolicy,
            "service:Operation",
        ),
        (doc({"Effect": "Allow", "Action": [], "Resource": "*"}), MalformedPolicy, "non-empty"),
        (
            doc({"Effect": "Allow", "Action": "a:B", "Resource": "*", "Condtion": {}}),
            MalformedPolicy,
            "unknown element",
        ),
        (with_condition("StringEqualz", "k", "v"), UnknownConditionOperator, "StringEqualz"),
        (with_condition("stringequals", "k", "v"), UnknownConditionOperator, "stringequals"),
        (
            with_condition("ForSomeValues:StringEquals", "k", "v"),
            UnknownConditionOperator,
            "ForSomeValues",
        ),
        (with_condition("NullIfExists", "k", "true"), UnknownConditionOperator, "Null takes no"),
        (with_condition("NumericEquals", "k", "ten"), MalformedPolicy, "'ten'"),
        (with_condition("DateEquals", "k", "yesterday"), MalformedPolicy, "'yesterday'"),
        (with_condition("IpAddress", "k", "10.0.0.0/33"), MalformedPolicy, "10.0.0.0/33"),
        (with_condition("Bool", "k", "yes"), MalformedPolicy, "'yes'"),
        (with_condition("ArnLike", "k", "*"), MalformedPolicy, "not an ARN"),
        (with_condition("StringEquals", "k", []), MalformedPolicy, "empty list"),
        (with_condition("StringEquals", "k", {"a": 1}), MalformedPolicy, "not a string"),
        (only({"Condition": {"StringEquals": "k"}}), MalformedPolicy, "map condition keys"),
        (
            doc(
                {"Effect": "Allow", "Action": "sqs:*", "Resource": "arn:aws:sqs:${aws:Region}:1:q"}
            ),
            MalformedPolicy,
            "before the resource part",
        ),
        (
            doc(
                {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/${aws:user,name}"}
            ),
            MalformedPolicy,
            "cannot read policy variable",
        ),
        (
            doc(
                {
                    "Effect": "Allow",
                    "Action": "s3:*",
                    "Resource": "*",
                    "NotPrincipal": {"AWS": ROLE},
                }
            ),
            UnsupportedPolicy,
            "ArnNotEquals",
        ),
        (
            doc(
                {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Principal": {"Human": "x"}}
            ),
            MalformedPolicy,
            "principal type",
        ),
    ],
)
def test_malformed_policies_raise_a_named_error(
    document: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        Policy("p", document)


def test_identity_and_resource_policies_are_told_apart() -> None:
    with_principal = doc({"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"})
    with pytest.raises(MalformedPolicy, match="Principal in an identity policy"):
        decide("s3:GetObject", "*", with_principal)
    with pytest.raises(MalformedPolicy, match="Principal in an identity policy"):
        decide("s3:GetObject", "*", boundary=with_principal)
    with pytest.raises(MalformedPolicy, match="needs Principal"):
        decide("s3:GetObject", "*", resource_policy=ALLOW_ALL)
    trust = doc({"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "sts:AssumeRole"})
    assert allowed("sts:AssumeRole", f"arn:aws:iam::{ACCOUNT}:role/target", resource_policy=trust)
    with pytest.raises(MalformedPolicy, match="needs Resource"):
        decide("sts:AssumeRole", "*", doc({"Effect": "Allow", "Action": "sts:AssumeRole"}))


def test_a_list_valued_key_without_a_set_operator_is_ambiguous() -> None:
    policy = with_condition("StringEquals", "aws:TagKeys", "team")
    with pytest.raises(AmbiguousCondition, match="ForAnyValue"):
        decide("svc:Do", "*", policy, context={"aws:TagKeys": ["team"]})
    variable = doc(
        {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/${aws:TagKeys}"}
    )
    with pytest.raises(AmbiguousCondition, match="multivalued"):
        decide("s3:GetObject", "arn:aws:s3:::b/x", variable, context={"aws:TagKeys": ["a", "b"]})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"action": "GetObject", "resource": "*"}, "service:Operation"),
        ({"action": "s3:Get*", "resource": "*"}, "service:Operation"),
        ({"action": "s3:GetObject", "resource": ""}, "resource is empty"),
        (
            {
                "action": "s3:GetObject",
                "resource": "*",
                "principal": "arn:aws:sts::1:assumed-role/a/b",
            },
            "IAM role or user",
        ),
        ({"action": "s3:GetObject", "resource": "*", "session_name": "s"}, "needs the role ARN"),
        (
            {
                "action": "s3:GetObject",
                "resource": "*",
                "principal": f"arn:aws:iam::{ACCOUNT}:user/u",
                "session_name": "s",
            },
            "no role session",
        ),
        (
            {"action": "s3:GetObject", "resource": "*", "context": {"aws:A": "1", "AWS:a": "2"}},
            "differ only in case",
        ),
        (
            {"action": "s3:GetObject", "resource": "*", "context": {"aws:A": {"x": 1}}},
            "not a string",
        ),
        ({"action": "s3:GetObject", "resource": "*", "context": {"aws:A": [None]}}, "not a string"),
    ],
)
def test_malformed_requests_raise(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(RequestError, match=message):
        Request(**kwargs)


def test_request_values_the_operator_cannot_compare_raise() -> None:
    with pytest.raises(RequestError, match="not a number"):
        decide(
            "svc:Do", "*", with_condition("NumericEquals", "svc:N", "1"), context={"svc:N": "one"}
        )
    with pytest.raises(RequestError, match="no IP"):
        decide(
            "svc:Do",
            "*",
            with_condition("IpAddress", "aws:SourceIp", "10.0.0.0/8"),
            context={"aws:SourceIp": "x"},
        )
    with pytest.raises(MalformedPolicy, match="not an ARN"):
        decide(
            "svc:Do",
            "*",
            with_condition("ArnLike", "svc:A", "${svc:Pattern}"),
            context={"svc:A": "arn:aws:s3:::b", "svc:Pattern": "b*"},
        )


def test_evaluate_checks_its_arguments() -> None:
    with pytest.raises(TypeError, match="sequence"):
        evaluate(Request("s3:GetObject", "*"), Policy("p", ALLOW_ALL))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="needs the resource"):
        evaluate(Request("kms:Decrypt", KEY), [], resource_policy_required=True)
    with pytest.raises(RequestError, match=r"set Request\.principal"):
        decide("s3:GetObject", OBJECT, principal=None, resource_policy=bucket_policy("*"))
