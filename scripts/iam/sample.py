"""A stack as it would exist in a sample account: names, ARNs and tags of its resources.

The checks in tests/aws need the ARN each resource will have and whether it carries the
environment tag, without deploying anything. This module derives both from the template, the way
AWS documents them:

- Physical names. A resource without an explicit name gets `<stack>-<LogicalId>-<random>`
  (lower case for S3 buckets and ECR repositories): "CloudFormation resource custom naming",
  CloudFormation Template Reference. The random part here is a stable stand-in.
- ARNs follow the Service Authorization Reference's templates (`scripts.iam.actions`); their
  placeholders come from the resource's name or a stand-in ID, and from the resources it refers to
  (a listener's ARN holds its load balancer's name and ID).
- Tags. `make deploy` gives each stack the tag `<project>:environment=<env>`; CloudFormation copies
  stack tags to every resource whose type is taggable in its schema ("Resource tags", CloudFormation
  User Guide; `tagging.taggable`), and a template may tag a resource itself (TagSpecifications).
- Global services (IAM, CloudFront) are called in us-east-1, whatever the stack's region
  ("aws:RequestedRegion", IAM global condition context keys).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from scripts.cfn import sam
from scripts.cfn.schemas import resource_schema
from scripts.cfn.template import Resolver, deployed, references
from scripts.iam import actions

GLOBAL_SERVICES = {"iam", "cloudfront", "sts"}

# CloudFormation type -> (IAM service prefix, the IAM resource type it is).
OWN_RESOURCE_TYPE: Mapping[str, tuple[str, str]] = {
    "AWS::ApiGatewayV2::Api": ("apigateway", "Api"),
    "AWS::ApiGatewayV2::Authorizer": ("apigateway", "Authorizer"),
    "AWS::ApiGatewayV2::Integration": ("apigateway", "Integration"),
    "AWS::ApiGatewayV2::Route": ("apigateway", "Route"),
    "AWS::ApiGatewayV2::Stage": ("apigateway", "Stage"),
    "AWS::ApiGatewayV2::VpcLink": ("apigateway", "VpcLink"),
    "AWS::ApplicationAutoScaling::ScalableTarget": ("application-autoscaling", "ScalableTarget"),
    "AWS::AutoScaling::AutoScalingGroup": ("autoscaling", "autoScalingGroup"),
    "AWS::CloudFront::CloudFrontOriginAccessIdentity": ("cloudfront", "origin-access-identity"),
    "AWS::CloudFront::Distribution": ("cloudfront", "distribution"),
    "AWS::CloudFront::OriginAccessControl": ("cloudfront", "origin-access-control"),
    "AWS::CloudFront::ResponseHeadersPolicy": ("cloudfront", "response-headers-policy"),
    "AWS::Chatbot::SlackChannelConfiguration": ("chatbot", "ChatbotConfiguration"),
    "AWS::CloudWatch::Alarm": ("cloudwatch", "alarm"),
    "AWS::CloudWatch::Dashboard": ("cloudwatch", "dashboard"),
    "AWS::Cognito::UserPool": ("cognito-idp", "userpool"),
    "AWS::DynamoDB::Table": ("dynamodb", "table"),
    "AWS::EC2::EIP": ("ec2", "elastic-ip"),
    "AWS::EC2::FlowLog": ("ec2", "vpc-flow-log"),
    "AWS::EC2::InternetGateway": ("ec2", "internet-gateway"),
    "AWS::EC2::LaunchTemplate": ("ec2", "launch-template"),
    "AWS::EC2::NatGateway": ("ec2", "natgateway"),
    "AWS::EC2::NetworkAcl": ("ec2", "network-acl"),
    "AWS::EC2::RouteTable": ("ec2", "route-table"),
    "AWS::EC2::SecurityGroup": ("ec2", "security-group"),
    "AWS::EC2::Subnet": ("ec2", "subnet"),
    "AWS::EC2::VPC": ("ec2", "vpc"),
    "AWS::EC2::VPCEndpoint": ("ec2", "vpc-endpoint"),
    "AWS::ECR::Repository": ("ecr", "repository"),
    "AWS::Events::Rule": ("events", "rule-on-default-event-bus"),
    "AWS::ECS::CapacityProvider": ("ecs", "capacity-provider"),
    "AWS::ECS::Cluster": ("ecs", "cluster"),
    "AWS::ECS::Service": ("ecs", "service"),
    "AWS::ECS::TaskDefinition": ("ecs", "task-definition"),
    "AWS::ElasticLoadBalancingV2::Listener": ("elasticloadbalancing", "listener/app"),
    "AWS::ElasticLoadBalancingV2::ListenerRule": ("elasticloadbalancing", "listener-rule/app"),
    "AWS::ElasticLoadBalancingV2::LoadBalancer": ("elasticloadbalancing", "loadbalancer/app/"),
    "AWS::ElasticLoadBalancingV2::TargetGroup": ("elasticloadbalancing", "targetgroup"),
    "AWS::IAM::InstanceProfile": ("iam", "instance-profile"),
    "AWS::IAM::ManagedPolicy": ("iam", "policy"),
    "AWS::IAM::OIDCProvider": ("iam", "oidc-provider"),
    "AWS::IAM::Role": ("iam", "role"),
    "AWS::KMS::Alias": ("kms", "alias"),
    "AWS::KMS::Key": ("kms", "key"),
    "AWS::Lambda::Function": ("lambda", "function"),
    "AWS::Logs::LogGroup": ("logs", "log-group"),
    "AWS::S3::Bucket": ("s3", "bucket"),
    "AWS::SecretsManager::Secret": ("secretsmanager", "Secret"),
    "AWS::SNS::Topic": ("sns", "topic"),
}

# The property that holds a resource's name, where the template may set one.
NAME_PROPERTY: Mapping[str, str] = {
    "AWS::AutoScaling::AutoScalingGroup": "AutoScalingGroupName",
    "AWS::CloudWatch::Alarm": "AlarmName",
    "AWS::CloudWatch::Dashboard": "DashboardName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::ECR::Repository": "RepositoryName",
    "AWS::ECS::CapacityProvider": "Name",
    "AWS::ECS::Cluster": "ClusterName",
    "AWS::ECS::Service": "ServiceName",
    "AWS::ECS::TaskDefinition": "Family",
    "AWS::IAM::InstanceProfile": "InstanceProfileName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::IAM::Role": "RoleName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::KMS::Alias": "AliasName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::SecretsManager::Secret": "Name",
}
LOWER_CASE_NAMES = {"AWS::S3::Bucket", "AWS::ECR::Repository"}


@dataclass(frozen=True)
class Deployment:
    """A sample environment: where the stacks of `environment` deploy, and what they are named."""

    environment: str
    account: str = "111122223333"
    region: str = "eu-west-1"
    partition: str = "aws"
    project: str = "todo"

    @property
    def tag_key(self) -> str:
        return f"{self.project}:environment"

    def stack_name(self, layer: str) -> str:
        return f"{self.project}-{self.environment}-{layer}"

    @property
    def code_package(self) -> dict[str, str]:
        """Where `make deploy` puts the functions' code: the CI stack's artifact bucket."""
        bucket = f"{self.stack_name('ci')}-deployartifactbucket-{fake_id('artifacts')[:12]}"
        return {"Bucket": bucket.lower(), "Key": f"{self.stack_name('core')}/code/0000.zip"}

    def pseudo(self, layer: str) -> dict[str, str]:
        return {
            "AWS::AccountId": self.account,
            "AWS::Region": self.region,
            "AWS::Partition": self.partition,
            "AWS::StackName": self.stack_name(layer),
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackId": (
                f"arn:{self.partition}:cloudformation:{self.region}:{self.account}:stack/"
                f"{self.stack_name(layer)}/00000000-0000-0000-0000-000000000000"
            ),
        }


@dataclass
class SampleStack:
    """A deployed template and the identities (ARN placeholder values) of its resources."""

    template: Mapping[str, Any]
    layer: str
    deployment: Deployment
    resources: Mapping[str, Mapping[str, Any]]
    resolver: Resolver
    identities: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.deployment.stack_name(self.layer)


def fake_id(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:17]


def generated_name(stack: str, logical_id: str, resource_type: str) -> str:
    """The name CloudFormation gives a resource the template does not name (sample suffix)."""
    suffix = fake_id(stack, logical_id)[:12].upper()
    name = f"{stack}-{logical_id}-{suffix}"
    return name.lower() if resource_type in LOWER_CASE_NAMES else name


def load_stack(
    template: Mapping[str, Any], layer: str, deployment: Deployment, parameters: Mapping[str, str]
) -> SampleStack:
    """The template as it deploys with `parameters` in `deployment`, its resources' identities
    worked out."""
    pseudo = deployment.pseudo(layer)
    expanded = sam.expand(template, parameters, code=deployment.code_package)
    shaped = deployed(expanded, parameters, pseudo)
    resolver = Resolver(shaped, shaped["Parameters"], pseudo)
    stack = SampleStack(shaped, layer, deployment, shaped["Resources"], resolver)
    for logical_id in stack.resources:
        _identity(stack, logical_id, ())
    return stack


def own_placeholders(service: str, iam_type: str) -> list[str]:
    """The placeholders of an IAM resource type's ARN template, in order."""
    template = actions.arn_template(service, iam_type)
    return re.findall(r"\$\{([A-Za-z]+)\}", template)


def physical_name(stack: SampleStack, logical_id: str) -> str:
    """The resource's name: the one the template gives it, else the generated one."""
    resource = stack.resources[logical_id]
    rtype = str(resource["Type"])
    prop = NAME_PROPERTY.get(rtype)
    if prop and prop in (resource.get("Properties") or {}):
        value = stack.resolver.text(resource["Properties"][prop], f"{logical_id}.{prop}")
        return value.removeprefix("alias/")
    return generated_name(stack.name, logical_id, rtype)


def _identity(stack: SampleStack, logical_id: str, seen: tuple[str, ...]) -> dict[str, str]:
    """ARN placeholder values for a resource: from the resources it refers to, then its own."""
    if logical_id in stack.identities:
        return stack.identities[logical_id]
    resource = stack.resources[logical_id]
    rtype = str(resource["Type"])
    identity: dict[str, str] = {}
    for ref in references(resource.get("Properties") or {}):
        if ref in stack.resources and ref not in seen and ref != logical_id:
            for key, value in _identity(stack, ref, (*seen, logical_id)).items():
                identity.setdefault(key, value)
    own = OWN_RESOURCE_TYPE.get(rtype)
    if own:
        placeholders = own_placeholders(*own)
        # The resource's own placeholders (the last ones of its ARN) win over a parent's.
        for key in placeholders:
            if key in ("Partition", "Region", "Account"):
                continue
            if key in identity and key != placeholders[-1]:
                continue
            identity[key] = _placeholder_value(stack, logical_id, key)
    stack.identities[logical_id] = identity
    return identity


def _placeholder_value(stack: SampleStack, logical_id: str, key: str) -> str:
    if "Name" in key or key == "Alias":
        return physical_name(stack, logical_id)
    if key == "TaskDefinitionRevisionNumber":
        return "1"
    if key == "SecretId":
        # A secret's ARN ends in its name, a hyphen and six random characters (Secrets Manager
        # User Guide, "Secret ARNs").
        return physical_name(stack, logical_id) + "-" + fake_id(stack.name, logical_id)[:6]
    return f"{key.lower().removesuffix('id')}-{fake_id(stack.name, logical_id, key)}"


def resource_arn(stack: SampleStack, logical_id: str) -> str | None:
    own = OWN_RESOURCE_TYPE.get(str(stack.resources[logical_id]["Type"]))
    if own is None:
        return None
    return sample_arn(
        stack.deployment, actions.arn_template(*own), stack.identities[logical_id], own[0]
    )


def sample_arn(
    deployment: Deployment, template: str, values: Mapping[str, str], service: str
) -> str:
    """An ARN template filled for the deployment; a placeholder without a value gets a stand-in."""
    region = "us-east-1" if service in GLOBAL_SERVICES else deployment.region
    known = {
        "Partition": deployment.partition,
        "Region": region,
        "Account": deployment.account,
        **values,
    }

    def replace(match: re.Match[str]) -> str:
        key = match.group(1)
        return known.get(key, f"{key.lower()}-{fake_id(key)}")

    return re.sub(r"\$\{([A-Za-z]+)\}", replace, template)


def tags_itself(stack: SampleStack, logical_id: str) -> bool:
    """The template sets the environment tag on the resource itself (TagSpecifications, Tags)."""
    properties = stack.resources[logical_id].get("Properties") or {}
    key = stack.deployment.tag_key

    def has(value: Any) -> bool:
        if isinstance(value, dict):
            return value.get("Key") == key or any(has(v) for v in value.values())
        if isinstance(value, list):
            return any(has(v) for v in value)
        return False

    return has(properties.get("Tags")) or has(properties.get("TagSpecifications"))


def tagged(stack: SampleStack, logical_id: str) -> bool:
    """Stack tags reach every taggable type; a resource may also be tagged by the template."""
    rtype = str(stack.resources[logical_id]["Type"])
    return resource_schema(rtype).taggable or tags_itself(stack, logical_id)


def tag_on_create(stack: SampleStack, logical_id: str) -> bool:
    rtype = str(stack.resources[logical_id]["Type"])
    tagging = resource_schema(rtype).raw.get("tagging") or {}
    return bool(tagging.get("tagOnCreate")) or tags_itself(stack, logical_id)
