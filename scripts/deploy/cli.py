"""Argument parsing and the mapping of named failures to exit codes and one clear message."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError
from rich.console import Console

from scripts.deploy import exec as exec_verb
from scripts.deploy import logs as logs_verb
from scripts.deploy import secret as secret_verb
from scripts.deploy import website
from scripts.deploy.aws import AwsClients
from scripts.deploy.destroy import run_destroy
from scripts.deploy.errors import ConfigError, DeployError, Interrupted, NoChanges
from scripts.deploy.params import CONFIG_DIR, ENVS, STACKS, TEMPLATES_DIR, stack_name, stack_outputs
from scripts.deploy.promote import run_promote
from scripts.deploy.rollback import run_rollback
from scripts.deploy.rollout import SERVICES, ServiceRef, run_deploy_service
from scripts.deploy.stacks import (
    Context,
    git_commit,
    run_changeset,
    run_deploy,
    start_instance_refresh,
)
from scripts.deploy.status import run_status
from scripts.pipeline.environments import previous

EXIT_CODES = """exit codes: 0 done or nothing to change; 1 deployment, rollout or delete failed;
2 bad input (config, missing output, missing artifact bucket, AWS credentials, a LaunchType
switch while the services exist; exec without session-manager-plugin, with exec off, or with no
task running the exec agent); 3 data loss refused, or a load balancer's deletion protection
without --disable-deletion-protection; 4 approval required or declined; 5 dirty tree or invalid
image tag; 6 docker missing; 130 interrupted (Ctrl-C: what AWS already started goes on)."""


def _overrides(pairs: Sequence[str]) -> dict[str, str]:
    result: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"--parameter {pair!r}: use Key=Value")
        result[key] = value
    return result


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.deploy",
        description="Deploy the to-do app's stacks, services and website.",
        epilog=EXIT_CODES,
    )
    verbs = parser.add_subparsers(dest="verb", required=True)

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = verbs.add_parser(name, help=help_text, description=help_text, epilog=EXIT_CODES)
        sub.add_argument("--env", required=True, choices=ENVS)
        return sub

    def add_role(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--role-arn",
            default=os.environ.get("DEPLOY_CFN_ROLE_ARN") or None,
            help="CloudFormation execution role for change sets and deletes (default: "
            "$DEPLOY_CFN_ROLE_ARN;"
            " unset: CloudFormation uses the caller's credentials)",
        )

    def add_rollout(name: str, help_text: str) -> argparse.ArgumentParser:
        """A verb that rolls one service out through the core stack and follows ECS."""
        sub = add(name, help_text)
        sub.add_argument("--service", required=True, choices=SERVICES)
        add_role(sub)
        sub.add_argument("--auto-approve", action="store_true", help="do not ask")
        sub.add_argument("--timeout", type=float, default=1800.0, help="seconds to wait for ECS")
        return sub

    launch_type = (
        "; refuses a LaunchType switch on a live stack while ServicesEnabled is true "
        "(the message gives the three-step switch)"
    )
    for verb, help_text in (
        ("changeset", "Create a change set and print what it would change" + launch_type),
        (
            "deploy",
            "Create a change set, confirm it, execute it and stream the events" + launch_type,
        ),
    ):
        sub = add(verb, help_text)
        sub.add_argument("--stack", required=True, choices=STACKS)
        sub.add_argument("--config-dir", type=Path, default=CONFIG_DIR, help=argparse.SUPPRESS)
        sub.add_argument(
            "--templates-dir", type=Path, default=TEMPLATES_DIR, help=argparse.SUPPRESS
        )
        sub.add_argument(
            "--artifact-bucket",
            default=os.environ.get("DEPLOY_ARTIFACT_BUCKET") or None,
            help="S3 bucket for templates over 51,200 bytes (default: $DEPLOY_ARTIFACT_BUCKET)",
        )
        sub.add_argument(
            "--parameter",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="override one parameter of config/<env>.json (repeatable)",
        )
        sub.add_argument(
            "--allow-data-loss",
            action="store_true",
            help="allow replacing or removing stateful resources (tables, buckets, user pool...)",
        )
        add_role(sub)
        if verb == "deploy":
            sub.add_argument("--auto-approve", action="store_true", help="do not ask")

    sub = add_rollout(
        "deploy-service", "Build and push an image, roll it out through the core stack"
    )
    image = sub.add_mutually_exclusive_group()
    image.add_argument(
        "--image-tag",
        help="roll out an image already in ECR (e.g. an earlier commit) instead of building HEAD",
    )
    image.add_argument("--image-digest", help="roll out an image already in ECR, by digest")

    sub = add_rollout(
        "promote",
        "Copy the image another environment runs into this one's repository, by digest (never "
        "rebuilt), and roll it out",
    )
    sub.add_argument(
        "--from",
        dest="source",
        choices=ENVS,
        help="the environment to promote from (default: the one before --env in "
        "config/promotion.json)",
    )
    sub.add_argument("--digest", help="the image to promote (default: what --from runs)")

    sub = add_rollout(
        "rollback",
        "Roll a service back to the image that last ran healthy (from ECS's deployments), or "
        "to an image tag, through a change set",
    )
    sub.add_argument("--to", help="an image tag in the service's repository")

    sub = add(
        "destroy",
        "Delete the environment's website and core stacks (not its CI stack), after listing "
        "what each leaves behind (DeletionPolicy Retain) and what it deletes",
    )
    sub.add_argument(
        "--yes", action="store_true", help="do not ask (required when input is not a terminal)"
    )
    sub.add_argument(
        "--disable-deletion-protection",
        action="store_true",
        help="turn the load balancer's deletion protection off through a change set "
        "(LoadBalancerDeletionProtection=false) before deleting; without it a protected stack "
        "is refused",
    )
    add_role(sub)

    sub = add(
        "refresh-instances",
        "Replace the container instances with ones on the launch template's latest version "
        "(a new AMI), one at a time, tasks drained first (make deploy does it by itself)",
    )
    add("publish-website", "Upload website/ with config.js and invalidate CloudFront")
    add("status", "Show stacks, services and target health")
    sub = add(
        "exec",
        "Open an ECS Exec session (a shell, or one command) in a running task of a service; "
        "needs session-manager-plugin and EnableExec=true; every session is logged",
    )
    sub.add_argument("--service", required=True, choices=SERVICES)
    sub.add_argument(
        "--command",
        default=exec_verb.DEFAULT_COMMAND,
        help=f"what to run in the container (default {exec_verb.DEFAULT_COMMAND})",
    )
    sub = add(
        "secret",
        "Set or rotate a secret the services read (the value from standard input); running "
        "tasks keep the old value until replaced (--restart replaces them now)",
    )
    sub.add_argument("--name", required=True, help="the secret's name in generator/config.py")
    sub.add_argument(
        "--restart", action="store_true", help="start a new deployment of the services that read it"
    )
    sub = add("logs", "Print a service's CloudWatch logs")
    sub.add_argument("--service", required=True, choices=SERVICES)
    sub.add_argument("--since", default="10m", help="how far back, e.g. 30s, 10m, 2h (default 10m)")
    sub.add_argument("--follow", action="store_true", help="keep printing new events")
    return parser


def _context(
    args: argparse.Namespace, clients: AwsClients, console: Console, **options: Any
) -> Context:
    """For the verbs that create change sets: only they name one after the git commit."""
    return Context(
        clients=clients,
        console=console,
        env=args.env,
        commit=git_commit(),
        role_arn=args.role_arn,
        **options,
    )


def run(args: argparse.Namespace, clients: AwsClients, console: Console) -> None:
    if args.verb in ("changeset", "deploy"):
        ctx = _context(
            args,
            clients,
            console,
            config_dir=args.config_dir,
            templates_dir=args.templates_dir,
            artifact_bucket=args.artifact_bucket,
        )
        overrides = _overrides(args.parameter)
        if args.verb == "changeset":
            run_changeset(ctx, args.stack, args.allow_data_loss, overrides)
        else:
            run_deploy(
                ctx,
                args.stack,
                auto_approve=args.auto_approve,
                allow_data_loss=args.allow_data_loss,
                overrides=overrides,
            )
    elif args.verb == "deploy-service":
        run_deploy_service(
            _context(args, clients, console),
            args.service,
            auto_approve=args.auto_approve,
            image_tag=args.image_tag,
            image_digest=args.image_digest,
            timeout_seconds=args.timeout,
        )
    elif args.verb == "promote":
        source = args.source or previous(args.env)
        if source is None:
            raise ConfigError(f"{args.env} is the first environment: there is none to promote from")
        run_promote(
            _context(args, clients, console),
            args.service,
            source,
            digest=args.digest,
            auto_approve=args.auto_approve,
            timeout_seconds=args.timeout,
        )
    elif args.verb == "rollback":
        run_rollback(
            _context(args, clients, console),
            args.service,
            to=args.to,
            auto_approve=args.auto_approve,
            timeout_seconds=args.timeout,
        )
    elif args.verb == "destroy":
        run_destroy(
            _context(args, clients, console),
            yes=args.yes,
            disable_deletion_protection=args.disable_deletion_protection,
        )
    elif args.verb == "publish-website":
        cfn = clients("cloudformation")
        website.publish(
            clients("s3"),
            clients("cloudfront"),
            console,
            core_outputs=stack_outputs(cfn, stack_name(args.env, "core")),
            website_outputs=stack_outputs(cfn, stack_name(args.env, "website")),
        )
    elif args.verb == "status":
        run_status(clients, console, args.env)
    elif args.verb == "exec":
        core = stack_name(args.env, "core")
        ref = ServiceRef.from_outputs(
            args.service, stack_outputs(clients("cloudformation"), core), core
        )
        code = exec_verb.open_session(
            clients("ecs"),
            console,
            cluster=ref.cluster,
            service=ref.name,
            container=ref.container,
            command=args.command,
            profile=os.environ.get("AWS_PROFILE", ""),
        )
        if code != 0:
            raise exec_verb.SessionEnded(f"the session ended with exit code {code}", code)
    elif args.verb == "refresh-instances":
        start_instance_refresh(_context(args, clients, console))
    elif args.verb == "secret":
        secret_verb.run_secret(clients, console, args.env, args.name, restart_services=args.restart)
    elif args.verb == "logs":
        core = stack_name(args.env, "core")
        outputs = stack_outputs(clients("cloudformation"), core)
        ref = ServiceRef.from_outputs(args.service, outputs, core)
        if not ref.log_group:
            raise ConfigError(f"stack {core} has no {args.service.capitalize()}LogGroupName output")
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C ends --follow cleanly
            logs_verb.tail(
                clients("logs"),
                console,
                ref.log_group,
                since_seconds=logs_verb.parse_since(args.since),
                follow=args.follow,
            )


def main(
    argv: Sequence[str] | None = None,
    clients: AwsClients | None = None,
    console: Console | None = None,
) -> int:
    args = build_parser().parse_args(argv)
    # Logs of CI runs are wider than a terminal's 80 columns; keep table rows on one line.
    console = console or Console(width=None if sys.stdout.isatty() else 160)
    errors = Console(stderr=True)
    try:
        run(args, clients or AwsClients(), console)
    except NoChanges as exc:
        console.print(f"[green]{exc}[/green]")
        return NoChanges.exit_code
    except DeployError as exc:
        errors.print(f"[bold red]error:[/bold red] {exc}", highlight=False)
        return exc.exit_code
    except (NoCredentialsError, NoRegionError) as exc:
        errors.print(
            f"[bold red]error:[/bold red] {exc}: configure AWS credentials and a region "
            "(AWS_PROFILE / AWS_REGION, or `aws configure`)",
            highlight=False,
        )
        return ConfigError.exit_code
    except ClientError as exc:
        error = exc.response.get("Error", {})
        errors.print(
            f"[bold red]error:[/bold red] {exc.operation_name} failed: "
            f"{error.get('Code', '')}: {error.get('Message', exc)}",
            highlight=False,
        )
        return 1
    except BotoCoreError as exc:
        errors.print(f"[bold red]error:[/bold red] {exc}", highlight=False)
        return 1
    except KeyboardInterrupt:
        errors.print("[bold red]interrupted[/bold red] (Ctrl-C)", highlight=False)
        return Interrupted.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
