"""Security groups: VPC link -> ALB -> container instance (dynamic ports) or Fargate task.

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


def _egress_https_to_aws(what: str) -> SecurityGroupRule:
    return SecurityGroupRule(
        IpProtocol="tcp",
        FromPort=443,
        ToPort=443,
        CidrIp="0.0.0.0/0",
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

    def group(title: str, description: str, *egress: SecurityGroupRule) -> SecurityGroup:
        return t.add_resource(
            SecurityGroup(
                title,
                GroupDescription=description,
                VpcId=Ref(network.vpc),
                SecurityGroupEgress=list(egress),
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

    ingress = [
        (load_balancer, vpc_link, listener, listener, "From the API Gateway VPC link only"),
        (container_instance, load_balancer, low, high, "From the ALB on the dynamic host ports"),
        (task, load_balancer, port, port, "From the ALB on the container port"),
    ]
    for target, source, from_port, to_port, description in ingress:
        t.add_resource(
            SecurityGroupIngress(
                f"{target.title}IngressFrom{source.title.removesuffix('SecurityGroup')}",
                GroupId=GetAtt(target, "GroupId"),
                SourceSecurityGroupId=GetAtt(source, "GroupId"),
                IpProtocol="tcp",
                FromPort=from_port,
                ToPort=to_port,
                Description=description,
            )
        )
    return Security(
        vpc_link=vpc_link,
        load_balancer=load_balancer,
        container_instance=container_instance,
        task=task,
    )
