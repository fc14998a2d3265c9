"""The website stack (templates/website.yaml): a private S3 bucket behind CloudFront.

The bucket is reachable only through the distribution: Origin Access Control (OAC, default) or
the legacy Origin Access Identity (OAI), chosen by the `OriginAccess` parameter. The bucket
policy grants read to exactly the principal the chosen mode uses. The response-headers policy
carries a strict CSP whose `connect-src` names the API, Cognito and the files bucket only.
"""

from __future__ import annotations

from dataclasses import dataclass

from awacs import s3 as s3_actions
from awacs.aws import Allow, Condition, Principal, Statement, StringEquals
from troposphere import (
    Equals,
    GetAtt,
    If,
    Not,
    NoValue,
    Parameter,
    Ref,
    Sub,
    Template,
    cloudfront,
    s3,
)

from generator.buckets import bucket_policy, expiry_rule, private_bucket, sse_s3
from generator.common import add_output, checkov_skip, sub
from generator.config import Settings

# AWS-managed cache policy "Managed-CachingOptimized": long TTLs, gzip + brotli, no cookies/query.
CACHING_OPTIMIZED_POLICY_ID = "658327ea-f89d-4fab-a63d-7e88639e58f6"
HSTS_MAX_AGE_SECONDS = 31_536_000  # one year, the minimum the HSTS preload list accepts
NONCURRENT_VERSION_DAYS = 30
LOG_RETENTION_DAYS = 365

OAC = "OAC"
OAI = "OAI"

# Condition names.
USE_OAC = "UseOriginAccessControl"
USE_OAI = "UseOriginAccessIdentity"
HAS_ALIAS = "HasAliasDomain"
HAS_CERTIFICATE = "HasCertificate"


@dataclass(frozen=True)
class Params:
    api_url: Parameter
    files_bucket_name: Parameter
    alias_domain: Parameter
    certificate_arn: Parameter
    origin_access: Parameter


@dataclass(frozen=True)
class Buckets:
    site: s3.Bucket
    logs: s3.Bucket


@dataclass(frozen=True)
class OriginAccess:
    control: cloudfront.OriginAccessControl
    identity: cloudfront.CloudFrontOriginAccessIdentity


def build(settings: Settings) -> Template:
    t = Template(Description=f"{settings.project}: website (private S3 bucket behind CloudFront)")
    t.set_version("2010-09-09")
    params = add_parameters(t)
    buckets = add_buckets(t)
    access = add_origin_access(t)
    headers = add_response_headers_policy(t, params)
    distribution = add_distribution(t, params, buckets, access, headers)
    add_site_bucket_policy(t, buckets.site, access, distribution)
    add_outputs(t, params, buckets, distribution)
    return t


def add_parameters(t: Template) -> Params:
    params = Params(
        api_url=t.add_parameter(
            Parameter(
                "ApiUrl",
                Type="String",
                Description="The API's base URL (core stack output ApiUrl), "
                "allowed in the CSP's connect-src",
                AllowedPattern=r"^https://[A-Za-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._~/-]*)?$",
                ConstraintDescription="an https:// URL without query or fragment",
            )
        ),
        files_bucket_name=t.add_parameter(
            Parameter(
                "FilesBucketName",
                Type="String",
                Description="The attachments bucket (core stack output FilesBucketName); "
                "browsers upload to and download from it directly",
                AllowedPattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
                ConstraintDescription="an S3 bucket name",
            )
        ),
        alias_domain=t.add_parameter(
            Parameter(
                "AliasDomain",
                Type="String",
                Default="",
                Description="Optional custom domain (e.g. todo.example.com); "
                "empty serves the site on the CloudFront domain",
                AllowedPattern=r"^$|^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$",
                ConstraintDescription="empty or a lower-case DNS name",
            )
        ),
        certificate_arn=t.add_parameter(
            Parameter(
                "CertificateArn",
                Type="String",
                Default="",
                Description="ACM certificate in us-east-1 covering AliasDomain "
                "(required with AliasDomain); empty uses CloudFront's default certificate",
                AllowedPattern=r"^$|^arn:aws[a-z-]*:acm:us-east-1:[0-9]{12}:certificate/[0-9a-f-]+$",
                ConstraintDescription="empty or an ACM certificate ARN in us-east-1",
            )
        ),
        origin_access=t.add_parameter(
            Parameter(
                "OriginAccess",
                Type="String",
                Default=OAC,
                AllowedValues=[OAC, OAI],
                Description="How CloudFront reads the bucket: OAC (origin access control, "
                "recommended) or OAI (legacy origin access identity)",
            )
        ),
    )
    t.add_condition(USE_OAC, Equals(Ref(params.origin_access), OAC))
    t.add_condition(USE_OAI, Equals(Ref(params.origin_access), OAI))
    t.add_condition(HAS_ALIAS, Not(Equals(Ref(params.alias_domain), "")))
    t.add_condition(HAS_CERTIFICATE, Not(Equals(Ref(params.certificate_arn), "")))
    # An alias without a certificate would fail late, inside CloudFront; refuse it up front.
    t.add_rule(
        "AliasDomainNeedsCertificate",
        {
            "RuleCondition": Not(Equals(Ref(params.alias_domain), "")),
            "Assertions": [
                {
                    "Assert": Not(Equals(Ref(params.certificate_arn), "")),
                    "AssertDescription": "CertificateArn is required when AliasDomain is set",
                }
            ],
        },
    )
    return params


def add_buckets(t: Template) -> Buckets:
    # SSE-S3: CloudFront log delivery and OAI cannot read or write SSE-KMS objects.
    logs = t.add_resource(
        checkov_skip(
            private_bucket(
                "WebsiteLogBucket",
                encryption=sse_s3(),
                # CloudFront standard logging writes through an ACL grant, so ACLs stay enabled.
                ownership="BucketOwnerPreferred",
                lifecycle=[
                    expiry_rule(
                        "ExpireLogs",
                        days=LOG_RETENTION_DAYS,
                        noncurrent_days=1,
                        incomplete_upload_days=1,
                    )
                ],
            ),
            ("CKV_AWS_18", "This is the access-log bucket; logging it into itself would loop."),
        )
    )
    site = t.add_resource(
        private_bucket(
            "WebsiteBucket",
            encryption=sse_s3(),
            lifecycle=[
                expiry_rule(
                    "ExpireNoncurrentVersions",
                    noncurrent_days=NONCURRENT_VERSION_DAYS,
                    incomplete_upload_days=1,
                )
            ],
            LoggingConfiguration=s3.LoggingConfiguration(
                DestinationBucketName=Ref(logs), LogFilePrefix="s3-website/"
            ),
        )
    )
    t.add_resource(
        bucket_policy(
            logs,
            Statement(
                Sid="AllowS3ServerAccessLogs",
                Effect=Allow,
                Principal=Principal("Service", "logging.s3.amazonaws.com"),
                Action=[s3_actions.PutObject],
                Resource=[sub("${<logs>.Arn}/s3-website/*", logs=logs)],
                Condition=Condition(
                    StringEquals(
                        {
                            "aws:SourceAccount": Ref("AWS::AccountId"),
                            "aws:SourceArn": GetAtt(site, "Arn"),
                        }
                    )
                ),
            ),
        )
    )
    return Buckets(site=site, logs=logs)


def add_origin_access(t: Template) -> OriginAccess:
    control = t.add_resource(
        cloudfront.OriginAccessControl(
            "WebsiteOriginAccessControl",
            Condition=USE_OAC,
            OriginAccessControlConfig=cloudfront.OriginAccessControlConfig(
                Name=Sub("${AWS::StackName}-website"),
                Description="CloudFront signs every request to the website bucket",
                OriginAccessControlOriginType="s3",
                SigningBehavior="always",
                SigningProtocol="sigv4",
            ),
        )
    )
    identity = t.add_resource(
        cloudfront.CloudFrontOriginAccessIdentity(
            "WebsiteOriginAccessIdentity",
            Condition=USE_OAI,
            CloudFrontOriginAccessIdentityConfig=cloudfront.CloudFrontOriginAccessIdentityConfig(
                Comment=Sub("${AWS::StackName} website bucket reader")
            ),
        )
    )
    return OriginAccess(control=control, identity=identity)


def content_security_policy(params: Params) -> Sub:
    """The CSP: same-origin everything; connect-src adds exactly the API, Cognito and files."""
    directives = [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self' ${<api>} https://cognito-idp.${AWS::Region}.amazonaws.com"
        " https://${<files>}.s3.${AWS::Region}.amazonaws.com",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "object-src 'none'",
    ]
    return sub("; ".join(directives), api=params.api_url, files=params.files_bucket_name)


def add_response_headers_policy(t: Template, params: Params) -> cloudfront.ResponseHeadersPolicy:
    return t.add_resource(
        cloudfront.ResponseHeadersPolicy(
            "WebsiteResponseHeadersPolicy",
            ResponseHeadersPolicyConfig=cloudfront.ResponseHeadersPolicyConfig(
                Name=Sub("${AWS::StackName}-security-headers"),
                Comment="HSTS, CSP, nosniff, frame deny, referrer policy",
                SecurityHeadersConfig=cloudfront.SecurityHeadersConfig(
                    StrictTransportSecurity=cloudfront.StrictTransportSecurity(
                        AccessControlMaxAgeSec=HSTS_MAX_AGE_SECONDS,
                        IncludeSubdomains=True,
                        Preload=True,
                        Override=True,
                    ),
                    ContentTypeOptions=cloudfront.ContentTypeOptions(Override=True),
                    FrameOptions=cloudfront.FrameOptions(FrameOption="DENY", Override=True),
                    ReferrerPolicy=cloudfront.ReferrerPolicy(
                        ReferrerPolicy="strict-origin-when-cross-origin", Override=True
                    ),
                    ContentSecurityPolicy=cloudfront.ContentSecurityPolicy(
                        ContentSecurityPolicy=content_security_policy(params), Override=True
                    ),
                ),
            ),
        )
    )


def add_distribution(
    t: Template,
    params: Params,
    buckets: Buckets,
    access: OriginAccess,
    headers: cloudfront.ResponseHeadersPolicy,
) -> cloudfront.Distribution:
    origin_id = "WebsiteBucketOrigin"
    distribution = cloudfront.Distribution(
        "WebsiteDistribution",
        DistributionConfig=cloudfront.DistributionConfig(
            Comment=Sub("${AWS::StackName} website"),
            Enabled=True,
            Aliases=If(HAS_ALIAS, [Ref(params.alias_domain)], NoValue),
            DefaultRootObject="index.html",
            HttpVersion="http2and3",
            IPV6Enabled=True,
            PriceClass="PriceClass_100",
            Origins=[
                cloudfront.Origin(
                    Id=origin_id,
                    DomainName=GetAtt(buckets.site, "RegionalDomainName"),
                    OriginAccessControlId=If(USE_OAC, GetAtt(access.control, "Id"), NoValue),
                    S3OriginConfig=cloudfront.S3OriginConfig(
                        # With OAC the OAI field must be present and empty.
                        OriginAccessIdentity=If(
                            USE_OAI,
                            sub(
                                "origin-access-identity/cloudfront/${<oai>}",
                                oai=access.identity,
                            ),
                            "",
                        )
                    ),
                )
            ],
            DefaultCacheBehavior=cloudfront.DefaultCacheBehavior(
                TargetOriginId=origin_id,
                ViewerProtocolPolicy="redirect-to-https",
                AllowedMethods=["GET", "HEAD", "OPTIONS"],
                CachedMethods=["GET", "HEAD"],
                Compress=True,
                CachePolicyId=CACHING_OPTIMIZED_POLICY_ID,
                ResponseHeadersPolicyId=Ref(headers),
            ),
            ViewerCertificate=If(
                HAS_CERTIFICATE,
                cloudfront.ViewerCertificate(
                    AcmCertificateArn=Ref(params.certificate_arn),
                    MinimumProtocolVersion="TLSv1.2_2021",
                    SslSupportMethod="sni-only",
                ),
                cloudfront.ViewerCertificate(CloudFrontDefaultCertificate=True),
            ),
            Logging=cloudfront.Logging(
                Bucket=GetAtt(buckets.logs, "RegionalDomainName"),
                Prefix="cloudfront/",
                IncludeCookies=False,
            ),
        ),
    )
    return t.add_resource(
        checkov_skip(
            distribution,
            (
                "CKV_AWS_68",
                "Static files only, no server-side logic to protect; "
                "the API keeps its own throttling. A CloudFront web ACL must live "
                "in us-east-1 and can be attached when a threat calls for it.",
            ),
            (
                "CKV_AWS_174",
                "TLSv1.2_2021 is set whenever CertificateArn is given; "
                "CloudFront's default *.cloudfront.net certificate ignores "
                "MinimumProtocolVersion, so without a certificate it cannot be set.",
            ),
        )
    )


def add_site_bucket_policy(
    t: Template,
    site: s3.Bucket,
    access: OriginAccess,
    distribution: cloudfront.Distribution,
) -> s3.BucketPolicy:
    distribution_arn = sub(
        "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${<distribution>}",
        distribution=distribution,
    )
    read_through_cloudfront = Statement(
        Sid="AllowCloudFrontRead",
        Effect=Allow,
        Principal=If(
            USE_OAC,
            Principal("Service", "cloudfront.amazonaws.com"),
            Principal("CanonicalUser", GetAtt(access.identity, "S3CanonicalUserId")),
        ),
        Action=[s3_actions.GetObject],
        Resource=[sub("${<site>.Arn}/*", site=site)],
        # OAC: only this distribution's signed requests, not any CloudFront customer's.
        Condition=If(
            USE_OAC,
            Condition(StringEquals("AWS:SourceArn", distribution_arn)),
            NoValue,
        ),
    )
    return t.add_resource(bucket_policy(site, read_through_cloudfront))


def add_outputs(
    t: Template, params: Params, buckets: Buckets, distribution: cloudfront.Distribution
) -> None:
    site_url = If(
        HAS_ALIAS,
        sub("https://${<alias>}", alias=params.alias_domain),
        sub("https://${<distribution>.DomainName}", distribution=distribution),
    )
    add_output(t, "WebsiteBucketName", Ref(buckets.site), "Bucket that holds the site's files")
    add_output(
        t, "DistributionId", Ref(distribution), "CloudFront distribution (for invalidations)"
    )
    add_output(t, "SiteUrl", site_url, "The site's public URL")
