"""Handler permissions the execution role deliberately does not grant, each with its reason.

The resource provider schemas list every permission a handler may need for every feature of its
type. These are the ones for features the templates do not use, names that are API operations
rather than IAM actions, and the one the project forbids. A new template feature that needs one
of them fails tests/aws/test_handler_permissions.py until the entry goes.

Keys are (CloudFormation type, action); an action may be a pattern (`s3tables:*`).
"""

from __future__ import annotations

NOT_AN_IAM_ACTION = (
    "listed by the handler under its API operation's name, which IAM does not know; the "
    "operation is authorised by the IAM action the handler also lists"
)

UNUSED_FEATURES: dict[tuple[str, str], str] = {
    ("AWS::ApiGatewayV2::Api", "s3:getObject"): "no OpenAPI body imported from S3",
    ("AWS::ApiGatewayV2::VpcLink", "iam:DeleteServiceLinkedRole"): (
        "API Gateway's service-linked role serves every VPC link of the account; a stack must "
        "never delete it"
    ),
    ("AWS::ApiGatewayV2::VpcLink", "iam:GetServiceLinkedRoleDeletionStatus"): (
        "follows the deletion above, which is not granted"
    ),
    ("AWS::ApplicationAutoScaling::ScalableTarget", "lambda:*"): (
        "the scalable targets are ECS services, not Lambda functions"
    ),
    ("AWS::AutoScaling::AutoScalingGroup", "cloudwatch:PutMetricAlarm"): (
        "no scaling policy on the group: the capacity provider scales it through ECS's "
        "service-linked role"
    ),
    ("AWS::AutoScaling::AutoScalingGroup", "ssm:*"): (
        "the launch template names the AMI ID, which CloudFormation resolved from its SSM "
        "parameter when the change set was made; EC2 resolves no SSM parameter at launch"
    ),
    ("AWS::AutoScaling::AutoScalingGroup", "vpc-lattice:*"): "no VPC Lattice target group",
    ("AWS::AutoScaling::AutoScalingGroup", "managed-fleets:*"): (
        "no managed fleet; and not an action of the Service Authorization Reference"
    ),
    ("AWS::Chatbot::SlackChannelConfiguration", "chatbot:DisassociateFromConfiguration"): (
        "no custom action is associated with the Slack channel"
    ),
    ("AWS::Chatbot::SlackChannelConfiguration", "chatbot:AssociateToConfiguration"): (
        "no custom action is associated with the Slack channel"
    ),
    ("AWS::CloudFront::Distribution", "cloudfront:CreateConnectionGroup"): (
        "no multi-tenant distribution"
    ),
    ("AWS::CloudFront::Distribution", "cloudfront:CreateDistributionWithTags"): NOT_AN_IAM_ACTION,
    ("AWS::Cognito::UserPool", "kms:*"): (
        "no customer-managed key for a custom e-mail or SMS sender"
    ),
    ("AWS::Cognito::UserPoolClient", "iam:*"): "no Pinpoint analytics configuration (its role)",
    ("AWS::DynamoDB::Table", "kinesis:*"): "no Kinesis streaming destination",
    ("AWS::DynamoDB::Table", "logs:*"): "no import from S3 (ImportSourceSpecification)",
    ("AWS::DynamoDB::Table", "s3:*"): "no import from S3 (ImportSourceSpecification)",
    ("AWS::DynamoDB::Table", "s3:GetObjectMetadata"): NOT_AN_IAM_ACTION,
    ("AWS::EC2::FlowLog", "s3:*"): "flow logs go to CloudWatch Logs, not S3",
    ("AWS::EC2::VPC", "ec2:CreateVpcEncryptionControl"): "no VPC encryption control",
    ("AWS::EC2::VPCEndpoint", "vpc-lattice:*"): "gateway endpoints; no service network",
    ("AWS::EC2::VPCEndpoint", "vpce:AllowMultiRegion"): "endpoints of the stack's own region",
    ("AWS::EC2::VPCGatewayAttachment", "ec2:AttachVpnGateway"): "no VPN gateway",
    ("AWS::EC2::VPCGatewayAttachment", "ec2:DetachVpnGateway"): "no VPN gateway",
    ("AWS::ECS::Cluster", "ecs:PutAccountSetting"): "account settings are not a stack's to change",
    ("AWS::ECS::Cluster", "ecs:PutAccountSettingDefault"): (
        "account settings are not a stack's to change"
    ),
    ("AWS::ElasticLoadBalancingV2::Listener", "cognito-idp:*"): "no authenticate-cognito action",
    ("AWS::ElasticLoadBalancingV2::ListenerRule", "cognito-idp:*"): (
        "no authenticate-cognito action"
    ),
    ("AWS::Lambda::Function", "elasticfilesystem:*"): "no EFS file system mounted",
    ("AWS::Lambda::Function", "s3files:*"): "no S3 file system mounted",
    ("AWS::Lambda::Function", "kms:*"): (
        "no customer-managed key for environment variables or code (the functions have no "
        "environment variables)"
    ),
    ("AWS::Lambda::Function", "lambda:*CodeSigningConfig"): "no code signing configuration",
    ("AWS::Lambda::Function", "lambda:GetLayerVersion"): "no layers: the code is stdlib-only",
    ("AWS::Lambda::Function", "lambda:PassCapacityProvider"): (
        "no Lambda managed instances capacity provider"
    ),
    ("AWS::Lambda::Function", "lambda:AssociateRuntimeAlias"): "no runtime alias",
    ("AWS::Lambda::Function", "lambda:PublishVersion"): "no published versions or aliases",
    ("AWS::Lambda::Function", "lambda:PutFunctionScalingConfig"): (
        "no scaling configuration (managed instances only)"
    ),
    ("AWS::Logs::LogGroup", "firehose:*"): "no subscription filter to Firehose",
    ("AWS::Logs::LogGroup", "logs:*IndexPolicy"): "no field index policy",
    ("AWS::Logs::LogGroup", "logs:DescribeIndexPolicies"): "no field index policy",
    ("AWS::Logs::LogGroup", "s3:REST.PUT.OBJECT"): NOT_AN_IAM_ACTION,
    ("AWS::S3::Bucket", "s3tables:*"): "no S3 metadata table configuration",
    ("AWS::S3::Bucket", "s3:UpdateBucketMetadataAnnotationTableConfiguration"): NOT_AN_IAM_ACTION,
    ("AWS::S3::Bucket", "s3:DeleteBucketAnalyticsConfiguration"): NOT_AN_IAM_ACTION,
    ("AWS::S3::Bucket", "s3:DeleteBucketCors"): NOT_AN_IAM_ACTION,
    ("AWS::S3::Bucket", "s3:DeleteBucketEncryption"): NOT_AN_IAM_ACTION,
    ("AWS::S3::Bucket", "s3:DeleteBucketLifecycle"): NOT_AN_IAM_ACTION,
    ("AWS::S3::Bucket", "s3:DeleteBucketMetricsConfiguration"): NOT_AN_IAM_ACTION,
    ("AWS::S3::Bucket", "s3:DeleteBucketReplication"): NOT_AN_IAM_ACTION,
    ("AWS::S3::Bucket", "s3:PutBucketReplication"): NOT_AN_IAM_ACTION,
    ("AWS::S3::Bucket", "s3:PutObjectLockConfiguration"): NOT_AN_IAM_ACTION,
    ("AWS::ApiGatewayV2::Stage", "apigateway:TagResource"): NOT_AN_IAM_ACTION,
    ("AWS::ApiGatewayV2::Stage", "apigateway:UntagResource"): NOT_AN_IAM_ACTION,
    ("AWS::ApiGatewayV2::VpcLink", "apigateway:TagResource"): NOT_AN_IAM_ACTION,
    ("AWS::ApiGatewayV2::VpcLink", "apigateway:unTagResource"): NOT_AN_IAM_ACTION,
    ("AWS::EC2::VPCEndpoint", "vpc-lattice:DescribeServiceNetworkVpcEndpointAssociation"): (
        NOT_AN_IAM_ACTION
    ),
    ("AWS::SNS::Topic", "iam:GetRole"): "no delivery-status logging role",
}

FORBIDDEN: dict[tuple[str, str], str] = {
    ("AWS::IAM::Role", "iam:DeleteRolePermissionsBoundary"): (
        "a role's permissions boundary can never be removed (the execution role denies it); the "
        "templates never change a boundary, so no update needs it"
    ),
}

EXCEPTIONS: dict[tuple[str, str], str] = {**UNUSED_FEATURES, **FORBIDDEN}
