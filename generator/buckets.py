"""Private S3 buckets, the same in every stack: encrypted, versioned, unreachable from outside
the account except through a policy statement that says so, kept when the stack goes, TLS only.
"""

from __future__ import annotations

from typing import Any

from awacs import s3
from awacs.aws import Bool, Condition, Deny, PolicyDocument, Principal, Statement
from troposphere import GetAtt, Ref
from troposphere.s3 import (
    AbortIncompleteMultipartUpload,
    Bucket,
    BucketEncryption,
    BucketPolicy,
    LifecycleConfiguration,
    LifecycleRule,
    NoncurrentVersionExpiration,
    OwnershipControls,
    OwnershipControlsRule,
    PublicAccessBlockConfiguration,
    ServerSideEncryptionByDefault,
    ServerSideEncryptionRule,
    VersioningConfiguration,
)

from generator.common import retain, sub


def sse_s3(*, bucket_key: bool = True) -> ServerSideEncryptionRule:
    """S3-managed keys: what log delivery (ELB, CloudFront) and an OAI can work with.

    A bucket key only saves KMS requests, so with SSE-S3 the flag changes nothing in S3;
    `bucket_key=False` leaves it out of the template for a bucket deployed without it.
    """
    rule = ServerSideEncryptionRule(
        ServerSideEncryptionByDefault=ServerSideEncryptionByDefault(SSEAlgorithm="AES256")
    )
    if bucket_key:
        rule.BucketKeyEnabled = True
    return rule


def sse_kms(key_arn: Any) -> ServerSideEncryptionRule:
    """The stack's own KMS key, with an S3 bucket key to keep KMS requests few."""
    return ServerSideEncryptionRule(
        ServerSideEncryptionByDefault=ServerSideEncryptionByDefault(
            SSEAlgorithm="aws:kms", KMSMasterKeyID=key_arn
        ),
        BucketKeyEnabled=True,
    )


def expiry_rule(
    rule_id: str,
    *,
    noncurrent_days: int,
    incomplete_upload_days: int,
    days: int | None = None,
) -> LifecycleRule:
    """Expire old versions and abandoned uploads, and with `days` the current objects too."""
    rule = LifecycleRule(
        Id=rule_id,
        Status="Enabled",
        NoncurrentVersionExpiration=NoncurrentVersionExpiration(NoncurrentDays=noncurrent_days),
        AbortIncompleteMultipartUpload=AbortIncompleteMultipartUpload(
            DaysAfterInitiation=incomplete_upload_days
        ),
    )
    if days is not None:
        rule.ExpirationInDays = days
    return rule


def private_bucket(
    title: str,
    *,
    encryption: ServerSideEncryptionRule,
    lifecycle: list[LifecycleRule],
    ownership: str = "BucketOwnerEnforced",
    **properties: Any,
) -> Bucket:
    """A retained, versioned bucket with every public-access block on.

    `ownership` stays BucketOwnerEnforced (ACLs off) unless a writer needs an ACL grant;
    `properties` are the bucket's other properties (CORS, logging).
    """
    return retain(
        Bucket(
            title,
            BucketEncryption=BucketEncryption(ServerSideEncryptionConfiguration=[encryption]),
            PublicAccessBlockConfiguration=PublicAccessBlockConfiguration(
                BlockPublicAcls=True,
                BlockPublicPolicy=True,
                IgnorePublicAcls=True,
                RestrictPublicBuckets=True,
            ),
            OwnershipControls=OwnershipControls(
                Rules=[OwnershipControlsRule(ObjectOwnership=ownership)]
            ),
            VersioningConfiguration=VersioningConfiguration(Status="Enabled"),
            LifecycleConfiguration=LifecycleConfiguration(Rules=lifecycle),
            **properties,
        )
    )


def deny_insecure_transport(bucket: Bucket) -> Statement:
    """Refuse every request to the bucket and its objects that does not come over TLS."""
    return Statement(
        Sid="DenyInsecureTransport",
        Effect=Deny,
        Principal=Principal("*"),
        Action=[s3.Action("*")],
        Resource=[GetAtt(bucket, "Arn"), sub("${<bucket>.Arn}/*", bucket=bucket)],
        Condition=Condition(Bool("aws:SecureTransport", "false")),
    )


def bucket_policy(bucket: Bucket, *statements: Statement) -> BucketPolicy:
    """`<Bucket>Policy`: TLS only, then the given statements."""
    return BucketPolicy(
        f"{bucket.title}Policy",
        Bucket=Ref(bucket),
        PolicyDocument=PolicyDocument(
            Version="2012-10-17",
            Statement=[deny_insecure_transport(bucket), *statements],
        ),
    )
