"""API layer: the public HTTP API, its Cognito JWT authorizer and the VPC link to the ALB."""

from __future__ import annotations

import json
from dataclasses import dataclass

from troposphere import GetAtt, Parameter, Ref, Sub, Template
from troposphere.apigatewayv2 import (
    AccessLogSettings,
    Api,
    Authorizer,
    Cors,
    Integration,
    JWTConfiguration,
    Route,
    RouteSettings,
    Stage,
    VpcLink,
)

from generator.common import add_output
from generator.config import Settings
from generator.core.auth import Auth
from generator.core.data import Data
from generator.core.loadbalancer import LoadBalancing
from generator.core.logs import Logs
from generator.core.network import Network
from generator.core.security import Security

# Every route names its methods: none may match OPTIONS. A browser sends its CORS preflight
# (OPTIONS, without the token) before each authorized call; API Gateway answers it from the CORS
# configuration only while no route matches it. An `ANY` route would match it and send it to the
# JWT authorizer, which answers 401, and the browser would then refuse the real request.
ROUTE_PATHS = {"Todos": "/todos", "TodosProxy": "/todos/{proxy+}"}  # logical-ID part -> path
STAGE = "$default"

ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "requestTime": "$context.requestTime",
        "method": "$context.httpMethod",
        "routeKey": "$context.routeKey",
        "path": "$context.path",
        "status": "$context.status",
        "responseLength": "$context.responseLength",
        "latency": "$context.responseLatency",
        "integrationStatus": "$context.integrationStatus",
        "integrationLatency": "$context.integrationLatency",
        "integrationError": "$context.integrationErrorMessage",
        "authorizerError": "$context.authorizer.error",
        "userSub": "$context.authorizer.claims.sub",
    },
    sort_keys=True,
)


@dataclass(frozen=True)
class HttpApi:
    api: Api
    stage: Stage
    authorizer: Authorizer
    routes: tuple[Route, ...]


def add_api(
    t: Template,
    settings: Settings,
    network: Network,
    security: Security,
    data: Data,
    auth: Auth,
    lb: LoadBalancing,
    logs: Logs,
) -> HttpApi:
    if {"ANY", "OPTIONS"} & set(settings.api_methods):
        raise ValueError("a route on ANY or OPTIONS would send CORS preflights to the authorizer")
    rate = t.add_parameter(
        Parameter(
            "ApiThrottlingRateLimit",
            Type="Number",
            Default=100,
            MinValue=1,
            Description="Steady-state requests per second of the API's stage",
        )
    )
    burst = t.add_parameter(
        Parameter(
            "ApiThrottlingBurstLimit",
            Type="Number",
            Default=200,
            MinValue=1,
            Description="Burst of requests the API's stage absorbs above the rate",
        )
    )

    api = t.add_resource(
        Api(
            "HttpApi",
            Name=Sub("${AWS::StackName}"),
            ProtocolType="HTTP",
            Description="The to-do API: JWT-authorized routes to the services behind the ALB",
            # API Gateway answers CORS preflights itself, for the website's origin only.
            CorsConfiguration=Cors(
                AllowOrigins=[Ref(data.website_origin)],
                AllowMethods=sorted({*settings.api_methods, "OPTIONS"}),
                AllowHeaders=["authorization", "content-type"],
                ExposeHeaders=["retry-after"],
                AllowCredentials=False,
                MaxAge=600,
            ),
        )
    )
    authorizer = t.add_resource(
        Authorizer(
            "HttpApiJwtAuthorizer",
            ApiId=Ref(api),
            Name="cognito-jwt",
            AuthorizerType="JWT",
            IdentitySource=["$request.header.Authorization"],
            JwtConfiguration=JWTConfiguration(
                Issuer=Sub(
                    f"https://cognito-idp.${{AWS::Region}}.amazonaws.com/${{{auth.user_pool.title}}}"
                ),
                Audience=[Ref(auth.client)],
            ),
        )
    )
    vpc_link = t.add_resource(
        VpcLink(
            "HttpApiVpcLink",
            Name=Sub("${AWS::StackName}"),
            SubnetIds=[Ref(subnet) for subnet in network.private_subnets],
            SecurityGroupIds=[GetAtt(security.vpc_link, "GroupId")],
        )
    )
    integration = t.add_resource(
        Integration(
            "HttpApiAlbIntegration",
            ApiId=Ref(api),
            Description="Private integration through the VPC link to the internal ALB's listener",
            IntegrationType="HTTP_PROXY",
            IntegrationMethod="ANY",
            ConnectionType="VPC_LINK",
            ConnectionId=Ref(vpc_link),
            IntegrationUri=Ref(lb.listener),
            PayloadFormatVersion="1.0",
            TimeoutInMillis=29000,
            # The verified subject replaces anything a client sent in this header.
            RequestParameters={"overwrite:header.x-user-sub": "$context.authorizer.claims.sub"},
        )
    )
    routes = tuple(
        t.add_resource(
            Route(
                f"HttpApiRoute{method.capitalize()}{part}",
                ApiId=Ref(api),
                RouteKey=f"{method} {path}",
                AuthorizationType="JWT",
                AuthorizerId=Ref(authorizer),
                Target=Sub(f"integrations/${{{integration.title}}}"),
            )
        )
        for part, path in ROUTE_PATHS.items()
        for method in settings.api_methods
    )
    stage = t.add_resource(
        Stage(
            "HttpApiStage",
            ApiId=Ref(api),
            StageName=STAGE,
            AutoDeploy=True,
            DefaultRouteSettings=RouteSettings(
                ThrottlingRateLimit=Ref(rate), ThrottlingBurstLimit=Ref(burst)
            ),
            AccessLogSettings=AccessLogSettings(
                DestinationArn=GetAtt(logs.api_access, "Arn"), Format=ACCESS_LOG_FORMAT
            ),
        )
    )
    add_output(t, "ApiUrl", GetAtt(api, "ApiEndpoint"), "Base URL of the HTTP API")
    add_output(t, "Region", Ref("AWS::Region"), "Region of the API, user pool and bucket")
    return HttpApi(api=api, stage=stage, authorizer=authorizer, routes=routes)
