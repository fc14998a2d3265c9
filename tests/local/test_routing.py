"""ALB listener rules and HTTP API routes, read from the template by following references."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.cfn.template import Physical, Resolver, load_template
from scripts.local.topology import (
    FixedResponse,
    find_services,
    path_pattern_regex,
    read_api,
    read_routing,
)
from tests.local.conftest import FIXTURE

PSEUDO = {"AWS::StackName": "todo-local-core", "AWS::Region": "us-east-1", "AWS::AccountId": "1"}


def resolver_for(path: Path) -> Resolver:
    resolver = Resolver(load_template(path), {"WebsiteOrigin": "http://127.0.0.1:8000"}, PSEUDO)
    resolver.physical["UserPool"] = Physical("us-east-1_pool")
    resolver.physical["UserPoolClient"] = Physical("client")
    return resolver


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("/todos", "/todos", True),
        ("/todos", "/todos/", False),
        ("/todos", "/Todos", False),  # case-sensitive
        ("/todos/*", "/todos/a", True),
        ("/todos/*", "/todos/a/b/c", True),  # * crosses /
        ("/todos/*", "/todos", False),
        ("/todos/*/files", "/todos/a/files", True),
        ("/todos/*/files", "/todos/a/b/files", True),
        ("/todos/*/files", "/todos/a/files/x", False),
        ("/todos/?", "/todos/a", True),
        ("/todos/?", "/todos/ab", False),
        ("/a.b", "/aXb", False),  # regex characters are literal
    ],
)
def test_alb_path_pattern_semantics(pattern: str, path: str, matches: bool) -> None:
    assert bool(path_pattern_regex(pattern).match(path)) is matches


def test_rules_are_read_in_priority_order_with_the_default_action() -> None:
    resolver = resolver_for(FIXTURE / "templates" / "core.yaml")
    api = read_api(resolver)
    routing = read_routing(resolver, api.listener, find_services(resolver))
    assert api.listener == "LoadBalancerListener"
    # the files rule has the lower priority number although the template lists it second
    assert [(r.logical_id, r.priority, r.action) for r in routing.rules] == [
        ("FilesListenerRule", 10, "files"),
        ("MainListenerRule", 20, "main"),
    ]
    assert routing.route("/todos/t/files") == "files"
    assert routing.route("/todos/t/files/f") == "files"
    assert routing.route("/todos/t") == "main"
    assert routing.route("/todos") == "main"
    default = routing.route("/elsewhere")
    assert isinstance(default, FixedResponse)
    assert default.status == 404
    assert default.content_type == "application/json"


def test_services_are_found_through_target_groups_and_task_definitions() -> None:
    resolver = resolver_for(FIXTURE / "templates" / "core.yaml")
    services = find_services(resolver)
    assert {group: spec.container for group, spec in services.items()} == {
        "MainTargetGroup": "main",
        "FilesTargetGroup": "files",
    }
    assert set(services["FilesTargetGroup"].environment) == {
        "TODOS_TABLE",
        "FILES_TABLE",
        "FILES_BUCKET",
    }


def test_api_routes_authorizer_and_mappings() -> None:
    api = read_api(resolver_for(FIXTURE / "templates" / "core.yaml"))
    assert {(r.method, r.path) for r in api.routes} == {
        (method, path)
        for method in ("GET", "POST", "PATCH", "DELETE")
        for path in ("/todos", "/todos/{proxy+}")
    }
    assert api.match("OPTIONS", "/todos") is None  # the preflight is API Gateway's to answer
    assert api.match("PUT", "/todos") is None
    route = api.match("GET", "/todos/a/files")
    assert route is not None
    assert route.path == "/todos/{proxy+}"
    assert route.authorizer is not None
    assert route.authorizer.issuer == "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_pool"
    assert route.authorizer.audience == ("client",)
    assert [(m.operation, m.header, m.value) for m in route.mappings] == [
        ("overwrite", "x-user-sub", "$context.authorizer.claims.sub")
    ]
    assert route.timeout_ms == 29000
    assert api.match("GET", "/todosx") is None
    assert api.match("GET", "/") is None
    assert api.cors is not None
    assert api.cors.allow_origins == ("http://127.0.0.1:8000",)
