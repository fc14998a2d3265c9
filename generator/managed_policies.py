"""The AWS managed policies the container instance role uses, as AWS published them.

Vendored so that the checks can evaluate what the role may really do (its permissions are these
documents cut down by the project's permissions boundary), and so that a change AWS makes shows up
here as a reviewed diff rather than silently. Source: "AWS managed policy reference guide",
https://docs.aws.amazon.com/aws-managed-policy/latest/reference/<PolicyName>.html, each at the
version and date recorded with it. AWS only adds permissions to managed policies ("AWS managed
policies", IAM User Guide), so a newer version can grant more than this copy: the boundary, not
this copy, is what limits the role.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ManagedPolicy:
    name: str
    path: str  # the ARN's path: arn:aws:iam::aws:policy/<path><name>
    version: str
    updated: str  # the version's date
    document: dict[str, Any]

    @property
    def arn_suffix(self) -> str:
        return f"iam::aws:policy/{self.path}{self.name}"


ECS_FOR_EC2 = ManagedPolicy(
    name="AmazonEC2ContainerServiceforEC2Role",
    path="service-role/",
    version="v10",
    updated="2026-02-12",
    document={
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": [
                    "ec2:DescribeTags",
                    "ecs:CreateCluster",
                    "ecs:DeregisterContainerInstance",
                    "ecs:DiscoverPollEndpoint",
                    "ecs:Poll",
                    "ecs:RegisterContainerInstance",
                    "ecs:StartTelemetrySession",
                    "ecs:UpdateContainerInstancesState",
                    "ecs:Submit*",
                    "ecr:GetAuthorizationToken",
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:BatchGetImage",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                ],
                "Resource": "*",
            },
            {
                "Effect": "Allow",
                "Action": "ecs:TagResource",
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "ecs:CreateAction": ["CreateCluster", "RegisterContainerInstance"]
                    }
                },
            },
            {
                "Effect": "Allow",
                "Action": ["ecs:ListTagsForResource"],
                "Resource": ["arn:aws:ecs:*:*:task/*/*", "arn:aws:ecs:*:*:container-instance/*/*"],
            },
        ],
    },
)

SSM_CORE = ManagedPolicy(
    name="AmazonSSMManagedInstanceCore",
    path="",
    version="v2",
    updated="2019-05-23",
    document={
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": [
                    "ssm:DescribeAssociation",
                    "ssm:GetDeployablePatchSnapshotForInstance",
                    "ssm:GetDocument",
                    "ssm:DescribeDocument",
                    "ssm:GetManifest",
                    "ssm:GetParameter",
                    "ssm:GetParameters",
                    "ssm:ListAssociations",
                    "ssm:ListInstanceAssociations",
                    "ssm:PutInventory",
                    "ssm:PutComplianceItems",
                    "ssm:PutConfigurePackageResult",
                    "ssm:UpdateAssociationStatus",
                    "ssm:UpdateInstanceAssociationStatus",
                    "ssm:UpdateInstanceInformation",
                ],
                "Resource": "*",
            },
            {
                "Effect": "Allow",
                "Action": [
                    "ssmmessages:CreateControlChannel",
                    "ssmmessages:CreateDataChannel",
                    "ssmmessages:OpenControlChannel",
                    "ssmmessages:OpenDataChannel",
                ],
                "Resource": "*",
            },
            {
                "Effect": "Allow",
                "Action": [
                    "ec2messages:AcknowledgeMessage",
                    "ec2messages:DeleteMessage",
                    "ec2messages:FailMessage",
                    "ec2messages:GetEndpoint",
                    "ec2messages:GetMessages",
                    "ec2messages:SendReply",
                ],
                "Resource": "*",
            },
        ],
    },
)

CONTAINER_INSTANCE_POLICIES = (ECS_FOR_EC2, SSM_CORE)
