"""What the local stack runs, read from the templates by one pure function: `describe`.

`describe` follows the template's wiring and returns a frozen `LocalDescription`: the tables,
buckets, user pool and app client to create, the ECS services with their commands and
environment, the HTTP API (routes, authorizer, CORS), the ALB routing, the website's response
headers and the password rules its sign-up page shows. It starts nothing and needs no emulator,
so it is tested on its own. Values that name a resource the emulator creates (a pool ID it
picks) are `Deferred` and bound once it exists.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scripts.cfn.template import Deferred, Placeholder, Resolver, Text, UnsupportedTemplate
from scripts.cfn.website_config import PasswordRules, read_password_rules
from scripts.local.alb import Routing, lambda_targets, read_routing
from scripts.local.apigateway import Api, read_api
from scripts.local.cloudfront import SecurityHeaders, read_security_headers
from scripts.local.resources import ACCOUNT_ID, CREATED_TYPES, REGION, Resources, read_resources
from scripts.local.services import LocalService, read_services

STACK_NAME = "todo-local-core"


@dataclass(frozen=True)
class LocalDescription:
    """Everything the local stack starts, and how it is wired, as the templates say."""

    resources: Resources
    services: tuple[LocalService, ...]
    api: Api
    routing: Routing
    user_pool: str  # logical ID of the pool the API's authorizer trusts
    user_pool_client: str  # logical ID of the app client in the authorizer's audience
    site_headers: SecurityHeaders
    password_rules: PasswordRules  # the user pool's, for the website's config.js

    def service(self, name: str) -> LocalService:
        for service in self.services:
            if service.name == name:
                return service
        raise KeyError(f"no service {name!r} in the template")


def pseudo_parameters(stack_name: str = STACK_NAME, region: str = REGION) -> dict[str, str]:
    return {
        "AWS::StackName": stack_name,
        "AWS::StackId": f"arn:aws:cloudformation:{region}:{ACCOUNT_ID}:stack/{stack_name}",
        "AWS::Region": region,
        "AWS::AccountId": ACCOUNT_ID,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
    }


def template_resolver(
    template: Mapping[str, Any], website_origin: str, stack_name: str = STACK_NAME
) -> Resolver:
    """The core template's resolver with local values; what the emulator creates is `later`."""
    resolver = Resolver(template, {"WebsiteOrigin": website_origin}, pseudo_parameters(stack_name))
    resolver.later = frozenset(resolver.of_type(*CREATED_TYPES))
    return resolver


def describe(
    template: Mapping[str, Any],
    *,
    app_dir: Path,
    website_origin: str,
    website_template: Mapping[str, Any] | None = None,
    stack_name: str = STACK_NAME,
    template_dir: Path | None = None,
) -> LocalDescription:
    """Read the core template (and the website template's headers) into a description.

    `template_dir` is where the core template lives, which a function's CodeUri is relative to
    (default: the templates/ directory beside `app_dir`)."""
    resolver = template_resolver(template, website_origin, stack_name)
    resources = read_resources(resolver)
    services = read_services(resolver, app_dir)
    api = read_api(resolver)
    functions = lambda_targets(resolver, template_dir or app_dir.parent / "templates")
    routing = read_routing(
        resolver, api.listener, {s.target_group: s.name for s in services}, functions
    )
    pool, client = app_user_pool(api, resources, resolver.pseudo["AWS::Region"])
    headers = (
        read_security_headers(Resolver(website_template, {}, {}))
        if website_template is not None
        else SecurityHeaders()
    )
    rules = read_password_rules(resolver, pool)
    return LocalDescription(resources, services, api, routing, pool, client, headers, rules)


def _only_resource(value: Text) -> Placeholder | None:
    """The resource `value` is a plain Ref to, if it is one."""
    if isinstance(value, Deferred) and len(value.parts) == 1:
        (part,) = value.parts
        if isinstance(part, Placeholder) and part.attribute is None:
            return part
    return None


def _show(value: Text) -> str:
    if isinstance(value, str):
        return value
    return "".join(
        p
        if isinstance(p, str)
        else "${" + p.logical_id + (f".{p.attribute}" if p.attribute else "") + "}"
        for p in value.parts
    )


def app_user_pool(api: Api, resources: Resources, region: str) -> tuple[str, str]:
    """The user pool and app client the API's authorizer trusts (logical IDs).

    A Cognito issuer is `https://cognito-idp.<region>.amazonaws.com/<pool ID>`; the audience
    names app clients.
    """
    pools = {p.logical_id for p in resources.user_pools}
    clients = {c.logical_id for c in resources.user_pool_clients}
    prefix = f"https://cognito-idp.{region}.amazonaws.com/"
    for authorizer in api.authorizers.values():
        issuer = authorizer.issuer
        pool = (
            issuer.parts[1]
            if isinstance(issuer, Deferred)
            and len(issuer.parts) == 2
            and issuer.parts[0] == prefix
            and isinstance(issuer.parts[1], Placeholder)
            and issuer.parts[1].attribute is None
            else None
        )
        if pool is None or pool.logical_id not in pools:
            raise UnsupportedTemplate(
                f"the API authorizer {authorizer.name} trusts {_show(issuer)}, "
                "which is not a user pool of this template"
            )
        audience = [
            ref.logical_id
            for ref in map(_only_resource, authorizer.audience)
            if ref is not None and ref.logical_id in clients
        ]
        if audience:
            return pool.logical_id, audience[0]
    if len(pools) == 1 and len(clients) == 1:
        return next(iter(pools)), next(iter(clients))
    raise UnsupportedTemplate("cannot tell which user pool and app client the app uses")
