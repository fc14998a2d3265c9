"""Auth layer: the Cognito user pool (email sign-in), the website's app client, and the pool's
signing keys for services that cannot fetch them.

The services verify each JWT against the pool's JWKS, which Cognito serves only on its public
endpoint (`https://cognito-idp.<region>.amazonaws.com/<pool>/.well-known/jwks.json`). User pools
gained PrivateLink in late 2025, but not for pools with a domain, and no AWS page says the JWKS is
served through it. So with `Egress=None` the deploy tooling fetches the keys when it deploys
(`UserPoolJwks`), and the services read them from a `data:` URL in their `COGNITO_JWKS_URL`
(RFC 2397, which their URL reader opens like any other): no fetch, no route out. Cognito does not
rotate a pool's signing keys on a schedule; should they change, tokens signed by the new key are
refused (401) until the next `make deploy` refreshes the parameter, and `make changeset` says so
when the live keys differ (docs/deploy.md, "Private egress").
"""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import (
    And,
    Base64,
    Equals,
    If,
    Join,
    Not,
    NoValue,
    Or,
    Parameter,
    Ref,
    Sub,
    Template,
)
from troposphere.cognito import (
    AccountRecoverySetting,
    AdminCreateUserConfig,
    EmailConfiguration,
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
from generator.core.network import Network
from generator.naming import BOOTSTRAP_TAG, image_digest_parameter

MFA_ENABLED = "MfaEnabled"
HAS_JWKS = "HasUserPoolJwks"
# A CloudFormation parameter value holds at most 4,096 bytes; a pool's JWKS (two RSA keys) is
# about 900.
MAX_JWKS_CHARS = 4096
SES_EMAIL = "UserEmailThroughSes"
SES_FROM = "UserEmailFromSet"


@dataclass(frozen=True)
class Auth:
    user_pool: UserPool
    client: UserPoolClient
    # The pool's JWKS as a data: URL for COGNITO_JWKS_URL, under the condition `has_jwks`
    # (otherwise the services fetch the keys from Cognito).
    jwks_url: Join
    has_jwks: str


def _add_jwks(t: Template, settings: Settings, network: Network) -> Parameter:
    jwks = t.add_parameter(
        Parameter(
            "UserPoolJwks",
            Type="String",
            Default="",
            MaxLength=MAX_JWKS_CHARS,
            AllowedPattern=r"^$|^\{.*\}$",
            ConstraintDescription="empty, or the user pool's JWKS document (JSON)",
            Description="The user pool's signing keys (its JWKS) as the deploy tooling read them; "
            "set, the services verify tokens with these and never fetch them (Egress=None needs "
            "it: no route to Cognito's public endpoint). Filled by make deploy.",
        )
    )
    t.add_condition(HAS_JWKS, Not(Equals(Ref(jwks), "")))
    # A private stack whose services run must have the keys: refuse the change set otherwise
    # (a stack whose services are all still bootstrapping has no pool to read them from yet).
    running = Or(
        *(
            Not(Equals(Ref(image_digest_parameter(s.name)), BOOTSTRAP_TAG))
            for s in settings.services
        )
    )
    t.add_rule(
        "PrivateEgressNeedsTheUserPoolKeys",
        {
            "RuleCondition": And(Equals(Ref(network.egress), "None"), running),
            "Assertions": [
                {
                    "Assert": Not(Equals(Ref(jwks), "")),
                    "AssertDescription": "Egress=None with running services needs UserPoolJwks "
                    "(make deploy fills it from the user pool)",
                }
            ],
        },
    )
    return jwks


def _email_configuration(t: Template) -> If:
    """Cognito's own sender by default; a verified SES identity when one is given.

    Cognito's default e-mail allows only a few messages a day, below what sign-ups and password
    resets in production need; with `DEVELOPER`, Cognito sends through the account's SES
    identity, within SES's quotas, and creates its service-linked role for that
    (AWSServiceRoleForAmazonCognitoIdpEmailService). "Email settings for Amazon Cognito user
    pools" and "Authorizing Amazon Cognito to send Amazon SES email on your behalf", Cognito
    Developer Guide.
    """
    identity = t.add_parameter(
        Parameter(
            "UserEmailSesIdentityArn",
            Type="String",
            Default="",
            AllowedPattern=r"^$|^arn:aws[a-z-]*:ses:[a-z0-9-]+:[0-9]{12}:identity/\S+$",
            ConstraintDescription="empty, or the ARN of a verified SES identity",
            Description="ARN of a verified SES identity (address or domain) the user pool sends "
            "its e-mail through; empty uses Cognito's own sender, which allows a few a day",
        )
    )
    sender = t.add_parameter(
        Parameter(
            "UserEmailFrom",
            Type="String",
            Default="",
            Description="The From of the user pool's e-mail through SES, for example "
            "'To-do <no-reply@example.com>' (needed with a domain identity); empty: the identity",
        )
    )
    t.add_condition(SES_EMAIL, Not(Equals(Ref(identity), "")))
    t.add_condition(SES_FROM, Not(Equals(Ref(sender), "")))
    return If(
        SES_EMAIL,
        EmailConfiguration(
            EmailSendingAccount="DEVELOPER",
            SourceArn=Ref(identity),
            From=If(SES_FROM, Ref(sender), NoValue),
        ),
        NoValue,
    )


def add_auth(t: Template, settings: Settings, network: Network) -> Auth:
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
    email = _email_configuration(t)

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
                EmailConfiguration=email,
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
    jwks = _add_jwks(t, settings, network)
    return Auth(
        user_pool=user_pool,
        client=client,
        jwks_url=Join("", ["data:application/json;base64,", Base64(Ref(jwks))]),
        has_jwks=HAS_JWKS,
    )
