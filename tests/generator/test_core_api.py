"""The public edge: the HTTP API, its authorizer, the VPC link, and the stack's outputs."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from generator.config import Settings
from generator.core import build
from tests.generator.conftest import props, resolve, resources, target

ROOT = Path(__file__).resolve().parents[2]
CONTRACT_OUTPUTS = {
    "ApiUrl",
    "UserPoolId",
    "UserPoolClientId",
    "Region",
    "FilesBucketName",
    "ClusterName",
    "MainServiceName",
    "FilesServiceName",
    "MainRepositoryUri",
    "FilesRepositoryUri",
    "LoadBalancerArn",
    "MainTargetGroupArn",
    "FilesTargetGroupArn",
    "MainLogGroupName",
    "FilesLogGroupName",
}


def unauthorized_routes(template: dict[str, Any]) -> list[str]:
    authorizers = {
        name
        for name, a in resources(template, "AWS::ApiGatewayV2::Authorizer").items()
        if a["Properties"]["AuthorizerType"] == "JWT"
    }
    return sorted(
        r["Properties"]["RouteKey"]
        for r in resources(template, "AWS::ApiGatewayV2::Route").values()
        if r["Properties"].get("AuthorizationType") != "JWT"
        or target(r["Properties"].get("AuthorizerId")) not in authorizers
    )


def test_every_route_requires_a_cognito_jwt(core_template: dict[str, Any]) -> None:
    routes = resources(core_template, "AWS::ApiGatewayV2::Route")
    assert sorted(r["Properties"]["RouteKey"] for r in routes.values()) == sorted(
        f"{method} {path}"
        for method in ("GET", "POST", "PATCH", "DELETE")
        for path in ("/todos", "/todos/{proxy+}")
    )
    assert unauthorized_routes(core_template) == []


def preflight_routes(template: dict[str, Any]) -> list[str]:
    """Routes that a browser's CORS preflight (OPTIONS, no token) would match.

    API Gateway answers a preflight from the CORS configuration only while no route matches it;
    a matching route with the JWT authorizer answers 401 and the browser refuses the real call.
    """
    return sorted(
        key
        for r in resources(template, "AWS::ApiGatewayV2::Route").values()
        if (key := r["Properties"]["RouteKey"]) == "$default"
        or key.split(" ", 1)[0] in ("ANY", "OPTIONS")
    )


def test_no_route_takes_the_browsers_cors_preflight(core_template: dict[str, Any]) -> None:
    assert preflight_routes(core_template) == []
    # The preflight admits every method that a route takes.
    cors = props(core_template, "HttpApi")["CorsConfiguration"]
    methods = {
        r["Properties"]["RouteKey"].split(" ", 1)[0]
        for r in resources(core_template, "AWS::ApiGatewayV2::Route").values()
    }
    assert methods <= set(cors["AllowMethods"])


def test_the_preflight_check_catches_an_any_route(core_template: dict[str, Any]) -> None:
    broken = copy.deepcopy(core_template)
    route = next(iter(resources(broken, "AWS::ApiGatewayV2::Route").values()))
    route["Properties"]["RouteKey"] = "ANY /todos"
    assert preflight_routes(broken) == ["ANY /todos"]


def test_the_generator_refuses_a_route_on_any_or_options() -> None:
    with pytest.raises(ValueError, match="preflight"):
        build(Settings(api_methods=("GET", "ANY")))


def test_the_route_check_catches_an_open_route(core_template: dict[str, Any]) -> None:
    broken = copy.deepcopy(core_template)
    route = next(iter(resources(broken, "AWS::ApiGatewayV2::Route").values()))
    route["Properties"]["AuthorizationType"] = "NONE"
    assert unauthorized_routes(broken) == [route["Properties"]["RouteKey"]]


def test_authorizer_trusts_the_user_pool_and_its_app_client(core_template: dict[str, Any]) -> None:
    (authorizer,) = resources(core_template, "AWS::ApiGatewayV2::Authorizer").values()
    p = authorizer["Properties"]
    assert p["IdentitySource"] == ["$request.header.Authorization"]
    jwt = p["JwtConfiguration"]
    assert jwt["Issuer"] == {
        "Fn::Sub": "https://cognito-idp.${AWS::Region}.amazonaws.com/${UserPool}"
    }
    assert jwt["Audience"] == [{"Ref": "UserPoolClient"}]


def test_routes_reach_the_alb_listener_through_the_vpc_link(core_template: dict[str, Any]) -> None:
    (integration_id,) = resources(core_template, "AWS::ApiGatewayV2::Integration")
    for route in resources(core_template, "AWS::ApiGatewayV2::Route").values():
        assert route["Properties"]["Target"] == {"Fn::Sub": f"integrations/${{{integration_id}}}"}
    p = props(core_template, integration_id)
    assert p["ConnectionType"] == "VPC_LINK"
    assert target(p["ConnectionId"]) == "HttpApiVpcLink"
    assert target(p["IntegrationUri"]) == "LoadBalancerListener"
    # A client can never choose the identity header: the gateway overwrites it.
    assert p["RequestParameters"] == {
        "overwrite:header.x-user-sub": "$context.authorizer.claims.sub"
    }
    vpc_link = props(core_template, "HttpApiVpcLink")
    assert all(str(target(s)).startswith("PrivateSubnet") for s in vpc_link["SubnetIds"])


def test_cors_admits_only_the_website_origin(core_template: dict[str, Any]) -> None:
    cors = props(core_template, "HttpApi")["CorsConfiguration"]
    assert cors["AllowOrigins"] == [{"Ref": "WebsiteOrigin"}]
    assert "authorization" in [h.lower() for h in cors["AllowHeaders"]]
    assert cors.get("AllowCredentials") is False


def test_stage_is_throttled_by_parameters_and_logs_access(core_template: dict[str, Any]) -> None:
    (stage,) = resources(core_template, "AWS::ApiGatewayV2::Stage").values()
    p = stage["Properties"]
    assert p["StageName"] == "$default"
    assert p["DefaultRouteSettings"]["ThrottlingRateLimit"] == {"Ref": "ApiThrottlingRateLimit"}
    assert p["DefaultRouteSettings"]["ThrottlingBurstLimit"] == {"Ref": "ApiThrottlingBurstLimit"}
    assert target(p["AccessLogSettings"]["DestinationArn"]) == "HttpApiAccessLogGroup"
    assert "$context.requestId" in json.loads(p["AccessLogSettings"]["Format"]).values()


def test_contract_outputs_exist_and_every_output_is_exported(
    core_template: dict[str, Any],
) -> None:
    outputs = core_template["Outputs"]
    assert set(outputs) >= CONTRACT_OUTPUTS
    for key, output in outputs.items():
        assert output["Export"]["Name"] == {"Fn::Sub": f"${{AWS::StackName}}-{key}"}, key
        assert output.get("Description"), key


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_environment_config_sets_only_declared_valid_parameters(
    core_template: dict[str, Any], env: str
) -> None:
    config = json.loads((ROOT / "config" / f"{env}.json").read_text())
    assert set(config) == {"core", "website"}
    declared = core_template["Parameters"]
    for key, value in config["core"].items():
        assert key in declared, key
        assert isinstance(value, str), key
        spec = declared[key]
        if "AllowedValues" in spec:
            assert value in [str(v) for v in spec["AllowedValues"]], key
        if "AllowedPattern" in spec:
            assert re.fullmatch(spec["AllowedPattern"], value), key
        if "MinValue" in spec:
            assert int(value) >= int(spec["MinValue"]), key
    # Images are rolled out by deploy-service and kept as they are by `make deploy`.
    assert not {k for k in config["core"] if k.endswith(("ImageTag", "ImageDigest"))}
    # Every combination the config picks resolves (conditions, branches) without a gap.
    resolve(core_template, config["core"])
