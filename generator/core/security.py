"""Security groups: VPC link -> ALB -> container instance (dynamic ports) or Fargate task, and
the interface endpoints that only the tasks and the container instances may reach (Egress=None).

Ingress rules are separate resources so the groups can name each other without a cycle;
egress is inline so no group keeps the default allow-all egress.
"""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import GetAtt, Ref, Template
from troposphere.ec2 import SecurityGroup, SecurityGroupIngress, SecurityGroupRule

from generator.config import Settings
from generator.core.network import Network


@dataclass(frozen=True)
class Security:
    vpc_link: SecurityGroup
    load_balancer: SecurityGroup
    container_instance: SecurityGroup
    task: SecurityGroup
    endpoints: SecurityGroup  # the interface endpoints' group (Egress=None only)


def _egress_https_to_aws(what: str) -> SecurityGroupRule:
    return SecurityGroupRule(
        IpProtocol="tcp",
        FromPort=443,
        ToPort=443,
        CidrIp="0.0.0.0/0",
        # Through the NAT gateways, or with Egress=None (no internet route) only the VPC
        # endpoints: the interface endpoints' addresses and the gateway endpoints' prefix lists.
        Description=f"{what} to AWS APIs (ECR, ECS, CloudWatch, DynamoDB, S3) over HTTPS",
    )


def _egress_to(
    group: SecurityGroup, from_port: int, to_port: int, description: str
) -> SecurityGroupRule:
    return SecurityGroupRule(
        IpProtocol="tcp",
        FromPort=from_port,
        ToPort=to_port,
        DestinationSecurityGroupId=GetAtt(group, "GroupId"),
        Description=description,
    )


def add_security(t: Template, settings: Settings, network: Network) -> Security:
    low, high = settings.ephemeral_ports
    listener = settings.alb_listener_port
    port = settings.container_port

    def group(
        title: str, description: str, *egress: SecurityGroupRule, **options: str
    ) -> SecurityGroup:
        return t.add_resource(
            SecurityGroup(
                title,
                GroupDescription=description,
                VpcId=Ref(network.vpc),
                SecurityGroupEgress=list(egress),
                **options,
            )
        )

    container_instance = group(
        "ContainerInstanceSecurityGroup",
        "ECS container instances: only the ALB on the dynamic host ports",
        _egress_https_to_aws("ECS agent and containers"),
    )
    task = group(
        "TaskSecurityGroup",
        "Fargate tasks: only the ALB on the container port",
        _egress_https_to_aws("Tasks"),
    )
    load_balancer = group(
        "LoadBalancerSecurityGroup",
        "Internal ALB: only the API Gateway VPC link",
        _egress_to(
            container_instance, low, high, "ALB to container instances on the dynamic host ports"
        ),
        _egress_to(task, port, port, "ALB to Fargate tasks on the container port"),
    )
    vpc_link = group(
        "VpcLinkSecurityGroup",
        "API Gateway VPC link: sends to the ALB listener, accepts nothing",
        _egress_to(load_balancer, listener, listener, "VPC link to the ALB listener"),
    )

    endpoints = group(
        "EndpointSecurityGroup",
        "Interface endpoints: only the tasks and the container instances, on HTTPS",
        # An endpoint only answers. An empty egress list would keep AWS's allow-all default, so
        # the one rule matches nothing (ICMP to the broadcast address, as AWS CDK does too).
        SecurityGroupRule(
            IpProtocol="icmp",
            FromPort=252,
            ToPort=86,
            CidrIp="255.255.255.255/32",
            Description="No egress: an endpoint only answers",
        ),
        Condition=network.private_egress,
    )

    ingress = [
        (load_balancer, vpc_link, listener, listener, "From the API Gateway VPC link only", None),
        (
            container_instance,
            load_balancer,
            low,
            high,
            "From the ALB on the dynamic host ports",
            None,
        ),
        (task, load_balancer, port, port, "From the ALB on the container port", None),
        (
            endpoints,
            task,
            443,
            443,
            "Fargate tasks and their agent to AWS APIs",
            network.private_egress,
        ),
        (
            endpoints,
            container_instance,
            443,
            443,
            "Container instances (ECS and SSM agents, bridge-mode containers) to AWS APIs",
            network.private_egress,
        ),
    ]
    for target, source, from_port, to_port, description, condition in ingress:
        rule = SecurityGroupIngress(
            f"{target.title}IngressFrom{source.title.removesuffix('SecurityGroup')}",
            GroupId=GetAtt(target, "GroupId"),
            SourceSecurityGroupId=GetAtt(source, "GroupId"),
            IpProtocol="tcp",
            FromPort=from_port,
            ToPort=to_port,
            Description=description,
        )
        if condition:
            rule.Condition = condition
        t.add_resource(rule)
    return Security(
        vpc_link=vpc_link,
        load_balancer=load_balancer,
        container_instance=container_instance,
        task=task,
        endpoints=endpoints,
    )
