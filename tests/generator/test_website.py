"""Invariants of the website stack that checkov does not cover, in every parameter combination.

The template is resolved the way CloudFormation would resolve it for given parameter values
(Conditions, Fn::If, AWS::NoValue), so each mode (OAC/OAI, with/without a custom domain) is
checked as it would deploy, not just as text.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from generator import render_all, website
from scripts.cfn import template as cfn_template
from scripts.cfn.template import parse_template

PSEUDO = {"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012", "AWS::Partition": "aws"}
DEFAULTS = {"ApiUrl": "https://api.example.test", "FilesBucketName": "todo-files-bucket"}
WITH_DOMAIN = {
    "AliasDomain": "todo.example.com",
    "CertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-0000-1111-2222",
}


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    """The website template as reviewers read it: the YAML `make templates` writes."""
    return parse_template(render_all()["website.yaml"])


def deployed(template: dict[str, Any], **given: str) -> dict[str, Any]:
    """The template as CloudFormation would create it for these parameter values."""
    return cfn_template.deployed(template, {**DEFAULTS, **given}, PSEUDO)


def of_type(stack: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {n: r for n, r in stack["Resources"].items() if r["Type"] == kind}


def the_one(stack: dict[str, Any], kind: str) -> tuple[str, dict[str, Any]]:
    found = of_type(stack, kind)
    assert len(found) == 1, f"expected one {kind}, found {sorted(found)}"
    return next(iter(found.items()))


def distribution_config(stack: dict[str, Any]) -> dict[str, Any]:
    config: dict[str, Any] = the_one(stack, "AWS::CloudFront::Distribution")[1]["Properties"][
        "DistributionConfig"
    ]
    return config


def bucket_policy_for(stack: dict[str, Any], bucket: str) -> dict[str, Any]:
    policies: list[dict[str, Any]] = [
        p["Properties"]["PolicyDocument"]
        for p in of_type(stack, "AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": bucket}
    ]
    assert len(policies) == 1, f"expected one bucket policy on {bucket}"
    return policies[0]


def site_bucket(stack: dict[str, Any]) -> str:
    """The bucket the distribution serves from, found by following the origin's reference."""
    (origin,) = distribution_config(stack)["Origins"]
    logical_id, attribute = origin["DomainName"]["Fn::GetAtt"]
    assert attribute == "RegionalDomainName"
    return str(logical_id)


MODES = [
    pytest.param({}, id="defaults"),
    pytest.param({"OriginAccess": "OAI"}, id="oai"),
    pytest.param(WITH_DOMAIN, id="custom-domain"),
    pytest.param({"OriginAccess": "OAI", **WITH_DOMAIN}, id="oai-custom-domain"),
]


@pytest.mark.parametrize("given", MODES)
def test_every_bucket_is_private_encrypted_versioned_and_retained(
    template: dict[str, Any], given: dict[str, str]
) -> None:
    stack = deployed(template, **given)
    buckets = of_type(stack, "AWS::S3::Bucket")
    assert len(buckets) == 2, "the site bucket and its log bucket"
    for name, bucket in buckets.items():
        props = bucket["Properties"]
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }, name
        assert "AccessControl" not in props, f"{name} must not grant a canned ACL"
        assert "WebsiteConfiguration" not in props, f"{name} must not be an S3 website endpoint"
        (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in {"AES256", "aws:kms"}
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}, name
        rules = props["LifecycleConfiguration"]["Rules"]
        assert any(
            r["Status"] == "Enabled" and "NoncurrentVersionExpiration" in r for r in rules
        ), f"{name} keeps old versions forever"
        assert bucket["DeletionPolicy"] == "Retain", name
        assert bucket["UpdateReplacePolicy"] == "Retain", name


@pytest.mark.parametrize("given", MODES)
def test_every_bucket_denies_plain_http(template: dict[str, Any], given: dict[str, str]) -> None:
    stack = deployed(template, **given)
    for name in of_type(stack, "AWS::S3::Bucket"):
        statements = bucket_policy_for(stack, name)["Statement"]
        denies = [
            s
            for s in statements
            if s["Effect"] == "Deny"
            and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            and s["Principal"] == "*"
            and s["Action"] == ["s3:*"]
        ]
        assert len(denies) == 1, f"{name} has no TLS-only statement"
        assert denies[0]["Resource"] == [
            {"Fn::GetAtt": [name, "Arn"]},
            {"Fn::Sub": "${" + name + ".Arn}/*"},
        ]


def test_site_bucket_takes_no_acls(template: dict[str, Any]) -> None:
    stack = deployed(template)
    props = stack["Resources"][site_bucket(stack)]["Properties"]
    assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}


@pytest.mark.parametrize("given", MODES)
def test_only_cloudfront_may_read_the_site_bucket(
    template: dict[str, Any], given: dict[str, str]
) -> None:
    stack = deployed(template, **given)
    bucket = site_bucket(stack)
    allows = [s for s in bucket_policy_for(stack, bucket)["Statement"] if s["Effect"] == "Allow"]
    assert len(allows) == 1
    (allow,) = allows
    assert allow["Action"] == ["s3:GetObject"]
    assert allow["Resource"] == [{"Fn::Sub": "${" + bucket + ".Arn}/*"}]
    assert allow["Principal"] not in ("*", {"AWS": "*"})


def test_oac_mode_signs_requests_and_scopes_the_grant_to_this_distribution(
    template: dict[str, Any],
) -> None:
    stack = deployed(template, OriginAccess="OAC")
    oac_id, oac = the_one(stack, "AWS::CloudFront::OriginAccessControl")
    assert not of_type(stack, "AWS::CloudFront::CloudFrontOriginAccessIdentity")
    config = oac["Properties"]["OriginAccessControlConfig"]
    assert (config["SigningBehavior"], config["SigningProtocol"]) == ("always", "sigv4")
    assert config["OriginAccessControlOriginType"] == "s3"

    (origin,) = distribution_config(stack)["Origins"]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": [oac_id, "Id"]}
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}

    distribution_id, _ = the_one(stack, "AWS::CloudFront::Distribution")
    (allow,) = [
        s
        for s in bucket_policy_for(stack, site_bucket(stack))["Statement"]
        if s["Effect"] == "Allow"
    ]
    assert allow["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    source_arn = allow["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"]
    assert source_arn == (
        "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${"
        + distribution_id
        + "}"
    )


def test_oai_mode_grants_the_identity_and_nothing_else(template: dict[str, Any]) -> None:
    stack = deployed(template, OriginAccess="OAI")
    oai_id, _ = the_one(stack, "AWS::CloudFront::CloudFrontOriginAccessIdentity")
    assert not of_type(stack, "AWS::CloudFront::OriginAccessControl")

    (origin,) = distribution_config(stack)["Origins"]
    assert "OriginAccessControlId" not in origin
    assert origin["S3OriginConfig"] == {
        "OriginAccessIdentity": {"Fn::Sub": "origin-access-identity/cloudfront/${" + oai_id + "}"}
    }
    (allow,) = [
        s
        for s in bucket_policy_for(stack, site_bucket(stack))["Statement"]
        if s["Effect"] == "Allow"
    ]
    assert allow["Principal"] == {"CanonicalUser": {"Fn::GetAtt": [oai_id, "S3CanonicalUserId"]}}
    assert "Condition" not in allow


def test_origin_access_defaults_to_oac_and_accepts_only_the_two_modes(
    template: dict[str, Any],
) -> None:
    parameter = template["Parameters"]["OriginAccess"]
    assert parameter["Default"] == "OAC"
    assert parameter["AllowedValues"] == ["OAC", "OAI"]


@pytest.mark.parametrize("given", MODES)
def test_viewers_use_https_only(template: dict[str, Any], given: dict[str, str]) -> None:
    config = distribution_config(deployed(template, **given))
    behaviors = [config["DefaultCacheBehavior"], *config.get("CacheBehaviors", [])]
    assert {b["ViewerProtocolPolicy"] for b in behaviors} == {"redirect-to-https"}
    assert config["HttpVersion"] == "http2and3"
    assert config["DefaultRootObject"] == "index.html"
    assert config["Enabled"] is True


def test_custom_domain_uses_the_certificate_with_tls_1_2(template: dict[str, Any]) -> None:
    stack = deployed(template, **WITH_DOMAIN)
    config = distribution_config(stack)
    assert config["Aliases"] == [{"Ref": "AliasDomain"}]
    assert config["ViewerCertificate"] == {
        "AcmCertificateArn": {"Ref": "CertificateArn"},
        "MinimumProtocolVersion": "TLSv1.2_2021",
        "SslSupportMethod": "sni-only",
    }
    assert stack["Outputs"]["SiteUrl"]["Value"] == {"Fn::Sub": "https://${AliasDomain}"}


def test_without_a_domain_the_default_certificate_serves_the_cloudfront_name(
    template: dict[str, Any],
) -> None:
    stack = deployed(template)
    config = distribution_config(stack)
    assert "Aliases" not in config
    assert config["ViewerCertificate"] == {"CloudFrontDefaultCertificate": True}
    distribution_id, _ = the_one(stack, "AWS::CloudFront::Distribution")
    assert stack["Outputs"]["SiteUrl"]["Value"] == {
        "Fn::Sub": "https://${" + distribution_id + ".DomainName}"
    }


def test_an_alias_without_a_certificate_is_refused_by_a_rule(template: dict[str, Any]) -> None:
    rules = template["Rules"]
    (rule,) = rules.values()
    assert rule["RuleCondition"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AliasDomain"}, ""]}]}
    (assertion,) = rule["Assertions"]
    assert assertion["Assert"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "CertificateArn"}, ""]}]}


def test_certificate_must_come_from_us_east_1(template: dict[str, Any]) -> None:
    pattern = re.compile(template["Parameters"]["CertificateArn"]["AllowedPattern"])
    assert pattern.fullmatch("")
    assert pattern.fullmatch(WITH_DOMAIN["CertificateArn"])
    assert not pattern.fullmatch(WITH_DOMAIN["CertificateArn"].replace("us-east-1", "eu-west-1"))


def _security_headers(stack: dict[str, Any]) -> dict[str, Any]:
    config = distribution_config(stack)
    policy_id = config["DefaultCacheBehavior"]["ResponseHeadersPolicyId"]["Ref"]
    policy = stack["Resources"][policy_id]
    assert policy["Type"] == "AWS::CloudFront::ResponseHeadersPolicy"
    headers: dict[str, Any] = policy["Properties"]["ResponseHeadersPolicyConfig"][
        "SecurityHeadersConfig"
    ]
    return headers


def test_security_headers(template: dict[str, Any]) -> None:
    headers = _security_headers(deployed(template))
    assert headers["StrictTransportSecurity"] == {
        "AccessControlMaxAgeSec": 31_536_000,
        "IncludeSubdomains": True,
        "Preload": True,
        "Override": True,
    }
    assert headers["ContentTypeOptions"] == {"Override": True}
    assert headers["FrameOptions"] == {"FrameOption": "DENY", "Override": True}
    assert headers["ReferrerPolicy"] == {
        "ReferrerPolicy": "strict-origin-when-cross-origin",
        "Override": True,
    }
    assert headers["ContentSecurityPolicy"]["Override"] is True


def _csp(template: dict[str, Any]) -> dict[str, list[str]]:
    csp = _security_headers(deployed(template))["ContentSecurityPolicy"]
    text = csp["ContentSecurityPolicy"]["Fn::Sub"]
    assert isinstance(text, str), "the CSP is one Sub string over the parameters"
    directives: dict[str, list[str]] = {}
    for directive in text.split(";"):
        name, *sources = directive.split()
        assert name not in directives, f"{name} appears twice"
        directives[name] = sources
    return directives


def test_csp_connect_src_names_exactly_the_api_cognito_and_files_bucket(
    template: dict[str, Any],
) -> None:
    assert _csp(template)["connect-src"] == [
        "'self'",
        "${ApiUrl}",
        "https://cognito-idp.${AWS::Region}.amazonaws.com",
        "https://${FilesBucketName}.s3.${AWS::Region}.amazonaws.com",
    ]


def test_csp_allows_nothing_else_from_elsewhere(template: dict[str, Any]) -> None:
    assert _csp(template) == {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": _csp(template)["connect-src"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "object-src": ["'none'"],
    }


def test_csp_variables_are_parameters_or_pseudo_parameters(template: dict[str, Any]) -> None:
    names = {n for sources in _csp(template).values() for s in sources for n in _sub_vars(s)}
    assert names == {"ApiUrl", "FilesBucketName", "AWS::Region"}
    assert {"ApiUrl", "FilesBucketName"} <= set(template["Parameters"])


def _sub_vars(text: str) -> list[str]:
    return re.findall(r"\$\{([^}!]+)\}", text)


@pytest.mark.parametrize("given", MODES)
def test_cloudfront_logs_to_the_log_bucket(template: dict[str, Any], given: dict[str, str]) -> None:
    stack = deployed(template, **given)
    logging = distribution_config(stack)["Logging"]
    log_bucket, attribute = logging["Bucket"]["Fn::GetAtt"]
    assert attribute == "RegionalDomainName"
    assert log_bucket != site_bucket(stack)
    props = stack["Resources"][log_bucket]["Properties"]
    # Standard logging delivers through an ACL grant; enforced ownership would drop every log.
    assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]}
    site = stack["Resources"][site_bucket(stack)]["Properties"]
    assert site["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": log_bucket}


def test_caching_uses_a_managed_policy(template: dict[str, Any]) -> None:
    behavior = distribution_config(deployed(template))["DefaultCacheBehavior"]
    assert behavior["CachePolicyId"] == website.CACHING_OPTIMIZED_POLICY_ID
    assert "ForwardedValues" not in behavior
    assert behavior["AllowedMethods"] == ["GET", "HEAD", "OPTIONS"]


def test_outputs_are_the_contract_and_exported_with_the_stack_name(
    template: dict[str, Any],
) -> None:
    outputs = template["Outputs"]
    assert set(outputs) == {"WebsiteBucketName", "DistributionId", "SiteUrl"}
    for key, output in outputs.items():
        assert output["Export"] == {"Name": {"Fn::Sub": "${AWS::StackName}-" + key}}


def test_parameters_are_the_contract(template: dict[str, Any]) -> None:
    params = template["Parameters"]
    assert set(params) == {
        "ApiUrl",
        "FilesBucketName",
        "AliasDomain",
        "CertificateArn",
        "OriginAccess",
    }
    assert params["AliasDomain"]["Default"] == ""
    assert params["CertificateArn"]["Default"] == ""
    assert "Default" not in params["ApiUrl"]
    assert "Default" not in params["FilesBucketName"]


def test_deployed_resolves_conditions_like_cloudformation(template: dict[str, Any]) -> None:
    """The resolver these tests rely on must itself tell the modes apart."""
    oac = deployed(template)
    oai = deployed(template, OriginAccess="OAI")
    assert set(oac["Resources"]) != set(oai["Resources"])
    assert "AWS::NoValue" not in str(oac)
    assert "Fn::If" not in str(oac)
    assert "Fn::If" not in str(oai)


def test_only_the_site_buckets_server_access_logs_may_be_written_to_the_log_bucket(
    template: dict[str, Any],
) -> None:
    stack = deployed(template)
    site = site_bucket(stack)
    log_bucket = stack["Resources"][site]["Properties"]["LoggingConfiguration"][
        "DestinationBucketName"
    ]["Ref"]
    (allow,) = [
        s for s in bucket_policy_for(stack, log_bucket)["Statement"] if s["Effect"] == "Allow"
    ]
    assert allow["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert allow["Action"] == ["s3:PutObject"]
    assert allow["Condition"] == {
        "StringEquals": {
            "aws:SourceAccount": {"Ref": "AWS::AccountId"},
            "aws:SourceArn": {"Fn::GetAtt": [site, "Arn"]},
        }
    }
