"""The description of the fixture template: ALB listener rules, HTTP API routes, services and
resources, read by following references, without starting anything."""

from __future__ import annotations

import pytest

from scripts.cfn.template import (
    Deferred,
    Physical,
    Placeholder,
    UnsupportedTemplate,
    bind,
    load_template,
)
from scripts.local.alb import FixedResponse, Forward, path_pattern_regex
from scripts.local.description import LocalDescription, describe
from tests.local.conftest import FIXTURE

CREATED = {"UserPool": Physical("us-east-1_pool"), "UserPoolClient": Physical("client")}


@pytest.fixture(scope="module")
def description() -> LocalDescription:
    return describe(
        load_template(FIXTURE / "templates" / "core.yaml"),
        app_dir=FIXTURE / "app",
        website_origin="http://127.0.0.1:8000",
    )


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


def test_rules_are_read_in_priority_order_with_the_default_action(
    description: LocalDescription,
) -> None:
    api, routing = description.api, description.routing
    assert api.listener == "LoadBalancerListener"
    # the files rule has the lower priority number although the template lists it second
    assert [(r.logical_id, r.priority, r.action) for r in routing.rules] == [
        ("FilesListenerRule", 10, Forward("files")),
        ("MainListenerRule", 20, Forward("main")),
    ]
    assert routing.route("/todos/t/files") == Forward("files")
    assert routing.route("/todos/t/files/f") == Forward("files")
    assert routing.route("/todos/t") == Forward("main")
    assert routing.route("/todos") == Forward("main")
    default = routing.route("/elsewhere")
    assert isinstance(default, FixedResponse)
    assert default.status == 404
    assert default.content_type == "application/json"


def test_services_are_found_through_target_groups_and_task_definitions(
    description: LocalDescription,
) -> None:
    assert {s.target_group: s.name for s in description.services} == {
        "MainTargetGroup": "main",
        "FilesTargetGroup": "files",
    }
    files = description.service("files")
    # the task definition's own variables, then the services' contract for what it leaves out
    assert set(files.environment) == {
        "TODOS_TABLE",
        "FILES_TABLE",
        "FILES_BUCKET",
        "COGNITO_USER_POOL_ID",
        "COGNITO_APP_CLIENT_ID",
    }
    assert files.environment["FILES_TABLE"] == Deferred((Placeholder("FilesTable"),))
    assert files.unset == {}
    # the Dockerfile's CMD, as written
    assert files.command[0] == "gunicorn"
    assert files.command[-1] == "echo_service:app"


def test_resources_are_described_as_the_requests_the_emulator_gets(
    description: LocalDescription,
) -> None:
    resources = description.resources
    assert [t.logical_id for t in resources.tables] == ["TodosTable", "FilesTable"]
    assert resources.table("TodosTable").name == "todo-local-core-TodosTable"
    assert [b.logical_id for b in resources.buckets] == ["FilesBucket", "LogBucket"]
    assert resources.buckets[0].cors_rules[0]["AllowedOrigins"] == ["http://127.0.0.1:8000"]
    (pool,) = resources.user_pools
    assert pool.request["PoolName"] == "todo-local-core-users"
    assert [c.logical_id for c in resources.user_pool_clients] == ["UserPoolClient", "OtherClient"]
    # the pool's ID is the emulator's to pick: the client names it once it exists
    client = resources.user_pool_clients[0]
    assert client.request["UserPoolId"] == Deferred((Placeholder("UserPool"),))
    assert bind(client.request, CREATED)["UserPoolId"] == "us-east-1_pool"
    assert (description.user_pool, description.user_pool_client) == ("UserPool", "UserPoolClient")


def test_api_routes_authorizer_and_mappings(description: LocalDescription) -> None:
    api = description.api
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
    issuer = bind(route.authorizer.issuer, CREATED)
    assert issuer == "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_pool"
    assert bind(route.authorizer.audience, CREATED) == ("client",)
    assert [(m.operation, m.header, m.value) for m in route.mappings] == [
        ("overwrite", "x-user-sub", "$context.authorizer.claims.sub")
    ]
    assert route.timeout_ms == 29000
    assert api.match("GET", "/todosx") is None
    assert api.match("GET", "/") is None
    assert api.cors is not None
    assert api.cors.allow_origins == ("http://127.0.0.1:8000",)


def test_the_sign_up_pages_password_rules_are_the_user_pools(
    description: LocalDescription,
) -> None:
    template = load_template(FIXTURE / "templates" / "core.yaml")
    stated = template["Resources"]["UserPool"]["Properties"]["Policies"]["PasswordPolicy"]
    assert description.password_rules.as_config() == {
        "minimumLength": stated["MinimumLength"],
        "requireLowercase": stated["RequireLowercase"],
        "requireUppercase": stated["RequireUppercase"],
        "requireNumbers": stated["RequireNumbers"],
        "requireSymbols": stated["RequireSymbols"],
    }
    assert stated["RequireSymbols"] is False  # the fixture differs from the app on purpose


@pytest.mark.parametrize("left_out", ["MinimumLength", "RequireSymbols", None])
def test_a_password_policy_must_state_every_rule(left_out: str | None) -> None:
    template = load_template(FIXTURE / "templates" / "core.yaml")
    policies = template["Resources"]["UserPool"]["Properties"]["Policies"]
    if left_out is None:
        del policies["PasswordPolicy"]
    else:
        del policies["PasswordPolicy"][left_out]
    with pytest.raises(UnsupportedTemplate) as raised:
        describe(template, app_dir=FIXTURE / "app", website_origin="http://127.0.0.1:8000")
    message = str(raised.value)
    assert message.startswith("Resources.UserPool.Properties.Policies.PasswordPolicy: state ")
    assert (left_out or "MinimumLength") in message
