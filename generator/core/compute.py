"""Compute layer: the ECS cluster and its EC2 capacity (launch template, ASG, capacity provider).

The `LaunchType` parameter switches the services to Fargate; the EC2 capacity then is not created.
"""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import Base64, Equals, GetAtt, If, Parameter, Ref, Sub, Template
from troposphere.autoscaling import AutoScalingGroup, LaunchTemplateSpecification
from troposphere.autoscaling import Tags as AsgTags
from troposphere.ec2 import (
    EBSBlockDevice,
    IamInstanceProfile,
    LaunchTemplate,
    LaunchTemplateBlockDeviceMapping,
    LaunchTemplateData,
    MetadataOptions,
    TagSpecifications,
)
from troposphere.ecs import (
    AutoScalingGroupProvider,
    CapacityProvider,
    CapacityProviderStrategy,
    Cluster,
    ClusterCapacityProviderAssociations,
    ClusterConfiguration,
    ClusterSetting,
    ExecuteCommandConfiguration,
    ExecuteCommandLogConfiguration,
    ManagedScaling,
)

from generator.common import add_output
from generator.config import Settings
from generator.core.environment import Environment
from generator.core.iam import Iam
from generator.core.logs import Logs
from generator.core.network import Network
from generator.core.security import Security

USE_FARGATE = "UseFargate"
USE_EC2 = "UseEc2"
ECS_AMI = "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"


@dataclass(frozen=True)
class Compute:
    cluster: Cluster
    capacity_provider: CapacityProvider
    capacity_association: ClusterCapacityProviderAssociations
    use_fargate: str  # condition name
    use_ec2: str  # condition name
    launch_type: Parameter


def add_compute(
    t: Template,
    settings: Settings,
    environment: Environment,
    network: Network,
    security: Security,
    iam: Iam,
    logs: Logs,
) -> Compute:
    launch_type = t.add_parameter(
        Parameter(
            "LaunchType",
            Type="String",
            Default="EC2",
            AllowedValues=["EC2", "FARGATE"],
            Description="EC2: container instances in an Auto Scaling group; FARGATE: no instances",
        )
    )
    t.add_condition(USE_FARGATE, Equals(Ref(launch_type), "FARGATE"))
    t.add_condition(USE_EC2, Equals(Ref(launch_type), "EC2"))
    ami = t.add_parameter(
        Parameter(
            "ContainerInstanceAmi",
            Type="AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>",
            Default=ECS_AMI,
            Description="ECS-optimized Amazon Linux 2023 AMI (public SSM parameter)",
        )
    )
    instance_type = t.add_parameter(
        Parameter(
            "ContainerInstanceType",
            Type="String",
            Default="t3.small",
            AllowedPattern=r"^[a-z0-9]+\.[a-z0-9]+$",
            Description="EC2 instance type of the container instances",
        )
    )
    min_instances = t.add_parameter(
        Parameter(
            "ContainerInstancesMin",
            Type="Number",
            Default=1,
            MinValue=0,
            Description="Minimum number of container instances (EC2 launch type)",
        )
    )
    max_instances = t.add_parameter(
        Parameter(
            "ContainerInstancesMax",
            Type="Number",
            Default=6,
            MinValue=1,
            Description="Maximum number of container instances (EC2 launch type)",
        )
    )

    cluster = t.add_resource(
        Cluster(
            "Cluster",
            ClusterSettings=[ClusterSetting(Name="containerInsights", Value="enabled")],
            # Every ECS Exec session, its commands and their output, to a log group encrypted
            # with the data key; with CloudWatchEncryptionEnabled the exec agent writes only to
            # an encrypted group ("Logging and auditing using ECS Exec", ECS Developer Guide).
            # EnableExec decides whether a session can start at all (generator/core/iam.py).
            Configuration=ClusterConfiguration(
                ExecuteCommandConfiguration=ExecuteCommandConfiguration(
                    Logging="OVERRIDE",
                    LogConfiguration=ExecuteCommandLogConfiguration(
                        CloudWatchLogGroupName=Ref(logs.exec_sessions),
                        CloudWatchEncryptionEnabled=True,
                    ),
                )
            ),
        )
    )

    launch_template = t.add_resource(
        LaunchTemplate(
            "ContainerInstanceLaunchTemplate",
            Condition=USE_EC2,
            # CloudFormation's stack tags do not reach launch templates (not taggable in the
            # provider schema): the environment tag confines the execution role's changes to it.
            TagSpecifications=[
                TagSpecifications(ResourceType="launch-template", Tags=[environment.tag()])
            ],
            LaunchTemplateData=LaunchTemplateData(
                ImageId=Ref(ami),
                InstanceType=Ref(instance_type),
                IamInstanceProfile=IamInstanceProfile(Arn=GetAtt(iam.instance_profile, "Arn")),
                SecurityGroupIds=[GetAtt(security.container_instance, "GroupId")],
                # IMDSv2 only, one hop: bridge-mode containers cannot borrow the instance role.
                MetadataOptions=MetadataOptions(
                    HttpEndpoint="enabled", HttpTokens="required", HttpPutResponseHopLimit=1
                ),
                BlockDeviceMappings=[
                    LaunchTemplateBlockDeviceMapping(
                        DeviceName="/dev/xvda",
                        Ebs=EBSBlockDevice(
                            VolumeSize=30,
                            VolumeType="gp3",
                            Encrypted=True,
                            DeleteOnTermination=True,
                        ),
                    )
                ],
                UserData=Base64(
                    Sub(
                        "#!/bin/bash\n"
                        "cat >> /etc/ecs/ecs.config <<'EOF'\n"
                        f"ECS_CLUSTER=${{{cluster.title}}}\n"
                        "ECS_ENABLE_TASK_IAM_ROLE=true\n"
                        "ECS_CONTAINER_STOP_TIMEOUT=30s\n"
                        "EOF\n"
                    )
                ),
            ),
        )
    )
    asg = t.add_resource(
        AutoScalingGroup(
            "ContainerInstanceAutoScalingGroup",
            Condition=USE_EC2,
            MinSize=Ref(min_instances),
            MaxSize=Ref(max_instances),
            VPCZoneIdentifier=[Ref(subnet) for subnet in network.private_subnets],
            LaunchTemplate=LaunchTemplateSpecification(
                LaunchTemplateId=Ref(launch_template),
                Version=GetAtt(launch_template, "LatestVersionNumber"),
            ),
            # No scale-in protection, so that the group can always be deleted: CloudFormation
            # deletes the capacity provider before the group, and ECS leaves the protection it
            # set on the instances in place, so a protected group never empties and its delete
            # hangs, then fails (containers-roadmap#2862). Managed draining (below) moves the
            # tasks off an instance before Auto Scaling terminates it instead.
            NewInstancesProtectedFromScaleIn=False,
            HealthCheckType="EC2",
            HealthCheckGracePeriod=60,
            Tags=AsgTags(Name=Sub("${AWS::StackName}-container-instance")),
        )
    )
    capacity_provider = t.add_resource(
        CapacityProvider(
            "CapacityProvider",
            Condition=USE_EC2,
            AutoScalingGroupProvider=AutoScalingGroupProvider(
                AutoScalingGroupArn=Ref(asg),
                ManagedScaling=ManagedScaling(Status="ENABLED", TargetCapacity=100),
                # Managed termination protection needs scale-in protection on every instance,
                # which blocks the stack's deletion (see the Auto Scaling group). Managed draining
                # covers what it was for: ECS drains an instance's tasks, and starts them
                # elsewhere, before a scale-in terminates it ("Safely stop Amazon ECS workloads
                # running on EC2 instances", Amazon ECS Developer Guide).
                ManagedTerminationProtection="DISABLED",
                ManagedDraining="ENABLED",
            ),
        )
    )
    strategy = If(
        USE_FARGATE,
        [CapacityProviderStrategy(CapacityProvider="FARGATE", Weight=1, Base=0)],
        [CapacityProviderStrategy(CapacityProvider=Ref(capacity_provider), Weight=1, Base=0)],
    )
    association = t.add_resource(
        ClusterCapacityProviderAssociations(
            "ClusterCapacityProviderAssociations",
            Cluster=Ref(cluster),
            CapacityProviders=If(USE_FARGATE, ["FARGATE"], [Ref(capacity_provider)]),
            DefaultCapacityProviderStrategy=strategy,
        )
    )
    add_output(t, "ClusterName", Ref(cluster), "ECS cluster of the services")
    return Compute(
        cluster=cluster,
        capacity_provider=capacity_provider,
        capacity_association=association,
        use_fargate=USE_FARGATE,
        use_ec2=USE_EC2,
        launch_type=launch_type,
    )
