"""The web layer with Flask's test client: token verification, errors, config, logs, document.

Tokens are signed with the emulator's own Cognito key (or a stranger's key) and verified
against the JWKS the emulator serves, so verification runs exactly as in production.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jwt
import moto
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate

from scripts.local import LocalStack
from scripts.local.resources import FAKE_CREDENTIALS, REGION
from tests.services.conftest import SERVICE_ENV

MOTO_KEY = Path(moto.__file__).parent / "cognitoidp" / "resources" / "jwks-private.json.gz"


@pytest.fixture(scope="module")
def config(stack: LocalStack) -> Iterator[dict[str, str]]:
    with pytest.MonkeyPatch.context() as patch:
        # In this process boto3 finds the emulator's fake credentials where it always looks.
        for name, value in FAKE_CREDENTIALS.items():
            patch.setenv(name, value)
        # The main service's own environment, without the test-only settings of the session.
        env = stack.services["main"].environment
        yield {**{k: v for k, v in env.items() if k not in SERVICE_ENV}, "LOG_LEVEL": "INFO"}


@pytest.fixture(scope="module")
def main_app(config: dict[str, str]) -> Flask:
    from main_service import create_app

    app: Flask = create_app(config)
    return app


@pytest.fixture
def client(main_app: Flask) -> FlaskClient:
    return main_app.test_client()


def claims(config: dict[str, str], **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {
        "iss": f"https://cognito-idp.{REGION}.amazonaws.com/{config['COGNITO_USER_POOL_ID']}",
        "sub": "5f0c7a3e-0000-4000-8000-000000000001",
        "aud": config["COGNITO_APP_CLIENT_ID"],
        "token_use": "id",
        "iat": now,
        "exp": now + 600,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def sign(payload: dict[str, Any], key: Any = None, kid: str = "dummy", alg: str = "RS256") -> str:
    signing_key = (
        key or jwt.PyJWK(json.loads(gzip.decompress(MOTO_KEY.read_bytes())), algorithm="RS256").key
    )
    return jwt.encode(payload, signing_key, algorithm=alg, headers={"kid": kid})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_valid_forged_with_the_pool_key_is_accepted(
    client: FlaskClient, config: dict[str, str]
) -> None:
    response = client.get("/todos", headers=bearer(sign(claims(config))))
    assert response.status_code == 200, response.json
    access = claims(config, aud=None, token_use="access", client_id=config["COGNITO_APP_CLIENT_ID"])
    assert client.get("/todos", headers=bearer(sign(access))).status_code == 200


def _unsigned(payload: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'none', 'kid': 'dummy'})}.{part(payload)}."


def _tampered(token: str) -> str:
    head, body, signature = token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["sub"] = "someone-else"
    forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    return f"{head}.{forged}.{signature}"


STRANGER = rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("wrong issuer", "issuer"),
        ("wrong audience", "client"),
        ("access token of another client", "client"),
        ("expired", "expired"),
        ("refresh token_use", "token_use"),
        ("no token_use", "invalid"),
        ("alg none", "RS256"),
        ("HS256, a symmetric algorithm", "RS256"),
        ("unknown kid", "unknown key"),
        ("stranger's key under the pool's kid", "invalid"),
        ("tampered payload", "invalid"),
        ("garbage", "malformed"),
    ],
)
def test_rejected_tokens_answer_401(
    client: FlaskClient, config: dict[str, str], case: str, message: str
) -> None:
    tokens: dict[str, Callable[[], str]] = {
        "wrong issuer": lambda: sign(claims(config, iss="https://cognito-idp.x/other")),
        "wrong audience": lambda: sign(claims(config, aud="another-client")),
        "access token of another client": lambda: sign(
            claims(config, aud=None, token_use="access", client_id="another-client")
        ),
        "expired": lambda: sign(claims(config, iat=1, exp=2)),
        "refresh token_use": lambda: sign(claims(config, token_use="refresh")),
        "no token_use": lambda: sign(claims(config, token_use=None)),
        "alg none": lambda: _unsigned(claims(config)),
        "HS256, a symmetric algorithm": lambda: jwt.encode(
            claims(config), b"x" * 32, algorithm="HS256", headers={"kid": "dummy"}
        ),
        "unknown kid": lambda: sign(claims(config), key=STRANGER, kid="stranger"),
        "stranger's key under the pool's kid": lambda: sign(claims(config), key=STRANGER),
        "tampered payload": lambda: _tampered(sign(claims(config))),
        "garbage": lambda: "not.a.jwt",
    }
    response = client.get("/todos", headers=bearer(tokens[case]()))
    assert response.status_code == 401, response.json
    assert response.json is not None
    assert response.json["error"]["code"] == "unauthorized"
    assert message in response.json["error"]["message"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "token"])
def test_missing_bearer_answers_401(client: FlaskClient, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header}
    response = client.get("/todos", headers=headers)
    assert response.status_code == 401
    assert response.json == {"error": {"code": "unauthorized", "message": "missing bearer token"}}


def test_unknown_kid_refetch_is_rate_limited(config: dict[str, str]) -> None:
    from common.auth import JwksCache, Unauthorized, _fetch_json

    fetches: list[str] = []

    def counting_fetch(url: str) -> Any:
        fetches.append(url)
        return _fetch_json(url)

    cache = JwksCache(config["COGNITO_JWKS_URL"], fetch=counting_fetch)
    assert cache.key("dummy") is not None
    for _ in range(5):
        with pytest.raises(Unauthorized):
            cache.key("rotated-or-forged")
    assert cache.key("dummy") is not None
    assert len(fetches) == 1


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_failing_jwks_endpoint_is_not_refetched_per_request() -> None:
    from common.auth import JWKS_RETRY_SECONDS, JwksCache
    from common.errors import Unavailable

    fetches: list[str] = []

    def failing_fetch(url: str) -> Any:
        fetches.append(url)
        raise OSError("connection refused")

    clock = _Clock()
    cache = JwksCache("http://127.0.0.1:9/jwks.json", fetch=failing_fetch, clock=clock)
    for kid in ("dummy", "random-1", "random-2", "random-3"):
        with pytest.raises(Unavailable):
            cache.key(kid)
    assert len(fetches) == 1  # the failed attempt throttles the next ones too
    clock.now += JWKS_RETRY_SECONDS
    with pytest.raises(Unavailable):
        cache.key("random-4")
    assert len(fetches) == 2


def test_a_known_kid_is_not_held_up_by_a_fetch_in_progress(config: dict[str, str]) -> None:
    import threading

    from common.auth import JWKS_MIN_REFETCH_SECONDS, JwksCache, Unauthorized, _fetch_json

    release = threading.Event()
    fetching = threading.Event()
    calls: list[str] = []

    def slow_second_fetch(url: str) -> Any:
        calls.append(url)
        if len(calls) > 1:
            fetching.set()
            release.wait(10)
        return _fetch_json(url)

    clock = _Clock()
    cache = JwksCache(config["COGNITO_JWKS_URL"], fetch=slow_second_fetch, clock=clock)
    assert cache.key("dummy") is not None
    clock.now += JWKS_MIN_REFETCH_SECONDS
    outcomes: list[str] = []

    def unknown() -> None:
        try:
            cache.key("rotated-or-forged")
        except Unauthorized:
            outcomes.append("unknown: 401")

    def known() -> None:
        outcomes.append("known: found" if cache.key("dummy") is not None else "known: none")

    slow = threading.Thread(target=unknown)
    slow.start()
    assert fetching.wait(5)
    fast = threading.Thread(target=known)
    fast.start()
    fast.join(2)
    finished_while_fetching = not fast.is_alive()
    release.set()
    slow.join(10)
    fast.join(10)
    assert finished_while_fetching, "a known kid waited for another request's JWKS fetch"
    assert outcomes == ["known: found", "unknown: 401"]
    assert len(calls) == 2


def test_unreachable_jwks_is_503_not_500(config: dict[str, str]) -> None:
    from main_service import create_app

    app = create_app({**config, "COGNITO_JWKS_URL": "http://127.0.0.1:9/jwks.json"})
    response = app.test_client().get("/todos", headers=bearer(sign(claims(config))))
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"


def test_missing_configuration_fails_at_start_naming_the_variables() -> None:
    from common.config import ConfigError
    from files_service import create_app

    with pytest.raises(ConfigError, match="FILES_BUCKET, COGNITO_USER_POOL_ID"):
        create_app(
            {
                "AWS_REGION": "eu-west-1",
                "TODOS_TABLE": "t",
                "FILES_TABLE": "f",
                "FILES_BUCKET": "",
                "COGNITO_USER_POOL_ID": "",
                "COGNITO_APP_CLIENT_ID": "c",
            }
        )
    with pytest.raises(ConfigError, match="MAX_UPLOAD_BYTES"):
        create_app(
            {
                "AWS_REGION": "eu-west-1",
                "TODOS_TABLE": "t",
                "FILES_TABLE": "f",
                "FILES_BUCKET": "b",
                "COGNITO_USER_POOL_ID": "p",
                "COGNITO_APP_CLIENT_ID": "c",
                "MAX_UPLOAD_BYTES": "lots",
            }
        )


def test_default_issuer_and_jwks_url_follow_the_pool() -> None:
    from common.config import load_settings

    settings = load_settings(
        {
            "AWS_REGION": "eu-west-1",
            "TODOS_TABLE": "t",
            "FILES_TABLE": "f",
            "FILES_BUCKET": "b",
            "COGNITO_USER_POOL_ID": "eu-west-1_abc",
            "COGNITO_APP_CLIENT_ID": "c",
            "COGNITO_ISSUER": "",
            "COGNITO_JWKS_URL": "",
        }
    )
    assert settings.issuer == "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc"
    assert settings.jwks_url == settings.issuer + "/.well-known/jwks.json"


def test_routing_errors_are_json(client: FlaskClient) -> None:
    missing = client.get("/nowhere")
    assert missing.status_code == 404
    assert missing.json is not None
    assert missing.json["error"]["code"] == "not_found"
    wrong_method = client.put("/todos")
    assert wrong_method.status_code == 405
    assert wrong_method.json is not None
    assert wrong_method.json["error"]["code"] == "method_not_allowed"
    assert "GET" in wrong_method.headers["Allow"]


def test_health_needs_no_token_and_no_aws(client: FlaskClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


@pytest.mark.parametrize("service", ["main_service", "files_service"])
def test_openapi_documents_are_valid_3_1(config: dict[str, str], service: str) -> None:
    module = __import__(service)
    document = module.create_app(config).test_client().get("/openapi.json").json
    assert document["openapi"] == "3.1.0"
    validate(document)
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            assert operation["responses"], (path, method)
            # Any operation refuses a query parameter it does not declare.
            assert "400" in operation["responses"], (path, method)
            if operation.get("security") != []:
                assert {"401", "503"} <= set(operation["responses"]), (path, method)


def test_request_log_is_one_json_line(
    client: FlaskClient, config: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    from main_service import create_app

    app = create_app(config)  # its log handler writes to the captured stdout
    response = app.test_client().get(
        "/todos", headers={**bearer(sign(claims(config))), "X-Request-Id": "req-123"}
    )
    assert response.headers["X-Request-Id"] == "req-123"
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    requests_logged = [line for line in lines if line.get("logger") == "app.request"]
    assert len(requests_logged) == 1
    entry = requests_logged[0]
    assert entry["method"] == "GET"
    assert entry["path"] == "/todos"
    assert entry["status"] == 200
    assert entry["request_id"] == "req-123"
    assert entry["user_sub"] == claims(config)["sub"]
    assert entry["aws_calls"] == 1
    assert isinstance(entry["duration_ms"], float)


@pytest.mark.parametrize("incoming", ["req-1\n", "req-1\r", "", "x" * 129, "req 1"])
def test_a_malformed_request_id_is_replaced_not_echoed(client: FlaskClient, incoming: str) -> None:
    # Set in the WSGI environ directly: an HTTP client cannot send a line break in a header,
    # but whatever sits in front of the service decides what reaches it.
    response = client.get("/health", environ_overrides={"HTTP_X_REQUEST_ID": incoming})
    assert response.status_code == 200, response.json
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-Id"])


@pytest.mark.parametrize(
    ("code", "status", "unavailable"),
    [
        ("ProvisionedThroughputExceededException", 400, True),
        ("ThrottlingException", 400, True),
        ("RequestLimitExceeded", 400, True),
        ("SlowDown", 503, True),
        ("TransactionConflictException", 400, True),
        ("InternalServerError", 500, True),
        ("AccessDeniedException", 400, False),
        ("ResourceNotFoundException", 400, False),
    ],
)
def test_throttling_answers_503_and_misconfiguration_a_plain_500(
    main_app: Flask, config: dict[str, str], code: str, status: int, unavailable: bool
) -> None:
    from botocore.stub import Stubber
    from common.factory import clients

    dynamodb = clients(main_app).dynamodb
    with Stubber(dynamodb) as stubber:
        stubber.add_client_error("get_item", service_error_code=code, http_status_code=status)
        response = main_app.test_client().get(
            "/todos/01a200fd-ebbb-7b02-982d-0f9e8bce391c", headers=bearer(sign(claims(config)))
        )
    assert response.json is not None
    if unavailable:
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "1"
        assert response.json["error"]["code"] == "unavailable"
    else:
        # Not an input problem but a deployment one: a generic 500, details only in the logs.
        assert response.status_code == 500
        assert response.json == {"error": {"code": "internal", "message": "internal error"}}
    assert code not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("reasons", "status"),
    [
        # The todo is missing, another user's, or marked for deletion: the check failed.
        (["ConditionalCheckFailed", "None"], 404),
        (["TransactionConflict", "None"], 503),
        (["None", "TransactionConflict"], 503),
        (["ThrottlingError", "None"], 503),
        (["None", "ProvisionedThroughputExceeded"], 503),
    ],
)
def test_a_cancelled_registration_is_404_or_503(
    config: dict[str, str], reasons: list[str], status: int
) -> None:
    from botocore.stub import Stubber
    from common.factory import clients
    from files_service import create_app

    files_app = create_app(config)
    with Stubber(clients(files_app).dynamodb) as stubber:
        stubber.add_client_error(
            "transact_write_items",
            service_error_code="TransactionCanceledException",
            service_message=f"Transaction cancelled [{', '.join(reasons)}]",
            modeled_fields={"CancellationReasons": [{"Code": code} for code in reasons]},
        )
        response = files_app.test_client().post(
            "/todos/01a200fd-ebbb-7b02-982d-0f9e8bce391c/files",
            headers=bearer(sign(claims(config))),
            json={"name": "a.txt", "contentType": "text/plain", "size": 1},
        )
        stubber.assert_no_pending_responses()
    assert response.status_code == status
    assert response.json is not None
    if status == 404:
        assert response.json == {"error": {"code": "not_found", "message": "todo not found"}}
    else:
        assert response.headers["Retry-After"] == "1"
        assert response.json["error"]["code"] == "unavailable"


def test_a_body_field_without_a_documented_limit_cannot_size_the_body() -> None:
    from common.validation import json_body_limit
    from pydantic import BaseModel

    class Unbounded(BaseModel):
        text: str

    with pytest.raises(TypeError, match="no size limit"):
        json_body_limit(Unbounded)


def test_a_route_missing_from_the_document_stops_start_up(config: dict[str, str]) -> None:
    """The unknown-query check covers the document's operations, so every route must be one."""
    from common.factory import build_app
    from flask import Blueprint

    extra = Blueprint("extra", __name__)
    extra.add_url_rule("/undocumented", "undocumented", lambda: "")
    with pytest.raises(RuntimeError, match="GET /undocumented is not in the OpenAPI document"):
        build_app(
            __name__,
            config,
            title="t",
            description="d",
            operations=[],
            blueprints=lambda _: [extra],
        )
