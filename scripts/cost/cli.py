"""The `make cost ENV=… [PARAMETERS='Key=Value …']` command: print the estimate as a table."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from generator.config import Settings
from generator.naming import image_digest_parameter
from scripts.cfn.template import parse_template
from scripts.cost.estimate import (
    PRICED_REGION,
    CostError,
    Line,
    Usage,
    estimate,
    load_prices,
    total,
)
from scripts.deploy.errors import ConfigError
from scripts.deploy.params import CONFIG_DIR, ENVS, TEMPLATES_DIR, load_config

# The images of a running environment: `bootstrap` would price services with no task.
RUNNING = {
    image_digest_parameter(service.name): "sha256:" + "0" * 64 for service in Settings().services
}


def _pairs(values: Sequence[str], what: str) -> dict[str, str]:
    result: dict[str, str] = {}
    for pair in values:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CostError(f"{what} {pair!r}: use Key=Value")
        result[key] = value
    return result


def parameters(
    env: str, overrides: dict[str, str], config_dir: Path = CONFIG_DIR
) -> dict[str, str]:
    values = {k: str(v) for k, v in load_config(env, config_dir).get("core", {}).items()}
    return {**RUNNING, **values, **overrides}


def render(
    console: Console,
    env: str,
    lines: list[Line],
    usage: Usage,
    region: str,
    recorded: str,
    factor: float,
) -> None:
    table = Table(title=f"todo-{env}-core: monthly estimate ({region}, USD)")
    for column in ("resource", "what", "quantity"):
        table.add_column(column)
    table.add_column("per month", justify="right")
    for line in sorted(lines, key=lambda x: -x.monthly):
        table.add_row(line.resource, line.kind, line.quantity, f"{line.monthly:,.2f}")
    table.add_section()
    table.add_row("total", "", "", f"{total(lines):,.2f}")
    console.print(table)
    scaled = f", scaled by {factor:g} for {region}" if factor != 1.0 else ""
    console.print(
        f"Prices: scripts/cost/prices-us-east-1.json (us-east-1, recorded {recorded}{scaled}). "
        "Always-on resources for 730 hours, at their configured minimum (scaling out adds); "
        "usage assumed (--usage key=value changes one): "
        + ", ".join(f"{k}={v:g}" for k, v in usage.__dict__.items())
        + ". Not included: data transfer out and between AZs, other free tiers, CloudFront, "
        "the CI stack, tax and support."
    )


def main(argv: Sequence[str] | None = None, console: Console | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.cost", description=__doc__)
    parser.add_argument("--env", required=True, choices=ENVS)
    parser.add_argument(
        "--parameter",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a parameter of config/<env>.json, e.g. Egress=NatPerAz",
    )
    parser.add_argument(
        "--usage",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="change a usage assumption, e.g. users_mau=20000",
    )
    parser.add_argument("--region", default=os.environ.get("AWS_REGION") or PRICED_REGION)
    parser.add_argument(
        "--region-factor",
        type=float,
        help="another region's prices relative to us-east-1's (e.g. 1.1)",
    )
    parser.add_argument("--config-dir", type=Path, default=CONFIG_DIR, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    console = console or Console(width=None if sys.stdout.isatty() else 160)
    try:
        prices = load_prices(args.region, args.region_factor)
        usage = Usage().with_values(_pairs(args.usage, "--usage"))
        values = parameters(args.env, _pairs(args.parameter, "--parameter"), args.config_dir)
        template = parse_template((TEMPLATES_DIR / "core.yaml").read_text())
        lines = estimate(template, values, prices, usage)
    except (CostError, ConfigError) as exc:
        Console(stderr=True).print(f"[bold red]error:[/bold red] {exc}", highlight=False)
        return 2
    render(console, args.env, lines, usage, prices.region, prices.recorded, prices.factor)
    return 0
