"""`make cost`: the estimate moves as the template and the parameters say it must.

Every figure comes from the committed core template, resolved for the parameters, priced with
the committed table; the tests compare estimates, so a change of a price does not break them, but
a resource that stops being priced (or priced twice) does.
"""

from __future__ import annotations

from typing import Any

import pytest

from generator import render_all
from scripts.cfn.template import parse_template
from scripts.cost.cli import main, parameters
from scripts.cost.estimate import HOURS, CostError, Line, Usage, estimate, load_prices, total
from tests.scripts import fakes

PRICES = load_prices("us-east-1", None)


def lines(env: str = "prod", **given: str) -> list[Line]:
    template = parse_template(render_all()["core.yaml"])
    return estimate(template, parameters(env, given), PRICES, Usage())


def of_kind(found: list[Line], kind: str) -> list[Line]:
    return [line for line in found if line.kind.startswith(kind)]


def test_three_nat_gateways_cost_two_more_than_one() -> None:
    per_az = lines(Egress="NatPerAz")
    single = lines(Egress="SingleNat")
    assert len(of_kind(per_az, "NAT gateway")) - len(of_kind(single, "NAT gateway")) == 2
    assert len(of_kind(per_az, "public IPv4")) == 3
    one_more = HOURS * (PRICES["nat_gateway_hour"] + PRICES["public_ipv4_hour"])
    assert total(per_az) - total(single) == pytest.approx(2 * one_more, abs=0.05)
    assert not of_kind(per_az, "interface endpoint")


def test_private_egress_trades_nat_gateways_for_endpoints_and_costs_more_on_ec2() -> None:
    """Egress=None is the private profile, not the cheap one: with the EC2 hosts' endpoints
    (ecs, ecs-agent, ecs-telemetry, ssm, ssmmessages) it costs more than three NAT gateways."""
    private = lines(Egress="None", LaunchType="EC2")
    nat = lines(Egress="NatPerAz", LaunchType="EC2")
    assert not of_kind(private, "NAT gateway")
    assert not of_kind(private, "public IPv4")
    endpoints = of_kind(private, "interface endpoint ")
    assert len(of_kind(private, "interface endpoint")) == 9  # 8 endpoints and their data
    assert all(line.quantity.startswith("3 AZ") for line in endpoints if "data" not in line.kind)
    assert total(private) > total(nat)


def test_fargate_needs_fewer_endpoints_than_ec2() -> None:
    ec2 = lines(Egress="None", LaunchType="EC2", EnableExec="false")
    fargate = lines(Egress="None", LaunchType="FARGATE", EnableExec="false")
    assert len(of_kind(fargate, "interface endpoint")) < len(of_kind(ec2, "interface endpoint"))


def test_ec2_prices_instances_and_fargate_prices_tasks() -> None:
    ec2 = lines(LaunchType="EC2", ContainerInstancesMin="2", ContainerInstanceType="t3.medium")
    (instances,) = of_kind(ec2, "EC2 t3.medium")
    assert instances.monthly == pytest.approx(2 * HOURS * PRICES.instance_hour("t3.medium"), 0.01)
    assert of_kind(ec2, "EBS")
    assert not of_kind(ec2, "Fargate")
    fargate = lines(LaunchType="FARGATE", MainServiceMinTasks="4")
    assert not of_kind(fargate, "EC2")
    main_tasks = [line for line in of_kind(fargate, "Fargate") if line.resource == "MainService"]
    assert main_tasks[0].quantity.startswith("4 tasks")
    assert len(of_kind(fargate, "Fargate")) == 2


def test_an_unpriced_instance_type_is_refused_by_name() -> None:
    with pytest.raises(CostError, match=r"no price for instance type c9\.huge"):
        lines(LaunchType="EC2", ContainerInstanceType="c9.huge")


def test_another_region_is_refused_unless_scaled() -> None:
    with pytest.raises(CostError, match="give --region-factor"):
        load_prices("eu-west-1", None)
    scaled = load_prices("eu-west-1", 1.5)
    assert scaled["nat_gateway_hour"] == pytest.approx(1.5 * PRICES["nat_gateway_hour"])


def run(*argv: str) -> tuple[int, str]:
    console, out = fakes.console()
    code = main(list(argv), console=console)
    return code, " ".join(out.getvalue().split())


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_make_cost_prints_every_line_and_the_total(env: str) -> None:
    code, text = run("--env", env)
    assert code == 0
    assert f"todo-{env}-core: monthly estimate (us-east-1, USD)" in text
    assert "total" in text
    assert "recorded 20" in text
    assert "Not included: data transfer" in text


def test_make_cost_refuses_another_region_with_exit_2(capsys: Any) -> None:
    code, _ = run("--env", "dev", "--region", "eu-west-1")
    assert code == 2
    assert "--region-factor" in capsys.readouterr().err
