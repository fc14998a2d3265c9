"""Follow the template's wiring: API routes and authorizer, ALB listener rules, ECS services.

Nothing here names a logical ID: the API is the template's HTTP API, its integration names the
ALB listener, each listener rule forwards to a target group, the ECS service that registers in
that target group runs a task definition, and the container named in the service's load balancer
mapping (`main`, `files`) is the app service `app/<name>_service/`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from scripts.cfn.template import LogicalRef, Resolver, UnsupportedTemplate

LISTENER = "AWS::ElasticLoadBalancingV2::Listener"
LISTENER_RULE = "AWS::ElasticLoadBalancingV2::ListenerRule"
ECS_SERVICE = "AWS::ECS::Service"
HTTP_API_V2 = "AWS::ApiGatewayV2::Api"
HTTP_API_SAM = "AWS::Serverless::HttpApi"
AUTHORIZER = "AWS::ApiGatewayV2::Authorizer"
ROUTE = "AWS::ApiGatewayV2::Route"
INTEGRATION = "AWS::ApiGatewayV2::Integration"


# --- ALB -------------------------------------------------------------------------------------


def path_pattern_regex(pattern: str) -> re.Pattern[str]:
    """ALB path-pattern semantics: case-sensitive, `*` any characters (including `/`), `?` one."""
    parts = ["[^\n]*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern]
    return re.compile("".join(parts) + r"\Z")


@dataclass(frozen=True)
class FixedResponse:
    status: int
    content_type: str
    body: str


@dataclass(frozen=True)
class ListenerRule:
    logical_id: str
    priority: int
    patterns: tuple[str, ...]
    action: str | FixedResponse  # a container name, or the rule's fixed response

    @cached_property
    def _regexes(self) -> tuple[re.Pattern[str], ...]:
        return tuple(path_pattern_regex(p) for p in self.patterns)

    def matches(self, path: str) -> bool:
        return any(regex.match(path) for regex in self._regexes)


@dataclass(frozen=True)
class Routing:
    """The ALB listener: rules in priority order, then the default action."""

    rules: tuple[ListenerRule, ...]
    default: str | FixedResponse

    def route(self, path: str) -> str | FixedResponse:
        for rule in self.rules:
            if rule.matches(path):
                return rule.action
        return self.default


@dataclass(frozen=True)
class ServiceSpec:
    """One ECS service: its container name and the container's environment from the template."""

    logical_id: str
    container: str
    environment: Mapping[str, Any]


def _ref_id(value: Any, where: str) -> str:
    if isinstance(value, LogicalRef):
        return value.logical_id
    raise UnsupportedTemplate(f"{where}: expected a Ref to a resource of this template")


def find_services(resolver: Resolver) -> dict[str, ServiceSpec]:
    """ECS services by target group logical ID."""
    services: dict[str, ServiceSpec] = {}
    for service_id in resolver.of_type(ECS_SERVICE):
        where = f"Resources.{service_id}.Properties"
        task_id = _ref_id(resolver.prop(service_id, "TaskDefinition"), f"{where}.TaskDefinition")
        # Only names are resolved here: the environment is resolved once the local resources
        # exist, and the rest (image, logging...) has no meaning locally.
        task_where = f"Resources.{task_id}.Properties.ContainerDefinitions"
        containers = {
            resolver.text(c.get("Name"), f"{task_where}[{i}].Name"): c
            for i, c in enumerate(resolver.properties(task_id).get("ContainerDefinitions", []))
        }
        for mapping in resolver.prop(service_id, "LoadBalancers") or []:
            target_group = _ref_id(mapping.get("TargetGroupArn"), f"{where}.LoadBalancers")
            name = str(mapping.get("ContainerName"))
            if name not in containers:
                raise UnsupportedTemplate(
                    f"Resources.{task_id}: no container named {name!r} "
                    f"(the load balancer mapping of {service_id} names it)"
                )
            environment = {
                resolver.text(e["Name"], task_where): e["Value"]
                for e in containers[name].get("Environment", [])
            }
            services[target_group] = ServiceSpec(service_id, str(name), environment)
    return services


def _action(
    resolver: Resolver, actions: list[Any], where: str, services: Mapping[str, ServiceSpec]
) -> str | FixedResponse:
    for action in sorted(actions, key=lambda a: int(a.get("Order", 0))):
        kind = str(action.get("Type", "")).lower()
        if kind == "fixed-response":
            config = action.get("FixedResponseConfig", {})
            return FixedResponse(
                int(config.get("StatusCode", 200)),
                str(config.get("ContentType", "text/plain")),
                str(config.get("MessageBody", "")),
            )
        if kind == "forward":
            target = action.get("TargetGroupArn")
            if target is None:
                groups = action.get("ForwardConfig", {}).get("TargetGroups", [])
                if len(groups) != 1:
                    raise UnsupportedTemplate(f"{where}: weighted forwarding is not emulated")
                target = groups[0].get("TargetGroupArn")
            target_id = _ref_id(target, where)
            if target_id not in services:
                raise UnsupportedTemplate(
                    f"{where}: no ECS service registers in target group {target_id}"
                )
            return services[target_id].container
        if kind in ("authenticate-cognito", "authenticate-oidc"):
            continue
        raise UnsupportedTemplate(f"{where}: action type {kind!r} is not emulated")
    raise UnsupportedTemplate(f"{where}: no forward or fixed-response action")


def _patterns(conditions: list[Any], where: str) -> tuple[str, ...]:
    patterns: list[str] = []
    for condition in conditions:
        if condition.get("Field") != "path-pattern":
            raise UnsupportedTemplate(
                f"{where}: condition field {condition.get('Field')!r} is not emulated"
            )
        values = condition.get("PathPatternConfig", {}).get("Values") or condition.get("Values")
        patterns.extend(str(v) for v in values or [])
    if not patterns:
        raise UnsupportedTemplate(f"{where}: a rule without path patterns")
    return tuple(patterns)


def read_routing(
    resolver: Resolver, listener_id: str, services: Mapping[str, ServiceSpec]
) -> Routing:
    """The listener's rules (lowest priority number first) and default action."""
    rules: list[ListenerRule] = []
    for rule_id in resolver.of_type(LISTENER_RULE):
        where = f"Resources.{rule_id}.Properties"
        if _ref_id(resolver.prop(rule_id, "ListenerArn"), f"{where}.ListenerArn") != listener_id:
            continue
        rules.append(
            ListenerRule(
                rule_id,
                int(resolver.prop(rule_id, "Priority")),
                _patterns(resolver.prop(rule_id, "Conditions") or [], f"{where}.Conditions"),
                _action(resolver, resolver.prop(rule_id, "Actions") or [], where, services),
            )
        )
    rules.sort(key=lambda r: r.priority)
    where = f"Resources.{listener_id}.Properties.DefaultActions"
    default = _action(resolver, resolver.prop(listener_id, "DefaultActions") or [], where, services)
    return Routing(tuple(rules), default)


# --- API Gateway -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Authorizer:
    """A JWT authorizer: where the token comes from and what it must say."""

    name: str
    issuer: str
    audience: tuple[str, ...]
    header: str = "authorization"


@dataclass(frozen=True)
class Cors:
    allow_origins: tuple[str, ...] = ()
    allow_methods: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age: int | None = None
    allow_credentials: bool = False


@dataclass(frozen=True)
class HeaderMapping:
    """An integration parameter mapping on a header: overwrite, append or remove."""

    operation: str
    header: str
    value: str


@dataclass(frozen=True)
class ApiRoute:
    method: str  # ANY or an HTTP method
    path: str  # as in the route key, e.g. /todos/{proxy+}; $default matches everything
    authorizer: Authorizer | None
    scopes: tuple[str, ...] = ()
    mappings: tuple[HeaderMapping, ...] = ()
    listener: str | None = None
    timeout_ms: int | None = None  # the integration's TimeoutInMillis

    @cached_property  # the gateway matches every request against every route
    def regex(self) -> re.Pattern[str]:
        if self.path == "$default":
            return re.compile(r".*\Z", re.DOTALL)
        pattern = ""
        for piece in re.split(r"(\{[^}]+\})", self.path):
            if piece.startswith("{") and piece.endswith("+}"):
                pattern += ".+"
            elif piece.startswith("{"):
                pattern += "[^/]+"
            else:
                pattern += re.escape(piece)
        return re.compile(pattern + r"\Z")

    def specificity(self) -> tuple[int, int, int, int]:
        """API Gateway prefers full matches over greedy and `$default`, and a method over ANY."""
        return (
            self.path == "$default",
            "+}" in self.path,
            self.path.count("{"),
            self.method == "ANY",
        )


@dataclass(frozen=True)
class Api:
    routes: tuple[ApiRoute, ...]
    cors: Cors | None
    listener: str

    def match(self, method: str, path: str) -> ApiRoute | None:
        candidates = [r for r in self.routes if r.method in ("ANY", method) and r.regex.match(path)]
        return min(candidates, key=ApiRoute.specificity) if candidates else None


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


def _cors(config: Any, where: str) -> Cors | None:
    if config is None or config is False:
        return None
    if not isinstance(config, dict):
        raise UnsupportedTemplate(f"{where}: only a CorsConfiguration mapping is emulated")
    get = {k.lower(): v for k, v in config.items()}.get
    max_age = get("maxage")
    return Cors(
        allow_origins=_strings(get("alloworigins")),
        allow_methods=tuple(m.upper() for m in _strings(get("allowmethods"))),
        allow_headers=tuple(h.lower() for h in _strings(get("allowheaders"))),
        expose_headers=tuple(h.lower() for h in _strings(get("exposeheaders"))),
        max_age=int(max_age) if max_age is not None else None,
        allow_credentials=bool(get("allowcredentials", False)),
    )


def _identity_header(source: Any, where: str) -> str:
    sources = _strings(source) or ("$request.header.Authorization",)
    prefix = "$request.header."
    if len(sources) != 1 or not sources[0].startswith(prefix):
        raise UnsupportedTemplate(f"{where}: only a single header identity source is emulated")
    return sources[0][len(prefix) :].lower()


def _jwt_authorizer(name: str, config: Mapping[str, Any], source: Any, where: str) -> Authorizer:
    get = {k.lower(): v for k, v in config.items()}.get
    issuer = get("issuer")
    if not isinstance(issuer, str):
        raise UnsupportedTemplate(f"{where}: a JWT authorizer needs an issuer")
    return Authorizer(name, issuer, _strings(get("audience")), _identity_header(source, where))


def _mappings(parameters: Any, where: str) -> tuple[HeaderMapping, ...]:
    mappings: list[HeaderMapping] = []
    for key, value in (parameters or {}).items():
        operation, _, target = str(key).partition(":")
        if not target.startswith("header."):
            raise UnsupportedTemplate(f"{where}: parameter mapping {key!r} is not emulated")
        mappings.append(HeaderMapping(operation, target[len("header.") :].lower(), str(value)))
    return tuple(mappings)


def find_api(resolver: Resolver) -> str:
    apis = resolver.of_type(HTTP_API_V2, HTTP_API_SAM)
    if len(apis) != 1:
        raise UnsupportedTemplate(f"the template needs exactly one HTTP API, found {apis}")
    return apis[0]


def read_api(resolver: Resolver) -> Api:
    """Routes, authorizers, parameter mappings and CORS of the template's HTTP API."""
    api_id = find_api(resolver)
    where = f"Resources.{api_id}.Properties"
    cors = _cors(resolver.prop(api_id, "CorsConfiguration"), f"{where}.CorsConfiguration")

    authorizers: dict[str, Authorizer] = {}
    for auth_id in resolver.of_type(AUTHORIZER):
        if _ref_id(resolver.prop(auth_id, "ApiId"), f"Resources.{auth_id}") != api_id:
            continue
        auth_where = f"Resources.{auth_id}.Properties"
        if resolver.prop(auth_id, "AuthorizerType") != "JWT":
            raise UnsupportedTemplate(f"{auth_where}.AuthorizerType: only JWT is emulated")
        authorizers[auth_id] = _jwt_authorizer(
            auth_id,
            resolver.prop(auth_id, "JwtConfiguration") or {},
            resolver.prop(auth_id, "IdentitySource"),
            auth_where,
        )
    sam_auth = resolver.prop(api_id, "Auth") or {}
    for name, config in (sam_auth.get("Authorizers") or {}).items():
        authorizers[name] = _jwt_authorizer(
            name,
            config.get("JwtConfiguration") or {},
            config.get("IdentitySource"),
            f"{where}.Auth.Authorizers.{name}",
        )

    integrations: dict[str, tuple[tuple[HeaderMapping, ...], str | None, int | None]] = {}
    for integration_id in resolver.of_type(INTEGRATION):
        int_where = f"Resources.{integration_id}.Properties"
        uri = resolver.prop(integration_id, "IntegrationUri")
        timeout = resolver.prop(integration_id, "TimeoutInMillis")
        integrations[integration_id] = (
            _mappings(resolver.prop(integration_id, "RequestParameters"), int_where),
            uri.logical_id if isinstance(uri, LogicalRef) else None,
            int(timeout) if timeout is not None else None,
        )

    routes: list[ApiRoute] = []
    for route_id in resolver.of_type(ROUTE):
        route_where = f"Resources.{route_id}.Properties"
        if _ref_id(resolver.prop(route_id, "ApiId"), route_where) != api_id:
            continue
        method, _, path = str(resolver.prop(route_id, "RouteKey")).partition(" ")
        if method == "$default":
            path = "$default"
        authorizer = None
        if resolver.prop(route_id, "AuthorizationType", "NONE") == "JWT":
            auth_ref = resolver.prop(route_id, "AuthorizerId")
            authorizer = authorizers[_ref_id(auth_ref, f"{route_where}.AuthorizerId")]
        target = resolver.properties(route_id).get("Target")
        mappings, route_listener, timeout_ms = integrations.get(
            _integration_of(target) or "", ((), None, None)
        )
        routes.append(
            ApiRoute(
                method.upper() if method != "$default" else "ANY",
                path,
                authorizer,
                _strings(resolver.prop(route_id, "AuthorizationScopes")),
                mappings,
                route_listener,
                timeout_ms,
            )
        )
    listeners = resolver.of_type(LISTENER)
    listener = next((r.listener for r in routes if r.listener), None)
    if listener is None:
        if len(listeners) != 1:
            raise UnsupportedTemplate(
                f"Resources.{api_id}: cannot tell which ALB listener the API integrates with"
            )
        listener = listeners[0]
    if not routes:
        raise UnsupportedTemplate(f"Resources.{api_id}: the HTTP API has no routes")
    return Api(tuple(routes), cors, listener)


def _integration_of(target: Any) -> str | None:
    """The integration named by a route Target: !Sub integrations/${X}, or a Join with !Ref X."""
    if not isinstance(target, dict) or len(target) != 1:
        return None
    ((key, arg),) = target.items()
    if key == "Fn::Sub":
        found = re.search(r"\$\{(\w+)\}", str(arg[0] if isinstance(arg, list) else arg))
        return found.group(1) if found else None
    if key == "Fn::Join":
        refs = [item["Ref"] for item in arg[1] if isinstance(item, dict) and "Ref" in item]
        return str(refs[0]) if refs else None
    return None


# --- website response headers ----------------------------------------------------------------


@dataclass(frozen=True)
class SecurityHeaders:
    content_security_policy: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


def read_security_headers(resolver: Resolver) -> SecurityHeaders:
    """The website stack's CloudFront response-headers policy, as plain header values.

    HSTS is left out: it means nothing over local http and would pin the host name to https.
    """
    policies = resolver.of_type("AWS::CloudFront::ResponseHeadersPolicy")
    if not policies:
        return SecurityHeaders()
    raw = resolver.properties(policies[0]).get("ResponseHeadersPolicyConfig", {})
    security = raw.get("SecurityHeadersConfig", {})
    where = f"Resources.{policies[0]}.Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig"
    headers: dict[str, str] = {}
    if "ContentTypeOptions" in security:
        headers["X-Content-Type-Options"] = "nosniff"
    frame = security.get("FrameOptions", {}).get("FrameOption")
    if frame:
        headers["X-Frame-Options"] = str(resolver.resolve(frame, where))
    referrer = security.get("ReferrerPolicy", {}).get("ReferrerPolicy")
    if referrer:
        headers["Referrer-Policy"] = str(resolver.resolve(referrer, where))
    xss = security.get("XSSProtection")
    if xss:
        headers["X-XSS-Protection"] = (
            "1; mode=block" if xss.get("ModeBlock") else ("1" if xss.get("Protection") else "0")
        )
    # The CSP's sources name AWS hosts; only its shape is kept (connect-src is rewritten locally),
    # so its Sub variables are replaced by placeholders instead of being resolved.
    csp = security.get("ContentSecurityPolicy", {}).get("ContentSecurityPolicy")
    csp_text = None
    if csp is not None:
        csp_text = _placeholder_text(csp)
    return SecurityHeaders(csp_text, headers)


def _placeholder_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and len(value) == 1:
        ((key, arg),) = value.items()
        if key == "Fn::Sub":
            source = arg[0] if isinstance(arg, list) else arg
            return re.sub(r"\$\{[^}]+\}", "aws.invalid", str(source))
        if key == "Fn::Join":
            return str(arg[0]).join(_placeholder_text(v) for v in arg[1])
    return "aws.invalid"
