"""`make rollback SERVICE=… ENV=… [TO=<tag>]`: back to the image that last ran healthy.

CloudFormation keeps no history of parameter values, and deletes a change set once it is
executed, so the stack cannot say what ran before. ECS can: every deployment of the service is
recorded (ListServiceDeployments), a SUCCESSFUL one ran its target revision healthy to the end,
and each revision names its containers' images by digest (DescribeServiceRevisions,
`containerImages`). The image to go back to is the newest one that ran healthy and differs from
what the stack names now. With TO=<tag> the tag is looked up in the service's repository, and a
tag that does not exist is refused before anything changes. Either way the image goes in
through a change set and the deployment is followed like any rollout (rollout.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from generator import naming
from scripts.deploy import image
from scripts.deploy.aws import Client
from scripts.deploy.errors import DeployFailed
from scripts.deploy.params import describe_stack, outputs_of, parameters_of, stack_name
from scripts.deploy.rollout import ServiceRef, run_deploy_service
from scripts.deploy.stacks import Context


@dataclass(frozen=True)
class HealthyImage:
    digest: str
    image: str  # as the revision names it (repository@digest or repository:tag)
    finished: datetime | None
    deployment: str


def healthy_images(
    ecs: Client, cluster: str, service: str, container: str, *, limit: int = 20
) -> list[HealthyImage]:
    """The images the service's SUCCESSFUL deployments ran, newest first."""
    summaries: list[dict[str, Any]] = []
    token: dict[str, str] = {}
    while len(summaries) < limit:
        page = ecs.list_service_deployments(
            cluster=cluster, service=service, status=["SUCCESSFUL"], **token
        )
        summaries += page.get("serviceDeployments", [])
        if not page.get("nextToken"):
            break
        token = {"nextToken": page["nextToken"]}
    summaries.sort(
        key=lambda d: d.get("finishedAt") or d.get("createdAt") or datetime.min, reverse=True
    )
    summaries = summaries[:limit]
    revisions = [
        d["targetServiceRevisionArn"] for d in summaries if d.get("targetServiceRevisionArn")
    ]
    by_arn: dict[str, dict[str, Any]] = {}
    for start in range(0, len(revisions), 20):  # DescribeServiceRevisions takes 20 at most
        answer = ecs.describe_service_revisions(serviceRevisionArns=revisions[start : start + 20])
        by_arn |= {r["serviceRevisionArn"]: r for r in answer.get("serviceRevisions", [])}
    found = []
    for summary in summaries:
        revision = by_arn.get(summary.get("targetServiceRevisionArn", ""))
        for named in (revision or {}).get("containerImages", []):
            if named.get("containerName") == container and named.get("imageDigest"):
                found.append(
                    HealthyImage(
                        str(named["imageDigest"]),
                        str(named.get("image", "")),
                        summary.get("finishedAt"),
                        str(summary["serviceDeploymentArn"]),
                    )
                )
    return found


def previous_healthy(images: Sequence[HealthyImage], current: str) -> HealthyImage:
    """The newest healthy image other than `current` (the digest the stack names now)."""
    for healthy in images:
        if healthy.digest != current:
            return healthy
    raise DeployFailed(
        f"ECS records no earlier healthy image than {current} (it keeps the recent deployments "
        "only): name one with TO=<tag>"
    )


def run_rollback(
    ctx: Context, service: str, *, to: str | None, auto_approve: bool, timeout_seconds: float
) -> dict[str, Any]:
    """Roll `service` back to the image that last ran healthy before the current one, or to the
    image tagged `to`."""
    core = stack_name(ctx.env, "core")
    stack = describe_stack(ctx.clients("cloudformation"), core)
    if stack is None:
        raise DeployFailed(f"stack {core} does not exist")
    outputs = outputs_of(stack)
    current = parameters_of(stack).get(naming.image_digest_parameter(service), "")
    if to is not None:
        uri = outputs[naming.repository_uri_output(service)]
        digest = image.digest_of(ctx.clients("ecr"), uri, to)
        reason = f"tag {to}"
    else:
        ref = ServiceRef.from_outputs(service, outputs, core)
        images = healthy_images(ctx.clients("ecs"), ref.cluster, ref.name, ref.container)
        chosen = previous_healthy(images, current)
        digest = chosen.digest
        when = (
            f", deployment finished {chosen.finished:%Y-%m-%d %H:%M} UTC" if chosen.finished else ""
        )
        reason = f"the last image that ran healthy before {current}{when}"
    ctx.console.print(f"Rolling {service} in {ctx.env} back to {digest}: {reason}")
    return run_deploy_service(
        ctx,
        service,
        auto_approve=auto_approve,
        image_digest=digest,
        timeout_seconds=timeout_seconds,
        what="rollback to",
    )
