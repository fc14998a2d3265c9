"""Nothing on the internet reaches the ALB or a container; the network is built as designed."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from generator.config import Settings
from tests.generator.conftest import as_list, props, resolve, resources, target

SETTINGS = Settings()
ANYWHERE = {"0.0.0.0/0", "::/0"}


def sg_ingress_rules(template: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(security group, rule) for every ingress rule, inline or standalone."""
    rules: list[tuple[str, dict[str, Any]]] = []
    for name, res in resources(template, "AWS::EC2::SecurityGroup").items():
        rules += [(name, rule) for rule in res["Properties"].get("SecurityGroupIngress", [])]
    for res in resources(template, "AWS::EC2::SecurityGroupIngress").values():
        group = target(res["Properties"]["GroupId"])
        assert group, res
        rules.append((group, res["Properties"]))
    return rules


def sg_egress_rules(template: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    rules: list[tuple[str, dict[str, Any]]] = []
    for name, res in resources(template, "AWS::EC2::SecurityGroup").items():
        rules += [(name, rule) for rule in res["Properties"].get("SecurityGroupEgress", [])]
    for res in resources(template, "AWS::EC2::SecurityGroupEgress").values():
        rules.append((str(target(res["Properties"]["GroupId"])), res["Properties"]))
    return rules


def internet_ingress(template: dict[str, Any]) -> list[str]:
    """Security groups that admit an address range at all (only groups may be sources here)."""
    return [
        group
        for group, rule in sg_ingress_rules(template)
        if "CidrIp" in rule or "CidrIpv6" in rule or "SourcePrefixListId" in rule
    ]


def covers(rule: dict[str, Any], port: int) -> bool:
    if str(rule.get("IpProtocol")) == "-1":
        return True
    return int(rule["FromPort"]) <= port <= int(rule["ToPort"])


def nacl_allows(template: dict[str, Any], port: int) -> list[str]:
    found = []
    for name, res in resources(template, "AWS::EC2::NetworkAclEntry").items():
        p = res["Properties"]
        if p["RuleAction"] != "allow":
            continue
        ports = p.get("PortRange", {"From": 0, "To": 65535})  # no range: every port
        if str(p["Protocol"]) == "-1" or ports["From"] <= port <= ports["To"]:
            found.append(name)
    return found


def sources_of(template: dict[str, Any], group: str) -> set[str]:
    return {
        str(target(rule.get("SourceSecurityGroupId")))
        for g, rule in sg_ingress_rules(template)
        if g == group
    }


def test_no_security_group_admits_an_address_range(deployed: dict[str, Any]) -> None:
    assert internet_ingress(deployed) == []


def test_the_internet_check_catches_an_open_rule(deployed: dict[str, Any]) -> None:
    broken = copy.deepcopy(deployed)
    broken["Resources"]["LoadBalancerSecurityGroup"]["Properties"]["SecurityGroupIngress"] = [
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "CidrIp": "0.0.0.0/0"}
    ]
    assert internet_ingress(broken) == ["LoadBalancerSecurityGroup"]


def test_every_security_group_rule_is_described(deployed: dict[str, Any]) -> None:
    for group, rule in sg_ingress_rules(deployed) + sg_egress_rules(deployed):
        assert rule.get("Description"), group


def test_every_security_group_declares_its_egress(deployed: dict[str, Any]) -> None:
    # Without an explicit egress list a group keeps AWS's default allow-all egress.
    for name, res in resources(deployed, "AWS::EC2::SecurityGroup").items():
        assert res["Properties"].get("SecurityGroupEgress"), name
        for rule in res["Properties"]["SecurityGroupEgress"]:
            assert str(rule["IpProtocol"]) != "-1", name


@pytest.mark.parametrize("port", [22, 3389])
def test_no_security_group_opens_a_remote_shell_port(deployed: dict[str, Any], port: int) -> None:
    rules = sg_ingress_rules(deployed) + sg_egress_rules(deployed)
    assert [group for group, rule in rules if covers(rule, port)] == []


def test_no_network_acl_allows_ssh(deployed: dict[str, Any]) -> None:
    # Stateless replies need 1024-65535, so only the well-known SSH port can be kept shut here.
    assert nacl_allows(deployed, 22) == []


def test_the_port_check_catches_an_all_traffic_nacl_rule(deployed: dict[str, Any]) -> None:
    broken = copy.deepcopy(deployed)
    broken["Resources"]["PublicNetworkAclIngress100"]["Properties"]["Protocol"] = "-1"
    assert nacl_allows(broken, 22) == ["PublicNetworkAclIngress100"]


def test_load_balancer_is_internal_in_private_subnets(deployed: dict[str, Any]) -> None:
    lb = props(deployed, "LoadBalancer")
    assert lb["Scheme"] == "internal"
    assert {target(s) for s in lb["Subnets"]} == {
        f"PrivateSubnet{az}" for az in "ABC"[: SETTINGS.availability_zones]
    }


def test_the_request_path_is_a_chain_of_security_groups(deployed: dict[str, Any]) -> None:
    """VPC link -> ALB -> container instance (dynamic ports) or Fargate task (container port);
    the release gate reaches the ALB's test listener only."""
    assert sources_of(deployed, "VpcLinkSecurityGroup") == set()
    assert sources_of(deployed, "ReleaseGateSecurityGroup") == set()
    assert sources_of(deployed, "LoadBalancerSecurityGroup") == {
        "VpcLinkSecurityGroup",
        "ReleaseGateSecurityGroup",
    }
    assert sources_of(deployed, "ContainerInstanceSecurityGroup") == {"LoadBalancerSecurityGroup"}
    assert sources_of(deployed, "TaskSecurityGroup") == {"LoadBalancerSecurityGroup"}
    lb_groups = {target(g) for g in props(deployed, "LoadBalancer")["SecurityGroups"]}
    assert lb_groups == {"LoadBalancerSecurityGroup"}
    vpc_link = props(deployed, "HttpApiVpcLink")
    assert {target(g) for g in vpc_link["SecurityGroupIds"]} == {"VpcLinkSecurityGroup"}


LISTENER = (SETTINGS.alb_listener_port, SETTINGS.alb_listener_port)
TEST_LISTENER = (SETTINGS.test_listener_port, SETTINGS.test_listener_port)


@pytest.mark.parametrize(
    ("group", "ports"),
    [
        ("LoadBalancerSecurityGroup", [LISTENER, TEST_LISTENER]),
        ("ContainerInstanceSecurityGroup", [SETTINGS.ephemeral_ports]),
        ("TaskSecurityGroup", [(SETTINGS.container_port, SETTINGS.container_port)]),
    ],
)
def test_each_hop_opens_only_its_ports(
    deployed: dict[str, Any], group: str, ports: list[tuple[int, int]]
) -> None:
    rules = [rule for g, rule in sg_ingress_rules(deployed) if g == group]
    opened = sorted((r["IpProtocol"], r["FromPort"], r["ToPort"]) for r in rules)
    assert opened == sorted(("tcp", *p) for p in ports)


def test_ec2_services_run_behind_the_container_instance_group(deployed: dict[str, Any]) -> None:
    templates = resources(deployed, "AWS::EC2::LaunchTemplate")
    for lt in templates.values():
        groups = lt["Properties"]["LaunchTemplateData"]["SecurityGroupIds"]
        assert {target(g) for g in groups} == {"ContainerInstanceSecurityGroup"}
        assert "NetworkInterfaces" not in lt["Properties"]["LaunchTemplateData"]
    for service in resources(deployed, "AWS::ECS::Service").values():
        network = service["Properties"].get("NetworkConfiguration")
        if network:  # Fargate: private subnets, task group, no public IP
            vpc = network["AwsvpcConfiguration"]
            assert vpc["AssignPublicIp"] == "DISABLED"
            assert {target(g) for g in vpc["SecurityGroups"]} == {"TaskSecurityGroup"}
            assert all(str(target(s)).startswith("PrivateSubnet") for s in vpc["Subnets"])


def test_every_vpc_cidr_the_parameter_admits_holds_the_subnets(
    core_template: dict[str, Any],
) -> None:
    """Fn::Cidr fails the deployment when the subnets it is asked for do not fit in the VPC."""
    pattern = core_template["Parameters"]["VpcCidr"]["AllowedPattern"]
    cuts = set()
    for subnet in resources(core_template, "AWS::EC2::Subnet").values():
        _, cidr = subnet["Properties"]["CidrBlock"]["Fn::Select"]
        vpc, count, host_bits = cidr["Fn::Cidr"]
        assert vpc == {"Ref": "VpcCidr"}
        cuts.add((int(count), int(host_bits)))
    ((count, host_bits),) = cuts
    admitted = [p for p in range(33) if re.fullmatch(pattern, f"10.0.0.0/{p}")]
    assert admitted, pattern
    for prefix in admitted:
        assert 2 ** (32 - prefix) >= count * 2**host_bits, f"/{prefix} cannot hold the subnets"
    assert re.fullmatch(pattern, core_template["Parameters"]["VpcCidr"]["Default"])


def test_subnets_never_hand_out_public_addresses(deployed: dict[str, Any]) -> None:
    subnets = resources(deployed, "AWS::EC2::Subnet")
    assert len(subnets) == 2 * SETTINGS.availability_zones
    assert all(s["Properties"]["MapPublicIpOnLaunch"] is False for s in subnets.values())


def private_default_routes(deployed: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        r["Properties"]
        for r in resources(deployed, "AWS::EC2::Route").values()
        if str(target(r["Properties"]["RouteTableId"])).startswith("PrivateRouteTable")
    ]


@pytest.mark.parametrize(("egress", "nats"), [("NatPerAz", 3), ("SingleNat", 1)])
def test_nat_profiles_route_every_private_subnet_through_a_nat_gateway(
    core_template: dict[str, Any], egress: str, nats: int
) -> None:
    deployed = resolve(core_template, {"Egress": egress})
    assert len(resources(deployed, "AWS::EC2::NatGateway")) == nats
    assert len(resources(deployed, "AWS::EC2::EIP")) == nats
    routes = private_default_routes(deployed)
    # One route table per private subnet, each with a default route to an existing NAT gateway.
    assert len(routes) == SETTINGS.availability_zones
    assert {r["DestinationCidrBlock"] for r in routes} == {"0.0.0.0/0"}
    assert {target(r["NatGatewayId"]) for r in routes} <= set(
        resources(deployed, "AWS::EC2::NatGateway")
    )
    assert len(resources(deployed, "AWS::EC2::RouteTable")) == SETTINGS.availability_zones + 1


def test_private_egress_leaves_no_way_to_the_internet(core_template: dict[str, Any]) -> None:
    """Egress=None: no NAT gateway, no Elastic IP, and no route out of a private subnet but the
    gateway endpoints' (which CloudFormation adds to the route tables, not as Route resources)."""
    deployed = resolve(core_template, {"Egress": "None"})
    assert resources(deployed, "AWS::EC2::NatGateway") == {}
    assert resources(deployed, "AWS::EC2::EIP") == {}
    assert private_default_routes(deployed) == []
    # The only route left is the public subnets' (which hold nothing in this profile).
    routes = [r["Properties"] for r in resources(deployed, "AWS::EC2::Route").values()]
    assert [target(r["RouteTableId"]) for r in routes] == ["PublicRouteTable"]


def test_the_egress_check_sees_a_route_left_behind(core_template: dict[str, Any]) -> None:
    broken = copy.deepcopy(core_template)
    del broken["Resources"]["PrivateRouteTableBDefaultRoute"]["Condition"]
    broken["Resources"]["PrivateRouteTableBDefaultRoute"]["Properties"]["NatGatewayId"] = "nat-1"
    deployed = resolve(broken, {"Egress": "None"})
    assert len(private_default_routes(deployed)) == 1


def test_the_default_profile_is_the_private_one(core_template: dict[str, Any]) -> None:
    egress = core_template["Parameters"]["Egress"]
    assert egress["Default"] == "None"
    assert egress["AllowedValues"] == ["NatPerAz", "SingleNat", "None"]


@pytest.mark.parametrize("egress", ["NatPerAz", "SingleNat", "None"])
def test_gateway_endpoints_serve_every_private_route_table(
    core_template: dict[str, Any], egress: str
) -> None:
    deployed = resolve(core_template, {"Egress": egress})
    endpoints = [
        e
        for e in resources(deployed, "AWS::EC2::VPCEndpoint").values()
        if e["Properties"]["VpcEndpointType"] == "Gateway"
    ]
    services = sorted(e["Properties"]["ServiceName"]["Fn::Sub"].split(".")[-1] for e in endpoints)
    assert services == ["dynamodb", "s3"]
    for endpoint in endpoints:
        tables = {target(t) for t in endpoint["Properties"]["RouteTableIds"]}
        assert tables == {f"PrivateRouteTable{az}" for az in "ABC"}


def test_every_subnet_has_a_network_acl_with_explicit_port_rules(deployed: dict[str, Any]) -> None:
    associated = {
        target(a["Properties"]["SubnetId"])
        for a in resources(deployed, "AWS::EC2::SubnetNetworkAclAssociation").values()
    }
    assert associated == set(resources(deployed, "AWS::EC2::Subnet"))
    for name, entry in resources(deployed, "AWS::EC2::NetworkAclEntry").items():
        assert str(entry["Properties"]["Protocol"]) == "6", name
        assert "PortRange" in entry["Properties"], name


def test_vpc_flow_logs_capture_all_traffic(deployed: dict[str, Any]) -> None:
    (flow_log,) = resources(deployed, "AWS::EC2::FlowLog").values()
    assert flow_log["Properties"]["TrafficType"] == "ALL"
    assert target(flow_log["Properties"]["ResourceId"]) == "Vpc"


def test_container_instances_require_imdsv2_and_encrypt_their_disk(
    core_template: dict[str, Any],
) -> None:
    (lt,) = resources(core_template, "AWS::EC2::LaunchTemplate").values()
    data = lt["Properties"]["LaunchTemplateData"]
    assert data["MetadataOptions"]["HttpTokens"] == "required"
    assert data["MetadataOptions"]["HttpPutResponseHopLimit"] == 1
    assert all(m["Ebs"]["Encrypted"] is True for m in as_list(data["BlockDeviceMappings"]))
    assert "KeyName" not in data  # no SSH key: Session Manager instead
    assert "ECS_CLUSTER=${Cluster}" in data["UserData"]["Fn::Base64"]["Fn::Sub"]
    ami = core_template["Parameters"][target(data["ImageId"]) or ""]
    assert ami["Type"] == "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>"
    assert "amazon-linux-2023" in ami["Default"]
