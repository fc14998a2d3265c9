"""Encryption layer: one customer-managed KMS key for the stack's data, logs and alarms."""

from __future__ import annotations

from dataclasses import dataclass

from awacs import kms
from awacs.aws import Allow, ArnLike, Condition, PolicyDocument, Principal, Statement
from troposphere import GetAtt, Sub, Template
from troposphere.kms import Alias, Key

from generator.common import (
    arn,
    key_administered_through_iam,
    retain,
    service_publishes_to_encrypted_topics,
)
from generator.config import Settings


@dataclass(frozen=True)
class Encryption:
    key: Key


def add_encryption(t: Template, settings: Settings) -> Encryption:
    policy = PolicyDocument(
        Version="2012-10-17",
        Statement=[
            key_administered_through_iam(),
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
            # Alarms and the EventBridge rules (failed deployments, crashed tasks) publish to
            # the encrypted SNS topic: EventBridge only if the key policy admits it.
            service_publishes_to_encrypted_topics(
                "CloudWatchAlarmsPublishToEncryptedTopic", "cloudwatch.amazonaws.com"
            ),
            service_publishes_to_encrypted_topics(
                "EventBridgeRulesPublishToEncryptedTopic", "events.amazonaws.com"
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
