"""A monthly estimate of the core stack per resource, from the template and an environment's values.

`estimate` is pure: the template as it deploys with the environment's parameters (its Conditions
decide which resources exist: NAT gateways or interface endpoints, instances or Fargate tasks),
the price table (prices-us-east-1.json, dated, with its sources) and stated usage assumptions
(`Usage`), which the output prints. Always-on resources are priced for 730 hours; what scales
with traffic is priced at the assumed usage. It leaves out what no template tells: data transfer
out to the internet and between AZs, free tiers other than Cognito's, CloudFront (the website
stack), taxes and support plans.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from scripts.cfn.template import deployed

HOURS = 730  # a month, as AWS's pricing pages count it
PRICES = Path(__file__).with_name("prices-us-east-1.json")
PRICED_REGION = "us-east-1"


class CostError(Exception):
    """The estimate cannot be made: another region without a factor, an unpriced size."""

    exit_code = 2


@dataclass(frozen=True)
class Usage:
    """What the estimate assumes per month where the price depends on traffic."""

    api_requests_million: float = 1.0
    egress_gb: float = 20.0  # through the NAT gateways, or through the interface endpoints
    alb_lcu: float = 1.0  # average load balancer capacity units
    log_gb: float = 5.0  # service, API, exec and flow logs ingested
    log_stored_gb: float = 15.0
    users_mau: float = 1000.0
    dynamodb_reads_million: float = 2.0
    dynamodb_writes_million: float = 0.5
    dynamodb_gb: float = 1.0
    s3_gb: float = 10.0  # attachments, versions and access logs
    s3_puts_thousand: float = 20.0
    s3_gets_thousand: float = 100.0
    ecr_gb: float = 3.0  # 30 kept images per repository, shared layers
    kms_requests_10k: float = 50.0
    container_insights_metrics: float = 40.0  # cluster, service and task metrics

    def with_values(self, given: Mapping[str, str]) -> Usage:
        known = {f.name for f in fields(self)}
        unknown = sorted(set(given) - known)
        if unknown:
            raise CostError(
                f"unknown usage {', '.join(unknown)} (known: {', '.join(sorted(known))})"
            )
        values = {k: float(v) for k, v in given.items()}
        return Usage(**{**self.__dict__, **values})


@dataclass(frozen=True)
class Line:
    resource: str  # logical ID or a group ("3 alarms")
    kind: str
    quantity: str
    monthly: float


@dataclass(frozen=True)
class Prices:
    values: Mapping[str, Any]
    factor: float
    recorded: str
    region: str

    def __getitem__(self, key: str) -> float:
        return float(self.values[key]) * self.factor

    def instance_hour(self, instance_type: str) -> float:
        table = self.values["ec2_hour"]
        if instance_type not in table:
            raise CostError(
                f"no price for instance type {instance_type} in {PRICES.name} "
                f"(priced: {', '.join(sorted(table))}): add it from the EC2 pricing page"
            )
        return float(table[instance_type]) * self.factor


def load_prices(region: str, factor: float | None, path: Path = PRICES) -> Prices:
    table = json.loads(path.read_text())
    if region != table["region"] and factor is None:
        raise CostError(
            f"the price table is {table['region']}'s; for {region} give --region-factor "
            f"(its prices divided by {table['region']}'s, for example 1.1) or estimate for "
            f"{table['region']}"
        )
    return Prices(table["prices"], factor or 1.0, table["recorded"], region)


def _of_type(template: Mapping[str, Any], resource_type: str) -> dict[str, Mapping[str, Any]]:
    return {
        name: resource.get("Properties") or {}
        for name, resource in template["Resources"].items()
        if resource["Type"] == resource_type
    }


def _value(template: Mapping[str, Any], value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return template["Parameters"][value["Ref"]]
    return value


def estimate(
    template: Mapping[str, Any],
    parameters: Mapping[str, str],
    prices: Prices,
    usage: Usage,
) -> list[Line]:
    pseudo = {
        "AWS::Region": prices.region,
        "AWS::AccountId": "123456789012",
        "AWS::Partition": "aws",
    }
    stack = deployed(template, parameters, pseudo)
    lines: list[Line] = []

    def add(resource: str, kind: str, quantity: str, monthly: float) -> None:
        lines.append(Line(resource, kind, quantity, round(monthly, 2)))

    nats = _of_type(stack, "AWS::EC2::NatGateway")
    for name in nats:
        add(name, "NAT gateway", f"{HOURS} h", HOURS * prices["nat_gateway_hour"])
    for name in _of_type(stack, "AWS::EC2::EIP"):
        add(name, "public IPv4 address", f"{HOURS} h", HOURS * prices["public_ipv4_hour"])
    if nats:
        add(
            "NAT data",
            "NAT gateway data processed",
            f"{usage.egress_gb:g} GB",
            usage.egress_gb * prices["nat_gateway_gb"],
        )

    interface = {
        name: props
        for name, props in _of_type(stack, "AWS::EC2::VPCEndpoint").items()
        if props.get("VpcEndpointType") == "Interface"
    }
    for name, props in interface.items():
        azs = len(props["SubnetIds"])
        add(
            name,
            "interface endpoint",
            f"{azs} AZ x {HOURS} h",
            azs * HOURS * prices["interface_endpoint_az_hour"],
        )
    if interface:
        add(
            "Endpoint data",
            "interface endpoint data processed",
            f"{usage.egress_gb:g} GB",
            usage.egress_gb * prices["interface_endpoint_gb"],
        )

    for name in _of_type(stack, "AWS::ElasticLoadBalancingV2::LoadBalancer"):
        add(
            name,
            "Application Load Balancer",
            f"{HOURS} h + {usage.alb_lcu:g} LCU",
            HOURS * (prices["alb_hour"] + usage.alb_lcu * prices["alb_lcu_hour"]),
        )

    _compute(stack, prices, add)

    keys = _of_type(stack, "AWS::KMS::Key")
    for name in keys:
        add(name, "KMS key", "1 key", prices["kms_key_month"])
    if keys:
        add(
            "KMS requests",
            "KMS requests",
            f"{usage.kms_requests_10k * 10:g}k",
            usage.kms_requests_10k * prices["kms_10k_requests"],
        )

    alarms = _of_type(stack, "AWS::CloudWatch::Alarm")
    metrics = sum(
        max(1, sum(1 for q in props.get("Metrics", []) if "MetricStat" in q))
        for props in alarms.values()
    )
    add(
        f"{len(alarms)} alarms",
        "CloudWatch alarm metrics",
        f"{metrics}",
        metrics * prices["cloudwatch_alarm_metric_month"],
    )
    for name in _of_type(stack, "AWS::CloudWatch::Dashboard"):
        add(name, "CloudWatch dashboard", "1", prices["cloudwatch_dashboard_month"])
    add(
        "Container Insights",
        "CloudWatch custom metrics",
        f"{usage.container_insights_metrics:g}",
        usage.container_insights_metrics * prices["cloudwatch_custom_metric_month"],
    )
    groups = _of_type(stack, "AWS::Logs::LogGroup")
    add(
        f"{len(groups)} log groups",
        "CloudWatch Logs",
        f"{usage.log_gb:g} GB in, {usage.log_stored_gb:g} GB kept",
        usage.log_gb * prices["logs_ingest_gb"]
        + usage.log_stored_gb * prices["logs_store_gb_month"],
    )

    for name in _of_type(stack, "AWS::Cognito::UserPool"):
        billed = max(0.0, usage.users_mau - prices.values["cognito_free_mau"])
        add(
            name,
            "Cognito (Essentials)",
            f"{usage.users_mau:g} MAU",
            billed * prices["cognito_essentials_mau"],
        )

    tables = _of_type(stack, "AWS::DynamoDB::Table")
    for name in tables:
        share = 1 / len(tables)
        add(
            name,
            "DynamoDB on demand",
            f"{usage.dynamodb_reads_million * share:g}M reads, "
            f"{usage.dynamodb_writes_million * share:g}M writes, {usage.dynamodb_gb * share:g} GB",
            share
            * (
                usage.dynamodb_reads_million * prices["dynamodb_million_reads"]
                + usage.dynamodb_writes_million * prices["dynamodb_million_writes"]
                + usage.dynamodb_gb
                * (prices["dynamodb_gb_month"] + prices["dynamodb_pitr_gb_month"])
            ),
        )
    buckets = _of_type(stack, "AWS::S3::Bucket")
    add(
        f"{len(buckets)} buckets",
        "S3 Standard",
        f"{usage.s3_gb:g} GB, {usage.s3_puts_thousand:g}k PUT, {usage.s3_gets_thousand:g}k GET",
        usage.s3_gb * prices["s3_gb_month"]
        + usage.s3_puts_thousand * prices["s3_thousand_puts"]
        + usage.s3_gets_thousand * prices["s3_thousand_gets"],
    )
    for name in (
        *_of_type(stack, "AWS::ApiGatewayV2::Api"),
        *_of_type(stack, "AWS::Serverless::HttpApi"),
    ):
        add(
            name,
            "HTTP API",
            f"{usage.api_requests_million:g}M requests",
            usage.api_requests_million * prices["http_api_million_requests"],
        )
    repositories = _of_type(stack, "AWS::ECR::Repository")
    add(
        f"{len(repositories)} repositories",
        "ECR storage",
        f"{usage.ecr_gb:g} GB",
        usage.ecr_gb * prices["ecr_gb_month"],
    )
    for name in _of_type(stack, "AWS::SecretsManager::Secret"):
        add(name, "Secrets Manager secret", "1", prices["secret_month"])
    return lines


def _compute(stack: Mapping[str, Any], prices: Prices, add: Any) -> None:
    """EC2: the Auto Scaling group's minimum of instances with their volumes. Fargate: each
    service's minimum of tasks at its task definition's size. Scaling out adds to both."""
    templates = _of_type(stack, "AWS::EC2::LaunchTemplate")
    for name, props in _of_type(stack, "AWS::AutoScaling::AutoScalingGroup").items():
        count = int(_value(stack, props["MinSize"]))
        (data,) = (t["LaunchTemplateData"] for t in templates.values())
        instance_type = str(_value(stack, data["InstanceType"]))
        volume = sum(int(m["Ebs"]["VolumeSize"]) for m in data.get("BlockDeviceMappings", []))
        add(
            name,
            f"EC2 {instance_type}",
            f"{count} x {HOURS} h",
            count * HOURS * prices.instance_hour(instance_type),
        )
        add(
            f"{name} volumes",
            "EBS gp3",
            f"{count} x {volume} GB",
            count * volume * prices["ebs_gp3_gb_month"],
        )
    if stack["Parameters"].get("LaunchType") != "FARGATE":
        return
    targets = _of_type(stack, "AWS::ApplicationAutoScaling::ScalableTarget")
    services = _of_type(stack, "AWS::ECS::Service")
    definitions = _of_type(stack, "AWS::ECS::TaskDefinition")
    for name, service in services.items():
        task = definitions[service["TaskDefinition"]["Ref"]]
        (scaling,) = (t for t in targets.values() if name in json.dumps(t["ResourceId"]))
        count = int(_value(stack, scaling["MinCapacity"]))
        vcpu, memory = int(task["Cpu"]) / 1024, int(task["Memory"]) / 1024
        add(
            name,
            f"Fargate {vcpu:g} vCPU, {memory:g} GB",
            f"{count} tasks x {HOURS} h",
            count
            * HOURS
            * (vcpu * prices["fargate_vcpu_hour"] + memory * prices["fargate_gb_hour"]),
        )


def total(lines: list[Line]) -> float:
    return round(sum(line.monthly for line in lines), 2)
