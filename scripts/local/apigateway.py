"""The HTTP API as the local gateway plays it: routes, JWT authorizers, header mappings, CORS.

Read from the template by following references: the routes of the template's one HTTP API, the
authorizer each names, and the integration each targets (its parameter mappings, timeout and the
ALB listener it reaches through the VPC link).

`RequestTarget` is how an HTTP API reads a request's path: decoded once, before the routes match
it, and passed on decoded (docs/local.md, "Encoded paths", has the sources).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.parse import quote, unquote_to_bytes

from scripts.cfn.template import Deferred, LogicalRef, Resolver, Text, UnsupportedTemplate
from scripts.local.alb import LISTENER, ref_id

HTTP_API_V2 = "AWS::ApiGatewayV2::Api"
HTTP_API_SAM = "AWS::Serverless::HttpApi"
AUTHORIZER = "AWS::ApiGatewayV2::Authorizer"
ROUTE = "AWS::ApiGatewayV2::Route"
INTEGRATION = "AWS::ApiGatewayV2::Integration"


@dataclass(frozen=True)
class Authorizer:
    """A JWT authorizer: where the token comes from and what it must say.

    The issuer and audience name the user pool and app client, whose IDs the emulator picks when
    it creates them: until then they are `Deferred`.
    """

    name: str
    issuer: Text
    audience: tuple[Text, ...]
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
class Integration:
    """What a route's integration does: header mappings, the ALB listener, its time limit."""

    mappings: tuple[HeaderMapping, ...] = ()
    listener: str | None = None
    timeout_ms: int | None = None


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
        # A decoded path may hold any character, a newline too: a variable still matches it.
        return re.compile(pattern + r"\Z", re.DOTALL)

    def specificity(self) -> tuple[int, int, int, int]:
        """API Gateway prefers full matches over greedy and `$default`, and a method over ANY."""
        return (
            self.path == "$default",
            "+}" in self.path,
            self.path.count("{"),
            self.method == "ANY",
        )


# What a path segment may hold literally (RFC 3986 pchar): everything else an integration request
# carries percent-encoded, so the service decodes exactly the path the routes matched.
_PATH_SAFE = "/!$&'()*+,;=:@-._~"
# A query string is passed on as it came; only bytes that cannot stand in a request line
# (controls, space, non-ASCII) and `#` (which would end it) are encoded.
_QUERY_SAFE = "!$&'()*+,;=:@/?%[]-._~\"<>\\^`{|}"


@dataclass(frozen=True)
class RequestTarget:
    """A request's path and query as an HTTP API reads them.

    `path` is decoded once, as the routes (and the authorizer's route match) see it; bytes that
    are not UTF-8 are kept as surrogate escapes, so nothing the client sent is lost. `query` is
    the query string as sent, percent-encodings kept.
    """

    path: str
    query: str = ""

    @classmethod
    def parse(cls, raw: bytes) -> RequestTarget:
        """The request-target of a request line: origin form, or absolute form (a proxy's)."""
        path, _, query = raw.partition(b"?")
        scheme = re.match(rb"[A-Za-z][A-Za-z0-9+.-]*://[^/]*", path)
        if scheme:
            path = path[scheme.end() :] or b"/"
        decoded = unquote_to_bytes(path).decode("utf-8", "surrogateescape")
        return cls(decoded, query.decode("latin-1"))

    @property
    def integration_path(self) -> str:
        """The decoded path as the integration request carries it: a decoded `%2F` is a `/`
        there; `?`, `#`, `%`, spaces, controls and non-ASCII are percent-encoded again."""
        return quote(self.path.encode("utf-8", "surrogateescape"), safe=_PATH_SAFE)

    @property
    def integration_target(self) -> str:
        query = quote(self.query.encode("latin-1"), safe=_QUERY_SAFE)
        return self.integration_path + (f"?{query}" if query else "")


@dataclass(frozen=True)
class Api:
    routes: tuple[ApiRoute, ...]
    cors: Cors | None
    listener: str

    def match(self, method: str, path: str) -> ApiRoute | None:
        candidates = [r for r in self.routes if r.method in ("ANY", method) and r.regex.match(path)]
        return min(candidates, key=ApiRoute.specificity) if candidates else None

    @property
    def authorizers(self) -> dict[str, Authorizer]:
        """Every authorizer a route uses, by name."""
        return {r.authorizer.name: r.authorizer for r in self.routes if r.authorizer is not None}


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
    if not isinstance(issuer, str | Deferred):
        raise UnsupportedTemplate(f"{where}: a JWT authorizer needs an issuer")
    audience = get("audience")
    audiences = (audience,) if isinstance(audience, str | Deferred) else tuple(audience or ())
    return Authorizer(name, issuer, audiences, _identity_header(source, where))


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


def _authorizers(resolver: Resolver, api_id: str) -> dict[str, Authorizer]:
    where = f"Resources.{api_id}.Properties"
    authorizers: dict[str, Authorizer] = {}
    for auth_id in resolver.of_type(AUTHORIZER):
        if ref_id(resolver.prop(auth_id, "ApiId"), f"Resources.{auth_id}") != api_id:
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
    return authorizers


def _integrations(resolver: Resolver) -> dict[str, Integration]:
    integrations: dict[str, Integration] = {}
    for integration_id in resolver.of_type(INTEGRATION):
        where = f"Resources.{integration_id}.Properties"
        uri = resolver.prop(integration_id, "IntegrationUri")
        timeout = resolver.prop(integration_id, "TimeoutInMillis")
        integrations[integration_id] = Integration(
            _mappings(resolver.prop(integration_id, "RequestParameters"), where),
            uri.logical_id if isinstance(uri, LogicalRef) else None,
            int(timeout) if timeout is not None else None,
        )
    return integrations


def read_api(resolver: Resolver) -> Api:
    """Routes, authorizers, parameter mappings and CORS of the template's HTTP API."""
    api_id = find_api(resolver)
    where = f"Resources.{api_id}.Properties"
    cors = _cors(resolver.prop(api_id, "CorsConfiguration"), f"{where}.CorsConfiguration")
    authorizers = _authorizers(resolver, api_id)
    integrations = _integrations(resolver)
    routes: list[ApiRoute] = []
    for route_id in resolver.of_type(ROUTE):
        route_where = f"Resources.{route_id}.Properties"
        if ref_id(resolver.prop(route_id, "ApiId"), route_where) != api_id:
            continue
        method, _, path = str(resolver.prop(route_id, "RouteKey")).partition(" ")
        if method == "$default":
            path = "$default"
        authorizer = None
        if resolver.prop(route_id, "AuthorizationType", "NONE") == "JWT":
            auth_ref = resolver.prop(route_id, "AuthorizerId")
            authorizer = authorizers[ref_id(auth_ref, f"{route_where}.AuthorizerId")]
        target = resolver.properties(route_id).get("Target")
        integration = integrations.get(_integration_of(target) or "", Integration())
        routes.append(
            ApiRoute(
                method.upper() if method != "$default" else "ANY",
                path,
                authorizer,
                _strings(resolver.prop(route_id, "AuthorizationScopes")),
                integration.mappings,
                integration.listener,
                integration.timeout_ms,
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
