"""Network layer: a VPC over three AZs, public/private subnets, egress, NACLs, flow logs.

The `Egress` parameter picks how the private subnets reach AWS's APIs:

- `NatPerAz`: a NAT gateway per AZ (an AZ outage leaves the others their way out);
- `SingleNat`: one NAT gateway for all three AZs (cheaper; its AZ's outage cuts the others off);
- `None`: no route to the internet at all. Interface endpoints (generator/core/endpoints.py) then
  serve every AWS API the tasks, the container instances and their agents call. The private
  profile, not the cheap one: a dozen endpoints in three AZs cost more than three NAT gateways
  (`make cost`).
"""

from __future__ import annotations

from dataclasses import dataclass

from awacs import logs
from awacs.aws import Allow, PolicyDocument, Statement
from troposphere import (
    Cidr,
    Condition,
    Equals,
    GetAtt,
    GetAZs,
    If,
    Not,
    Parameter,
    Ref,
    Select,
    Sub,
    Tags,
    Template,
)
from troposphere.ec2 import (
    EIP,
    VPC,
    FlowLog,
    InternetGateway,
    NatGateway,
    NetworkAcl,
    NetworkAclEntry,
    PortRange,
    Route,
    RouteTable,
    Subnet,
    SubnetNetworkAclAssociation,
    SubnetRouteTableAssociation,
    VPCGatewayAttachment,
)
from troposphere.iam import Policy, Role
from troposphere.logs import LogGroup

from generator.common import assumed_by, retain
from generator.config import Settings
from generator.core.encryption import Encryption
from generator.core.environment import Environment

NAT_PER_AZ = "NatGatewayPerAz"
HAS_NAT = "HasNatGateway"
PRIVATE_EGRESS = "PrivateEgressOnly"
EGRESS_PROFILES = ("NatPerAz", "SingleNat", "None")
ANYWHERE = "0.0.0.0/0"
TCP = "6"


@dataclass(frozen=True)
class Network:
    vpc: VPC
    vpc_cidr: Parameter
    public_subnets: tuple[Subnet, ...]
    private_subnets: tuple[Subnet, ...]
    private_route_tables: tuple[RouteTable, ...]
    egress: Parameter
    private_egress: str  # condition: Egress=None, no way to the internet from the private subnets


def add_network(
    t: Template, settings: Settings, environment: Environment, encryption: Encryption
) -> Network:
    # Fn::Cidr cuts 2 x AZ subnets of a fixed size (subnet_host_bits) out of the VPC and fails
    # the deployment when they do not fit: admit only the prefixes they fit in (a VPC is /16 at
    # most). CloudFormation has no arithmetic to size the subnets from the prefix instead.
    subnet_count = 2 * settings.availability_zones
    smallest = 32 - settings.subnet_host_bits - (subnet_count - 1).bit_length()
    prefixes = "|".join(str(prefix) for prefix in range(16, smallest + 1))
    vpc_cidr = t.add_parameter(
        Parameter(
            "VpcCidr",
            Type="String",
            Default="10.0.0.0/16",
            AllowedPattern=rf"^(\d{{1,3}}\.){{3}}\d{{1,3}}/({prefixes})$",
            ConstraintDescription=f"an IPv4 CIDR of prefix length 16 to {smallest}",
            Description=(
                f"CIDR of the stack's VPC (/16 to /{smallest}); each of its {subnet_count} "
                f"subnets is a /{32 - settings.subnet_host_bits}"
            ),
        )
    )
    egress = t.add_parameter(
        Parameter(
            "Egress",
            Type="String",
            Default="None",
            AllowedValues=list(EGRESS_PROFILES),
            Description="How the private subnets reach AWS APIs: NatPerAz (a NAT gateway per AZ, "
            "survives an AZ outage), SingleNat (one, cheaper) or None (no internet route: "
            "interface endpoints only; private, and dearer than NAT)",
        )
    )
    t.add_condition(NAT_PER_AZ, Equals(Ref(egress), "NatPerAz"))
    t.add_condition(PRIVATE_EGRESS, Equals(Ref(egress), "None"))
    t.add_condition(HAS_NAT, Not(Condition(PRIVATE_EGRESS)))

    vpc = t.add_resource(
        VPC(
            "Vpc",
            CidrBlock=Ref(vpc_cidr),
            EnableDnsSupport=True,
            EnableDnsHostnames=True,
            Tags=Tags(Name=Sub("${AWS::StackName}")),
        )
    )
    igw = t.add_resource(InternetGateway("InternetGateway"))
    attachment = t.add_resource(
        VPCGatewayAttachment(
            "InternetGatewayAttachment", VpcId=Ref(vpc), InternetGatewayId=Ref(igw)
        )
    )
    public_rt = t.add_resource(
        RouteTable(
            "PublicRouteTable", VpcId=Ref(vpc), Tags=Tags(Name=Sub("${AWS::StackName}-public"))
        )
    )
    t.add_resource(
        Route(
            "PublicDefaultRoute",
            DependsOn=attachment.title,
            RouteTableId=Ref(public_rt),
            DestinationCidrBlock=ANYWHERE,
            GatewayId=Ref(igw),
        )
    )

    subnet_cidrs = Cidr(Ref(vpc_cidr), 2 * settings.availability_zones, settings.subnet_host_bits)
    public_subnets: list[Subnet] = []
    private_subnets: list[Subnet] = []
    private_rts: list[RouteTable] = []
    nats: list[NatGateway] = []
    for i in range(settings.availability_zones):
        az = chr(ord("A") + i)
        public = t.add_resource(
            Subnet(
                f"PublicSubnet{az}",
                VpcId=Ref(vpc),
                AvailabilityZone=Select(i, GetAZs("")),
                CidrBlock=Select(i, subnet_cidrs),
                MapPublicIpOnLaunch=False,  # only the NAT gateways live here, on Elastic IPs
                Tags=Tags(Name=Sub(f"${{AWS::StackName}}-public-{az.lower()}")),
            )
        )
        _route_through(t, public, public_rt)
        public_subnets.append(public)

        # The first AZ has a NAT gateway in both NAT profiles; the others only in NatPerAz.
        condition = HAS_NAT if i == 0 else NAT_PER_AZ
        eip = t.add_resource(
            EIP(f"NatGateway{az}Eip", Condition=condition, Domain="vpc", DependsOn=attachment.title)
        )
        nat = t.add_resource(
            NatGateway(
                f"NatGateway{az}",
                Condition=condition,
                AllocationId=GetAtt(eip, "AllocationId"),
                SubnetId=Ref(public),
                Tags=Tags(Name=Sub(f"${{AWS::StackName}}-nat-{az.lower()}")),
            )
        )
        nats.append(nat)

        private = t.add_resource(
            Subnet(
                f"PrivateSubnet{az}",
                VpcId=Ref(vpc),
                AvailabilityZone=Select(i, GetAZs("")),
                CidrBlock=Select(settings.availability_zones + i, subnet_cidrs),
                MapPublicIpOnLaunch=False,
                Tags=Tags(Name=Sub(f"${{AWS::StackName}}-private-{az.lower()}")),
            )
        )
        private_rt = t.add_resource(
            RouteTable(
                f"PrivateRouteTable{az}",
                VpcId=Ref(vpc),
                Tags=Tags(Name=Sub(f"${{AWS::StackName}}-private-{az.lower()}")),
            )
        )
        # Egress=None: no default route, so nothing in the private subnets reaches the internet.
        t.add_resource(
            Route(
                f"PrivateRouteTable{az}DefaultRoute",
                Condition=HAS_NAT,
                RouteTableId=Ref(private_rt),
                DestinationCidrBlock=ANYWHERE,
                NatGatewayId=Ref(nat) if i == 0 else If(NAT_PER_AZ, Ref(nat), Ref(nats[0])),
            )
        )
        _route_through(t, private, private_rt)
        private_subnets.append(private)
        private_rts.append(private_rt)

    _add_network_acls(t, settings, vpc, vpc_cidr, public_subnets, private_subnets)
    _add_flow_logs(t, settings, vpc, environment, encryption)
    return Network(
        vpc=vpc,
        vpc_cidr=vpc_cidr,
        public_subnets=tuple(public_subnets),
        private_subnets=tuple(private_subnets),
        private_route_tables=tuple(private_rts),
        egress=egress,
        private_egress=PRIVATE_EGRESS,
    )


def _route_through(t: Template, subnet: Subnet, route_table: RouteTable) -> None:
    t.add_resource(
        SubnetRouteTableAssociation(
            f"{subnet.title}RouteTableAssociation",
            SubnetId=Ref(subnet),
            RouteTableId=Ref(route_table),
        )
    )


def _add_network_acls(
    t: Template,
    settings: Settings,
    vpc: VPC,
    vpc_cidr: Parameter,
    public_subnets: list[Subnet],
    private_subnets: list[Subnet],
) -> None:
    """Stateless rules per tier: each allow names its ports; replies ride on 1024-65535."""
    https = (443, 443)
    high_ports = (1024, 65535)
    alb = (settings.alb_listener_port, settings.alb_listener_port)
    container = (settings.container_port, settings.container_port)
    dynamic = settings.ephemeral_ports
    vpc_block = Ref(vpc_cidr)

    # (tier, rule number, egress, ports, cidr): egress False = inbound.
    tiers: dict[str, list[tuple[int, bool, tuple[int, int], object]]] = {
        "Public": [
            # NAT gateways: HTTPS from the private subnets out to AWS APIs and registries.
            (100, False, https, vpc_block),
            (110, False, high_ports, ANYWHERE),  # replies from the internet to NAT'd connections
            (100, True, https, ANYWHERE),
            (110, True, high_ports, vpc_block),  # replies to the private subnets
        ],
        "Private": [
            (100, False, alb, vpc_block),  # VPC link -> ALB listener
            (110, False, container, vpc_block),  # ALB -> Fargate task (awsvpc)
            (120, False, dynamic, vpc_block),  # ALB -> container instance (dynamic host port)
            (130, False, high_ports, ANYWHERE),  # replies from AWS APIs, endpoints and the ALB
            (100, True, https, ANYWHERE),  # AWS APIs through NAT and the gateway endpoints
            (110, True, alb, vpc_block),  # VPC link -> ALB listener
            (120, True, container, vpc_block),  # ALB -> Fargate task
            (130, True, dynamic, vpc_block),  # ALB -> container instance
            (140, True, high_ports, vpc_block),  # replies to the VPC link and the ALB
        ],
    }
    subnets = {"Public": public_subnets, "Private": private_subnets}
    for tier, rules in tiers.items():
        acl = t.add_resource(
            NetworkAcl(
                f"{tier}NetworkAcl",
                VpcId=Ref(vpc),
                Tags=Tags(Name=Sub(f"${{AWS::StackName}}-{tier.lower()}")),
            )
        )
        for number, egress, (low, high), cidr in rules:
            direction = "Egress" if egress else "Ingress"
            t.add_resource(
                NetworkAclEntry(
                    f"{tier}NetworkAcl{direction}{number}",
                    NetworkAclId=Ref(acl),
                    RuleNumber=number,
                    Protocol=TCP,
                    RuleAction="allow",
                    Egress=egress,
                    CidrBlock=cidr,
                    PortRange=PortRange(From=low, To=high),
                )
            )
        for subnet in subnets[tier]:
            t.add_resource(
                SubnetNetworkAclAssociation(
                    f"{subnet.title}NetworkAclAssociation",
                    SubnetId=Ref(subnet),
                    NetworkAclId=Ref(acl),
                )
            )


def _add_flow_logs(
    t: Template, settings: Settings, vpc: VPC, environment: Environment, encryption: Encryption
) -> None:
    log_group = t.add_resource(
        retain(
            LogGroup(
                "VpcFlowLogGroup",
                RetentionInDays=settings.flow_log_retention_days,
                KmsKeyId=GetAtt(encryption.key, "Arn"),
            )
        )
    )
    role = t.add_resource(
        Role(
            "VpcFlowLogRole",
            # Only flow logs of this account (no confused deputy).
            AssumeRolePolicyDocument=assumed_by(
                "vpc-flow-logs.amazonaws.com", this_account_only=True
            ),
            PermissionsBoundary=environment.boundary,
            Policies=[
                Policy(
                    PolicyName="deliver-flow-logs",
                    PolicyDocument=PolicyDocument(
                        Version="2012-10-17",
                        Statement=[
                            Statement(
                                Effect=Allow,
                                Action=[
                                    logs.CreateLogStream,
                                    logs.PutLogEvents,
                                    logs.DescribeLogStreams,
                                ],
                                Resource=[GetAtt(log_group, "Arn")],
                            )
                        ],
                    ),
                )
            ],
        )
    )
    t.add_resource(
        FlowLog(
            "VpcFlowLog",
            ResourceId=Ref(vpc),
            ResourceType="VPC",
            TrafficType="ALL",
            LogDestinationType="cloud-watch-logs",
            LogGroupName=Ref(log_group),
            DeliverLogsPermissionArn=GetAtt(role, "Arn"),
            MaxAggregationInterval=60,
        )
    )
