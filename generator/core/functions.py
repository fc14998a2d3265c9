"""Functions layer: the core stack's Lambda functions, as SAM functions packaged from hooks/.

- `NotFoundFunction`: the JSON 404 behind both ALB listeners. ECS's blue/green, linear and canary
  deployments fail on a listener whose rules mix forward and non-forward actions ("Application
  Load Balancer resources for blue/green, linear, and canary deployments", Amazon ECS Developer
  Guide, Limitations), so the listeners' default action forwards to this function instead of
  answering a fixed response. ALB invokes it through the Lambda API: it needs no network.
- `ReleaseGateFunction`: the deployment lifecycle hook that checks a new service revision
  through the ALB's test listener (hooks/gate.py). It runs in the private subnets, in a security
  group that may only open connections to the test listener, which admits nothing else.

Both are `AWS::Serverless::Function`s whose `CodeUri` names the hooks/ directory relative to
templates/, as `aws cloudformation package` reads it; `make deploy` uploads the package and
replaces the path with its S3 location (scripts/deploy/package.py). Each has its own role, with
the environment's permissions boundary and only its own log group, and its own encrypted log
group, kept when the stack goes.
"""

from __future__ import annotations

from dataclasses import dataclass

from awacs import ec2, logs
from awacs.aws import Allow, PolicyDocument, Statement
from troposphere import GetAtt, Ref, Sub, Template
from troposphere.awslambda import LoggingConfig, Permission, VPCConfig
from troposphere.ec2 import SecurityGroup, SecurityGroupIngress, SecurityGroupRule
from troposphere.iam import Policy, Role
from troposphere.logs import LogGroup
from troposphere.serverless import Function

from generator.common import add_output, advisor_notes, assumed_by, checkov_skip
from generator.config import Settings
from generator.core.encryption import Encryption
from generator.core.environment import Environment
from generator.core.logs import encrypted_log_group
from generator.core.network import Network
from generator.core.security import Security
from generator.naming import GATE_LOG_GROUP_OUTPUT

# The hooks/ package, relative to the template's directory (templates/).
CODE_URI = "../hooks"
RUNTIME = "python3.13"
# ALB and ECS invoke both functions synchronously: a dead-letter queue would never receive one.
SYNCHRONOUS = (
    "CKV_AWS_116",
    "invoked synchronously (by the ALB, by ECS): a dead-letter queue never receives an event",
)
# Reserved concurrency takes from the account's pool, which new accounts keep at 10.
NO_RESERVATION = (
    "CKV_AWS_115",
    "a reservation takes from the account's unreserved concurrency, which AWS keeps at 100 at "
    "least; the callers (ALB default route, one hook per deployment) are few",
)
NO_SIGNING = (
    "CKV_AWS_272",
    "the code is the reviewed hooks/ package of this repository, uploaded by make deploy",
)
# The ENI calls a function in a VPC needs ("Giving Lambda functions access to resources in an
# Amazon VPC", AWS Lambda Developer Guide: the AWSLambdaVPCAccessExecutionRole actions). Lambda
# makes them with the function's role; none of them has a resource-level permission that a
# template could name before the network interfaces exist.
VPC_ACCESS_ACTIONS = (
    ec2.CreateNetworkInterface,
    ec2.DescribeNetworkInterfaces,
    ec2.DescribeSubnets,
    ec2.DeleteNetworkInterface,
    ec2.AssignPrivateIpAddresses,
    ec2.UnassignPrivateIpAddresses,
)


@dataclass(frozen=True)
class Functions:
    not_found: Function
    not_found_permission: Permission  # the ALB's right to invoke it
    gate: Function
    gate_log_group: LogGroup


def _role(
    title: str,
    environment: Environment,
    log_group: LogGroup,
    *extra: Statement,
) -> Role:
    """A function's role: its own log group, and what `extra` adds."""
    return Role(
        title,
        AssumeRolePolicyDocument=assumed_by("lambda.amazonaws.com", this_account_only=True),
        PermissionsBoundary=environment.boundary,
        Policies=[
            Policy(
                PolicyName="function",
                PolicyDocument=PolicyDocument(
                    Version="2012-10-17",
                    Statement=[
                        Statement(
                            Sid="WriteItsLogGroup",
                            Effect=Allow,
                            Action=[logs.CreateLogStream, logs.PutLogEvents],
                            Resource=[GetAtt(log_group, "Arn")],
                        ),
                        *extra,
                    ],
                ),
            )
        ],
    )


def _function(
    title: str,
    handler: str,
    description: str,
    role: Role,
    log_group: LogGroup,
    timeout: int,
    **properties: object,
) -> Function:
    return Function(
        title,
        Description=description,
        CodeUri=CODE_URI,
        Handler=handler,
        Runtime=RUNTIME,
        Architectures=["arm64"],
        MemorySize=128,
        Timeout=timeout,
        Role=GetAtt(role, "Arn"),
        LoggingConfig=LoggingConfig(LogGroup=Ref(log_group)),
        **properties,
    )


def add_functions(
    t: Template,
    settings: Settings,
    environment: Environment,
    encryption: Encryption,
    network: Network,
    security: Security,
) -> Functions:
    not_found_logs = encrypted_log_group(t, settings, encryption, "NotFoundFunctionLogGroup")
    not_found = t.add_resource(
        checkov_skip(
            _function(
                "NotFoundFunction",
                "not_found.handler",
                "JSON 404 for paths no ALB rule matches (the listeners' default target)",
                t.add_resource(_role("NotFoundFunctionRole", environment, not_found_logs)),
                not_found_logs,
                timeout=3,
            ),
            SYNCHRONOUS,
            NO_RESERVATION,
            NO_SIGNING,
            (
                "CKV_AWS_117",
                "ALB invokes it through the Lambda API and it calls nothing: it needs no network",
            ),
        )
    )
    # The ALB checks the invoke permission when the target group registers the function; the
    # target group's ARN is generated, so the permission names every target group of this
    # account and region (the function answers only 404).
    permission = t.add_resource(
        Permission(
            "NotFoundFunctionInvokePermission",
            Action="lambda:InvokeFunction",
            FunctionName=GetAtt(not_found, "Arn"),
            Principal="elasticloadbalancing.amazonaws.com",
            SourceAccount=Ref("AWS::AccountId"),
            SourceArn=Sub(
                "arn:${AWS::Partition}:elasticloadbalancing:${AWS::Region}:${AWS::AccountId}"
                ":targetgroup/*"
            ),
        )
    )

    port = settings.test_listener_port
    gate_group = t.add_resource(
        SecurityGroup(
            "ReleaseGateSecurityGroup",
            GroupDescription="Release gate function: only to the ALB test listener",
            VpcId=Ref(network.vpc),
            SecurityGroupEgress=[
                SecurityGroupRule(
                    IpProtocol="tcp",
                    FromPort=port,
                    ToPort=port,
                    DestinationSecurityGroupId=GetAtt(security.load_balancer, "GroupId"),
                    Description="Release gate to the ALB's test listener",
                )
            ],
        )
    )
    t.add_resource(
        SecurityGroupIngress(
            "LoadBalancerSecurityGroupIngressFromReleaseGate",
            GroupId=GetAtt(security.load_balancer, "GroupId"),
            SourceSecurityGroupId=GetAtt(gate_group, "GroupId"),
            IpProtocol="tcp",
            FromPort=port,
            ToPort=port,
            Description="Test listener: from the release gate function only",
        )
    )
    gate_logs = encrypted_log_group(t, settings, encryption, "ReleaseGateLogGroup")
    gate_role = t.add_resource(
        checkov_skip(
            advisor_notes(
                _role(
                    "ReleaseGateFunctionRole",
                    environment,
                    gate_logs,
                    Statement(
                        Sid="NetworkInterfacesInTheVpc",
                        Effect=Allow,
                        Action=list(VPC_ACCESS_ACTIONS),
                        Resource=["*"],
                    ),
                ),
                (
                    "parliament",
                    "RESOURCE_STAR",
                    "Lambda creates and deletes the function's network interfaces with its "
                    "role; they do not exist when the template is written "
                    "(AWSLambdaVPCAccessExecutionRole)",
                ),
                (
                    "cloudsplaining",
                    "InfrastructureModification",
                    "the network interfaces Lambda attaches to the function in the private "
                    "subnets (AWSLambdaVPCAccessExecutionRole); the boundary keeps them in this "
                    "environment",
                ),
            ),
            (
                "CKV_AWS_111",
                "Lambda attaches the function's network interfaces with its role and checks it "
                "for these writes on every resource (AWSLambdaVPCAccessExecutionRole)",
            ),
        )
    )
    gate = t.add_resource(
        checkov_skip(
            _function(
                "ReleaseGateFunction",
                "gate.handler",
                "Release gate: checks a new service revision through the ALB's test listener",
                gate_role,
                gate_logs,
                timeout=settings.gate_timeout_seconds,
                VpcConfig=VPCConfig(
                    SubnetIds=[Ref(subnet) for subnet in network.private_subnets],
                    SecurityGroupIds=[GetAtt(gate_group, "GroupId")],
                ),
            ),
            SYNCHRONOUS,
            NO_RESERVATION,
            NO_SIGNING,
        )
    )
    add_output(t, "ReleaseGateFunctionName", Ref(gate), "Release gate (ECS lifecycle hook)")
    add_output(t, GATE_LOG_GROUP_OUTPUT, Ref(gate_logs), "Log group of the release gate")
    return Functions(
        not_found=not_found,
        not_found_permission=permission,
        gate=gate,
        gate_log_group=gate_logs,
    )
