"""`make smoke ENV=…|URL=…` and `make smoke-user ENV=… [ROTATE=1]`.

With ENV the endpoints come from the environment's stacks: the website stack's SiteUrl, and
the core stack's outputs, which config.js must match. With URL they come from the site and its
config.js alone. The smoke user's credentials come from Secrets Manager (`todo/<env>/smoke-user`,
or --secret-id); against `make up` (config.js says `local`), from the emulator that serves the
site's Cognito.

Exit codes: 0 every check passed; 1 a check failed; 2 bad input (no such stack, no credentials).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError
from rich.console import Console
from rich.table import Table

from scripts.deploy.aws import AwsClients, error_message
from scripts.deploy.errors import ConfigError
from scripts.deploy.params import ENVS, stack_name, stack_outputs
from scripts.local.resources import emulator_client
from scripts.smoke.checks import CheckFailed, Result, Run, origin, read_config, run_checks
from scripts.smoke.user import (
    SmokeUser,
    SmokeUserError,
    ensure_smoke_user,
    read_secret,
    secret_name,
)

EXIT_CODES = "exit codes: 0 every check passed; 1 a check failed; 2 bad input."


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.smoke",
        description="Check a deployed or local stack through its front door.",
        epilog=EXIT_CODES,
    )
    verbs = parser.add_subparsers(dest="verb", required=True)
    run = verbs.add_parser("run", help="run the smoke checks", epilog=EXIT_CODES)
    where = run.add_mutually_exclusive_group(required=True)
    where.add_argument("--env", choices=ENVS, help="an environment's stacks")
    where.add_argument("--url", help="a site URL (CloudFront, a custom domain, or make up's)")
    run.add_argument(
        "--secret-id",
        default=os.environ.get("SMOKE_SECRET_ID") or None,
        help="the smoke user's secret (default todo/<env>/smoke-user; $SMOKE_SECRET_ID)",
    )
    user = verbs.add_parser(
        "user", help="create the environment's smoke user, or rotate its password"
    )
    user.add_argument("--env", choices=ENVS, required=True)
    user.add_argument("--rotate", action="store_true", help="set a new password")
    return parser


def local_secrets(config_endpoint: str) -> Any:
    """The emulator behind make up's Cognito endpoint serves its Secrets Manager too."""
    return emulator_client(origin(config_endpoint), "secretsmanager")


def prepare(args: argparse.Namespace, clients: AwsClients) -> Run:
    """Where the stack answers and who signs in, from the stacks or from the URL."""
    if args.env:
        cfn = clients("cloudformation")
        outputs = stack_outputs(cfn, stack_name(args.env, "core"))
        site = stack_outputs(cfn, stack_name(args.env, "website")).get("SiteUrl")
        if not site:
            raise ConfigError(f"stack {stack_name(args.env, 'website')} has no output SiteUrl")
        config = read_config(site)
        user = read_secret(clients("secretsmanager"), args.secret_id or secret_name(args.env))
        if user is None:
            raise ConfigError(
                f"no secret {args.secret_id or secret_name(args.env)}: create the smoke user "
                f"with `make smoke-user ENV={args.env}` (administrator credentials)"
            )
        return Run(site, config, user, outputs)
    config = read_config(args.url)
    return Run(args.url, config, _url_user(args, config, clients))


def _url_user(args: argparse.Namespace, config: Any, clients: AwsClients) -> SmokeUser | None:
    if config.local:
        secrets = local_secrets(config["cognitoEndpoint"])
        return read_secret(secrets, args.secret_id or secret_name("local"))
    if args.secret_id:
        return read_secret(clients("secretsmanager"), args.secret_id)
    name, password = os.environ.get("SMOKE_USER_EMAIL"), os.environ.get("SMOKE_USER_PASSWORD")
    if name and password:
        return SmokeUser(name, password)
    return None  # the sign-in check fails and says how to give credentials


def render(console: Console, target: str, results: Sequence[Result]) -> None:
    table = Table(title=f"Smoke test of {target}", title_justify="left")
    for column in ("Check", "Result", "Detail", "ms"):
        table.add_column(column, overflow="fold")
    for result in results:
        mark = "[green]PASS[/green]" if result.passed else "[bold red]FAIL[/bold red]"
        table.add_row(result.name, mark, result.detail, str(result.millis))
    console.print(table)
    failed = [r.name for r in results if not r.passed]
    if failed:
        console.print(
            f"[bold red]{len(failed)} of {len(results)} checks failed:[/bold red] "
            + ", ".join(failed)
        )
    else:
        console.print(f"[green]all {len(results)} checks passed[/green]")


def main(
    argv: Sequence[str] | None = None,
    console: Console | None = None,
    clients: AwsClients | None = None,
) -> int:
    args = build_parser().parse_args(argv)
    clients = clients or AwsClients()
    console = console or Console(width=None if sys.stdout.isatty() else 160)
    errors = Console(stderr=True)
    try:
        if args.verb == "user":
            return create_user(args, console, clients)
        run = prepare(args, clients)
    except (ConfigError, CheckFailed) as err:
        errors.print(f"[bold red]error:[/bold red] {err}", highlight=False)
        return 2
    except (NoCredentialsError, NoRegionError) as err:
        errors.print(f"[bold red]error:[/bold red] {err}: configure AWS credentials and a region")
        return 2
    except ClientError as err:
        errors.print(f"[bold red]error:[/bold red] {err.operation_name}: {error_message(err)}")
        return 2
    except BotoCoreError as err:
        errors.print(f"[bold red]error:[/bold red] {err}")
        return 2
    except SmokeUserError as err:
        errors.print(f"[bold red]error:[/bold red] {err}", highlight=False)
        return 1
    results = run_checks(run)
    render(console, run.site_url, results)
    return 0 if all(r.passed for r in results) else 1


def create_user(args: argparse.Namespace, console: Console, clients: AwsClients) -> int:
    outputs = stack_outputs(clients("cloudformation"), stack_name(args.env, "core"))
    if "UserPoolId" not in outputs:
        raise ConfigError(f"stack {stack_name(args.env, 'core')} has no output UserPoolId")
    user, action = ensure_smoke_user(
        clients("cognito-idp"),
        clients("secretsmanager"),
        outputs["UserPoolId"],
        args.env,
        rotate=args.rotate,
    )
    console.print(
        f"smoke user {user.username} {action}; its password is in {secret_name(args.env)}"
    )
    return 0
