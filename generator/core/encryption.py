"""Encryption layer: one customer-managed KMS key for the stack's data, logs and alarms."""

from __future__ import annotations

from dataclasses import dataclass

from awacs import kms
from awacs.aws import Allow, ArnLike, Condition, PolicyDocument, Principal, Statement
from troposphere import GetAtt, Sub, Template
from troposphere.kms import Alias, Key

from generator.common import arn, retain
from generator.config import Settings


@dataclass(frozen=True)
class Encryption:
    key: Key


def add_encryption(t: Template, settings: Settings) -> Encryption:
    account_root = arn("iam::${AWS::AccountId}:root")
    policy = PolicyDocument(
        Version="2012-10-17",
        Statement=[
            # Delegate to IAM: roles in this account get access only through their own policies.
            Statement(
                Sid="AccountAdministersKeyThroughIam",
                Effect=Allow,
                Principal=Principal("AWS", account_root),
                Action=[kms.Action("*")],
                Resource=["*"],
            ),
            Statement(
                Sid="CloudWatchLogsEncryptsThisStacksLogGroups",
                Effect=Allow,
                Principal=Principal("Service", Sub("logs.${AWS::Region}.amazonaws.com")),
                Action=[
                    kms.Encrypt,
                    kms.Decrypt,
                    kms.ReEncryptFrom,
                    kms.ReEncryptTo,
                    kms.GenerateDataKey,
                    kms.GenerateDataKeyWithoutPlaintext,
                    kms.DescribeKey,
                ],
                Resource=["*"],
                Condition=Condition(
                    ArnLike(
                        "kms:EncryptionContext:aws:logs:arn",
                        arn("logs:${AWS::Region}:${AWS::AccountId}:log-group:*"),
                    )
                ),
            ),
            # Alarms publish to the encrypted SNS topic.
            Statement(
                Sid="CloudWatchAlarmsPublishToEncryptedTopic",
                Effect=Allow,
                Principal=Principal("Service", "cloudwatch.amazonaws.com"),
                Action=[kms.Decrypt, kms.GenerateDataKey],
                Resource=["*"],
            ),
            # So do the EventBridge rules (failed deployments, crashed tasks): a topic encrypted
            # with a customer managed key takes events only if its key policy admits EventBridge
            # ("Amazon SNS topic permissions", EventBridge User Guide).
            Statement(
                Sid="EventBridgeRulesPublishToEncryptedTopic",
                Effect=Allow,
                Principal=Principal("Service", "events.amazonaws.com"),
                Action=[kms.Decrypt, kms.GenerateDataKey],
                Resource=["*"],
            ),
        ],
    )
    key = t.add_resource(
        retain(
            Key(
                "DataKey",
                Description=Sub(f"{settings.project} ${{AWS::StackName}}: tables, buckets, logs"),
                EnableKeyRotation=True,
                PendingWindowInDays=30,
                KeyPolicy=policy,
            )
        )
    )
    t.add_resource(
        Alias(
            "DataKeyAlias",
            AliasName=Sub("alias/${AWS::StackName}-data"),
            TargetKeyId=GetAtt(key, "Arn"),
        )
    )
    return Encryption(key=key)
