"""Data layer: the two DynamoDB tables, the files bucket and the log bucket."""

from __future__ import annotations

from dataclasses import dataclass

from awacs import s3
from awacs.aws import Allow, Condition, Principal, Statement, StringEquals
from troposphere import Equals, FindInMap, GetAtt, If, Or, Parameter, Ref, Sub, Template
from troposphere.dynamodb import (
    AttributeDefinition,
    KeySchema,
    LocalSecondaryIndex,
    PointInTimeRecoverySpecification,
    Projection,
    SSESpecification,
    Table,
)
from troposphere.s3 import (
    AbortIncompleteMultipartUpload,
    Bucket,
    BucketPolicy,
    CorsConfiguration,
    CorsRules,
    LifecycleRule,
    LoggingConfiguration,
    NoncurrentVersionExpiration,
)

from generator.buckets import bucket_policy, expiry_rule, private_bucket, sse_kms, sse_s3
from generator.common import add_output, checkov_skip, retain
from generator.config import Settings
from generator.core.encryption import Encryption

ALB_LOG_PREFIX = "alb"
S3_ACCESS_LOG_PREFIX = "s3-access"

# Elastic Load Balancing's log-delivery account per Region (Regions opened before August 2022;
# newer Regions use the log-delivery service principal, which the policy grants as well).
ELB_ACCOUNTS = {
    "af-south-1": "098369216593",
    "ap-east-1": "754344448648",
    "ap-northeast-1": "582318560864",
    "ap-northeast-2": "600734575887",
    "ap-northeast-3": "383597477331",
    "ap-south-1": "718504428378",
    "ap-southeast-1": "114774131450",
    "ap-southeast-2": "783225319266",
    "ap-southeast-3": "589379963580",
    "ca-central-1": "985666609251",
    "eu-central-1": "054676820928",
    "eu-north-1": "897822967062",
    "eu-south-1": "635631232127",
    "eu-west-1": "156460612806",
    "eu-west-2": "652711504416",
    "eu-west-3": "009996457667",
    "me-south-1": "076674570225",
    "sa-east-1": "507241528517",
    "us-east-1": "127311923021",
    "us-east-2": "033677994240",
    "us-west-1": "027434742980",
    "us-west-2": "797873946194",
}


ELB_ACCOUNT_REGION = "ElbLogDeliveryAccountRegion"


def _add_elb_log_delivery_lookup(t: Template) -> None:
    """The per-Region ELB accounts, and a condition saying whether this Region has one."""
    t.add_mapping(
        "ElbLogDelivery", {region: {"Account": account} for region, account in ELB_ACCOUNTS.items()}
    )
    region_is = [Equals(Ref("AWS::Region"), region) for region in ELB_ACCOUNTS]
    # Fn::Or takes 2 to 10 conditions: one Or over Ors of at most ten.
    groups = [Or(*region_is[i : i + 10]) for i in range(0, len(region_is), 10)]
    t.add_condition(ELB_ACCOUNT_REGION, Or(*groups))


@dataclass(frozen=True)
class Data:
    todos_table: Table
    files_table: Table
    files_bucket: Bucket
    log_bucket: Bucket
    log_bucket_policy: BucketPolicy
    website_origin: Parameter
    alb_log_prefix: str


def _table(
    name: str,
    partition: str,
    sort: str,
    encryption: Encryption,
    local_indexes: tuple[tuple[str, str, str], ...] = (),  # (name, sort key, key type)
) -> Table:
    attributes = {partition: "S", sort: "S"} | {key: kind for _, key, kind in local_indexes}
    indexes = [
        LocalSecondaryIndex(
            IndexName=index,
            KeySchema=[
                KeySchema(AttributeName=partition, KeyType="HASH"),
                KeySchema(AttributeName=key, KeyType="RANGE"),
            ],
            Projection=Projection(ProjectionType="ALL"),
        )
        for index, key, _ in local_indexes
    ]
    table = retain(
        Table(
            name,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                AttributeDefinition(AttributeName=attribute, AttributeType=kind)
                for attribute, kind in attributes.items()
            ],
            KeySchema=[
                KeySchema(AttributeName=partition, KeyType="HASH"),
                KeySchema(AttributeName=sort, KeyType="RANGE"),
            ],
            PointInTimeRecoverySpecification=PointInTimeRecoverySpecification(
                PointInTimeRecoveryEnabled=True
            ),
            SSESpecification=SSESpecification(
                SSEEnabled=True, SSEType="KMS", KMSMasterKeyId=GetAtt(encryption.key, "Arn")
            ),
            DeletionProtectionEnabled=True,
        )
    )
    if indexes:
        table.LocalSecondaryIndexes = indexes
    return table


def add_data(t: Template, settings: Settings, encryption: Encryption) -> Data:
    website_origin = t.add_parameter(
        Parameter(
            "WebsiteOrigin",
            Type="String",
            AllowedPattern=r"^https?://[A-Za-z0-9.-]+(:\d+)?$",
            Description="Website origin (scheme://host[:port]) admitted by CORS on API and bucket",
        )
    )
    # The list order ("open first, then by due date, then newest") is the sort key `listKey`
    # of a local index: a page of the list is one strongly consistent Query.
    todos = t.add_resource(
        _table(
            "TodosTable",
            *settings.todos_table_keys,
            encryption=encryption,
            local_indexes=((settings.todos_list_index, "listKey", "N"),),
        )
    )
    files = t.add_resource(_table("FilesTable", *settings.files_table_keys, encryption=encryption))

    log_bucket = t.add_resource(
        checkov_skip(
            private_bucket(
                "LogBucket",
                # Elastic Load Balancing delivers access logs only to SSE-S3 buckets.
                encryption=sse_s3(bucket_key=False),
                lifecycle=[
                    expiry_rule(
                        "expire-logs",
                        days=settings.access_log_expiry_days,
                        noncurrent_days=settings.noncurrent_version_days,
                        incomplete_upload_days=settings.incomplete_upload_days,
                    )
                ],
            ),
            ("CKV_AWS_18", "This is the access-log destination; logging it into itself would loop"),
        )
    )
    _add_elb_log_delivery_lookup(t)
    alb_logs = Sub(f"${{{log_bucket.title}.Arn}}/{ALB_LOG_PREFIX}/AWSLogs/${{AWS::AccountId}}/*")
    log_bucket_policy = t.add_resource(
        bucket_policy(
            log_bucket,
            Statement(
                Sid="ElbAccountWritesAlbLogs",
                Effect=Allow,
                Principal=Principal(
                    "AWS",
                    Sub(
                        "arn:${AWS::Partition}:iam::${Account}:root",
                        # Elsewhere the service principal below delivers; naming this
                        # account there keeps the statement valid and grants nothing new.
                        Account=If(
                            ELB_ACCOUNT_REGION,
                            FindInMap("ElbLogDelivery", Ref("AWS::Region"), "Account"),
                            Ref("AWS::AccountId"),
                        ),
                    ),
                ),
                Action=[s3.PutObject],
                Resource=[alb_logs],
            ),
            Statement(
                Sid="ElbServiceWritesAlbLogs",
                Effect=Allow,
                Principal=Principal("Service", "logdelivery.elasticloadbalancing.amazonaws.com"),
                Action=[s3.PutObject],
                Resource=[alb_logs],
            ),
            Statement(
                Sid="S3WritesServerAccessLogs",
                Effect=Allow,
                Principal=Principal("Service", "logging.s3.amazonaws.com"),
                Action=[s3.PutObject],
                Resource=[Sub(f"${{{log_bucket.title}.Arn}}/{S3_ACCESS_LOG_PREFIX}/*")],
                Condition=Condition(StringEquals("aws:SourceAccount", Ref("AWS::AccountId"))),
            ),
        )
    )

    files_bucket = t.add_resource(
        private_bucket(
            "FilesBucket",
            encryption=sse_kms(GetAtt(encryption.key, "Arn")),
            lifecycle=[
                LifecycleRule(
                    Id="expire-old-versions",
                    Status="Enabled",
                    NoncurrentVersionExpiration=NoncurrentVersionExpiration(
                        NoncurrentDays=settings.noncurrent_version_days
                    ),
                    ExpiredObjectDeleteMarker=True,
                ),
                LifecycleRule(
                    Id="abort-incomplete-uploads",
                    Status="Enabled",
                    AbortIncompleteMultipartUpload=AbortIncompleteMultipartUpload(
                        DaysAfterInitiation=settings.incomplete_upload_days
                    ),
                ),
            ],
            # The browser uploads with a presigned POST and downloads with a presigned GET.
            CorsConfiguration=CorsConfiguration(
                CorsRules=[
                    CorsRules(
                        Id="website",
                        AllowedOrigins=[Ref(website_origin)],
                        AllowedMethods=["GET", "POST"],
                        AllowedHeaders=["*"],
                        ExposedHeaders=["ETag"],
                        MaxAge=3000,
                    )
                ]
            ),
            LoggingConfiguration=LoggingConfiguration(
                DestinationBucketName=Ref(log_bucket),
                LogFilePrefix=f"{S3_ACCESS_LOG_PREFIX}/files-bucket/",
            ),
        )
    )
    t.add_resource(bucket_policy(files_bucket))

    add_output(t, "FilesBucketName", Ref(files_bucket), "Bucket of the todos' attachments")
    return Data(
        todos_table=todos,
        files_table=files,
        files_bucket=files_bucket,
        log_bucket=log_bucket,
        log_bucket_policy=log_bucket_policy,
        website_origin=website_origin,
        alb_log_prefix=ALB_LOG_PREFIX,
    )
