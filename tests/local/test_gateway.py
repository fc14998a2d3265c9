"""The gateway as the browser meets it: CORS, the JWT authorizer, routing, the website."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import requests

from scripts.local import LocalStack
from scripts.local.users import User, emulator_signed, sign_up


@pytest.fixture(scope="module")
def user(stack: LocalStack) -> User:
    return sign_up(stack)


def call(
    stack: LocalStack, method: str, path: str, token: str | None, **kw: Any
) -> requests.Response:
    headers = kw.pop("headers", {})
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return requests.request(method, stack.api_url + path, headers=headers, timeout=10, **kw)


# --- CORS ----------------------------------------------------------------------------------------


def preflight(stack: LocalStack, origin: str, method: str = "PATCH") -> requests.Response:
    return requests.options(
        stack.api_url + "/todos/abc",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization,content-type",
        },
        timeout=10,
    )


def test_preflight_from_the_site_is_answered_by_the_gateway(stack: LocalStack) -> None:
    response = preflight(stack, stack.site_url)
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == stack.site_url
    assert "PATCH" in response.headers["Access-Control-Allow-Methods"].split(",")
    assert set(response.headers["Access-Control-Allow-Headers"].split(",")) >= {
        "authorization",
        "content-type",
    }
    assert response.headers["Access-Control-Max-Age"] == "600"


@pytest.mark.parametrize(
    ("origin", "method"),
    [("http://evil.example", "PATCH"), ("http://localhost:1", "GET"), ("SITE", "PUT")],
)
def test_preflight_outside_the_cors_configuration_is_refused(
    stack: LocalStack, origin: str, method: str
) -> None:
    response = preflight(stack, stack.site_url if origin == "SITE" else origin, method)
    assert "Access-Control-Allow-Origin" not in response.headers


def test_responses_carry_cors_for_the_site_only(stack: LocalStack, user: User) -> None:
    ours = call(stack, "GET", "/todos", user.id_token, headers={"Origin": stack.site_url})
    assert ours.headers["Access-Control-Allow-Origin"] == stack.site_url
    assert ours.headers["Access-Control-Expose-Headers"] == "location"
    theirs = call(stack, "GET", "/todos", user.id_token, headers={"Origin": "http://evil.example"})
    # The echo service answers "*"; API Gateway replaces the integration's CORS headers.
    assert "Access-Control-Allow-Origin" not in theirs.headers


def test_emulator_answers_the_browsers_preflights(stack: LocalStack) -> None:
    cognito = requests.options(
        stack.emulator_url + "/",
        headers={
            "Origin": stack.site_url,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-amz-target,x-amz-user-agent",
        },
        timeout=10,
    )
    assert cognito.status_code == 200
    assert cognito.headers["Access-Control-Allow-Origin"] == stack.site_url
    assert "x-amz-target" in cognito.headers["Access-Control-Allow-Headers"]
    bucket = stack.resources["FilesBucket"]
    upload = requests.options(
        f"{stack.emulator_url}/{bucket}",
        headers={"Origin": stack.site_url, "Access-Control-Request-Method": "POST"},
        timeout=10,
    )
    assert upload.status_code == 200
    assert upload.headers["Access-Control-Allow-Origin"] == stack.site_url
    assert upload.headers["Access-Control-Max-Age"] == "600"  # the template's bucket CORS rule
    refused = requests.options(
        f"{stack.emulator_url}/{bucket}",
        headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"},
        timeout=10,
    )
    assert refused.status_code == 403


# --- JWT authorizer ------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["id", "access"])
def test_tokens_from_the_emulators_cognito_pass(stack: LocalStack, user: User, kind: str) -> None:
    token = user.id_token if kind == "id" else user.access_token
    response = call(stack, "GET", "/todos", token, headers={"x-user-sub": "someone-else"})
    assert response.status_code == 200
    seen = response.json()
    assert seen["headers"]["authorization"] == f"Bearer {token}"
    assert seen["headers"]["x-user-sub"] == user.sub  # overwritten by the parameter mapping


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    middle = len(payload) // 2
    flipped = "A" if payload[middle] != "A" else "B"
    return ".".join([header, payload[:middle] + flipped + payload[middle + 1 :], signature])


@pytest.mark.parametrize(
    ("case", "description"),
    [
        ("missing", "no token"),
        ("garbage", "malformed"),
        ("tampered", "invalid"),
        ("expired", "expired"),
        ("wrong audience", "audience"),
        ("other client", "audience"),
        ("wrong issuer", "issuer"),
    ],
)
def test_bad_tokens_get_api_gateways_401(
    stack: LocalStack, user: User, case: str, description: str
) -> None:
    makers: dict[str, Callable[[], str | None]] = {
        "missing": lambda: None,
        "garbage": lambda: "not-a-jwt",
        "tampered": lambda: _tampered(user.id_token),
        "expired": lambda: emulator_signed(stack, sub=user.sub, exp=1_000_000, iat=999_000),
        "wrong audience": lambda: emulator_signed(stack, aud="someone-elses-client"),
        "other client": lambda: sign_up(stack, client_id=stack.resources["OtherClient"]).id_token,
        "wrong issuer": lambda: emulator_signed(stack, iss="https://issuer.invalid/pool"),
    }
    token = makers[case]()
    response = call(stack, "GET", "/todos/x/files", token)
    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized"}
    assert description in response.headers["WWW-Authenticate"]


# --- routing -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "service"),
    [
        ("GET", "/todos", "main"),
        ("POST", "/todos", "main"),
        ("GET", "/todos/t1", "main"),
        ("DELETE", "/todos/t1", "main"),
        ("GET", "/todos/t1/files", "files"),
        ("POST", "/todos/t1/files", "files"),
        ("DELETE", "/todos/t1/files/f1", "files"),
        ("GET", "/todos/t1/filesx", "main"),
    ],
)
def test_requests_reach_the_service_the_listener_rules_name(
    stack: LocalStack, user: User, method: str, path: str, service: str
) -> None:
    body = json.dumps({"title": "x"}) if method == "POST" else None
    response = call(stack, method, path + "?limit=5", user.id_token, data=body)
    assert response.status_code == 200
    seen = response.json()
    assert (seen["service"], seen["method"], seen["path"]) == (service, method, path)
    assert seen["query"] == "limit=5"
    assert seen["body"] == (body or "")
    # the service reached the emulator with the table the template defines
    assert seen["todosKeys"] == ["userID", "todoID"]


def test_paths_outside_the_api_routes_are_not_found(stack: LocalStack, user: User) -> None:
    response = call(stack, "GET", "/health", user.id_token)
    assert response.status_code == 404
    assert response.json() == {"message": "Not Found"}


def test_services_see_the_contract_environment(stack: LocalStack, user: User) -> None:
    env = call(stack, "GET", "/todos", user.id_token).json()["env"]
    assert env["TODOS_TABLE"] == stack.resources["TodosTable"]
    assert env["FILES_TABLE"] == stack.resources["FilesTable"] == "todo-local-core-files"
    assert env["FILES_BUCKET"] == stack.resources["FilesBucket"]
    assert env["COGNITO_USER_POOL_ID"] == stack.user_pool_id
    assert env["COGNITO_APP_CLIENT_ID"] == stack.user_pool_client_id
    assert env["COGNITO_ISSUER"] == (
        f"https://cognito-idp.us-east-1.amazonaws.com/{stack.user_pool_id}"
    )
    assert env["COGNITO_JWKS_URL"].startswith(stack.emulator_url + "/")
    assert env["AWS_ENDPOINT_URL"] == stack.emulator_url
    assert env["AWS_ACCESS_KEY_ID"] == "testing"
    assert env["MAX_UPLOAD_BYTES"] == "1048576"  # from the task definition
    jwks = requests.get(env["COGNITO_JWKS_URL"], timeout=10).json()
    assert jwks["keys"][0]["kid"] == "dummy"


# --- website -------------------------------------------------------------------------------------


def test_site_serves_files_with_types_and_security_headers(stack: LocalStack) -> None:
    page = requests.get(stack.site_url + "/", timeout=10)
    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert page.headers["Cache-Control"] == "no-cache"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    csp = {d.split()[0]: d.split()[1:] for d in page.headers["Content-Security-Policy"].split("; ")}
    assert csp["connect-src"] == ["'self'", stack.api_url, stack.emulator_url]
    assert csp["frame-ancestors"] == ["'none'"]
    css = requests.get(stack.site_url + "/app.css", timeout=10)
    assert css.headers["Content-Type"] == "text/css; charset=utf-8"
    again = requests.get(
        stack.site_url + "/app.css", headers={"If-None-Match": css.headers["ETag"]}, timeout=10
    )
    assert again.status_code == 304
    for path in ("/missing.js", "/../templates/core.yaml", "/%2e%2e/templates/core.yaml"):
        assert requests.get(stack.site_url + path, timeout=10).status_code == 404


def test_site_serves_the_generated_config(stack: LocalStack) -> None:
    response = requests.get(stack.site_url + "/config.js", timeout=10)
    assert response.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert response.headers["Cache-Control"] == "no-cache"
    prefix, suffix = "window.TODO_CONFIG = ", ";\n"
    assert response.text.startswith(prefix)
    assert response.text.endswith(suffix)
    config = json.loads(response.text[len(prefix) : -len(suffix)])
    assert config == {
        "apiUrl": stack.api_url,
        "region": "us-east-1",
        "userPoolId": stack.user_pool_id,
        "userPoolClientId": stack.user_pool_client_id,
        "cognitoEndpoint": stack.emulator_url + "/",
        "local": True,
        "passwordPolicy": config["passwordPolicy"],
    }
    assert stack.site_url != stack.api_url
    # The page's password rules are the ones the pool in the emulator enforces.
    pool = stack.client("cognito-idp").describe_user_pool(UserPoolId=stack.user_pool_id)
    enforced = pool["UserPool"]["Policies"]["PasswordPolicy"]
    assert config["passwordPolicy"] == {
        "minimumLength": enforced["MinimumLength"],
        "requireLowercase": enforced["RequireLowercase"],
        "requireUppercase": enforced["RequireUppercase"],
        "requireNumbers": enforced["RequireNumbers"],
        "requireSymbols": enforced["RequireSymbols"],
    }
