"""Auth layer: the Cognito user pool (email sign-in) and the website's app client."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import Equals, If, NoValue, Parameter, Ref, Sub, Template
from troposphere.cognito import (
    AccountRecoverySetting,
    AdminCreateUserConfig,
    PasswordPolicy,
    Policies,
    RecoveryOption,
    SchemaAttribute,
    TokenValidityUnits,
    UsernameConfiguration,
    UserPool,
    UserPoolClient,
)

from generator.common import add_output, retain
from generator.config import Settings

MFA_ENABLED = "MfaEnabled"


@dataclass(frozen=True)
class Auth:
    user_pool: UserPool
    client: UserPoolClient


def add_auth(t: Template, settings: Settings) -> Auth:
    mfa = t.add_parameter(
        Parameter(
            "MfaConfiguration",
            Type="String",
            Default="OPTIONAL",
            AllowedValues=["OFF", "OPTIONAL"],
            Description="OPTIONAL lets users add a TOTP authenticator app; OFF disables MFA",
        )
    )
    t.add_condition(MFA_ENABLED, Equals(Ref(mfa), "OPTIONAL"))

    user_pool = t.add_resource(
        retain(
            UserPool(
                "UserPool",
                UserPoolName=Sub("${AWS::StackName}-users"),
                UsernameAttributes=["email"],
                UsernameConfiguration=UsernameConfiguration(CaseSensitive=False),
                AutoVerifiedAttributes=["email"],
                Schema=[
                    SchemaAttribute(
                        Name="email", AttributeDataType="String", Required=True, Mutable=True
                    )
                ],
                Policies=Policies(
                    PasswordPolicy=PasswordPolicy(
                        MinimumLength=12,
                        RequireLowercase=True,
                        RequireUppercase=True,
                        RequireNumbers=True,
                        RequireSymbols=True,
                        TemporaryPasswordValidityDays=3,
                    )
                ),
                AccountRecoverySetting=AccountRecoverySetting(
                    RecoveryMechanisms=[RecoveryOption(Name="verified_email", Priority=1)]
                ),
                AdminCreateUserConfig=AdminCreateUserConfig(AllowAdminCreateUserOnly=False),
                MfaConfiguration=Ref(mfa),
                EnabledMfas=If(MFA_ENABLED, ["SOFTWARE_TOKEN_MFA"], NoValue),
                DeletionProtection="ACTIVE",
            )
        )
    )
    client = t.add_resource(
        UserPoolClient(
            "UserPoolClient",
            UserPoolId=Ref(user_pool),
            ClientName=Sub("${AWS::StackName}-website"),
            GenerateSecret=False,  # a browser cannot keep a secret
            ExplicitAuthFlows=[
                "ALLOW_USER_SRP_AUTH",
                "ALLOW_USER_PASSWORD_AUTH",
                "ALLOW_REFRESH_TOKEN_AUTH",
            ],
            PreventUserExistenceErrors="ENABLED",
            EnableTokenRevocation=True,
            AccessTokenValidity=settings.access_token_minutes,
            IdTokenValidity=settings.id_token_minutes,
            RefreshTokenValidity=settings.refresh_token_days,
            TokenValidityUnits=TokenValidityUnits(
                AccessToken="minutes", IdToken="minutes", RefreshToken="days"
            ),
            AuthSessionValidity=3,
        )
    )
    add_output(t, "UserPoolId", Ref(user_pool), "Cognito user pool of the app's users")
    add_output(t, "UserPoolClientId", Ref(client), "App client the website signs in with")
    return Auth(user_pool=user_pool, client=client)
