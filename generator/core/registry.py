"""Registry layer: one ECR repository per service, immutable tags, scanned, pruned."""

from __future__ import annotations

import json
from dataclasses import dataclass

from troposphere import GetAtt, Template
from troposphere.ecr import (
    EncryptionConfiguration,
    ImageScanningConfiguration,
    LifecyclePolicy,
    Repository,
)

from generator.common import add_output, retain
from generator.config import Settings
from generator.core.encryption import Encryption
from generator.naming import logical_id


@dataclass(frozen=True)
class Registry:
    repositories: dict[str, Repository]  # service name -> repository


def add_registry(t: Template, settings: Settings, encryption: Encryption) -> Registry:
    lifecycle = json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "description": f"keep the newest {settings.ecr_keep_images} images",
                    "selection": {
                        "tagStatus": "any",
                        "countType": "imageCountMoreThan",
                        "countNumber": settings.ecr_keep_images,
                    },
                    "action": {"type": "expire"},
                }
            ]
        },
        sort_keys=True,
    )
    repositories: dict[str, Repository] = {}
    for service in settings.services:
        repo = t.add_resource(
            retain(
                Repository(
                    logical_id(service.name, "repository"),
                    ImageTagMutability="IMMUTABLE",
                    ImageScanningConfiguration=ImageScanningConfiguration(ScanOnPush=True),
                    EncryptionConfiguration=EncryptionConfiguration(
                        EncryptionType="KMS", KmsKey=GetAtt(encryption.key, "Arn")
                    ),
                    LifecyclePolicy=LifecyclePolicy(LifecyclePolicyText=lifecycle),
                )
            )
        )
        add_output(
            t,
            logical_id(service.name, "repository-uri"),
            GetAtt(repo, "RepositoryUri"),
            f"ECR repository of the {service.name} service's images",
        )
        repositories[service.name] = repo
    return Registry(repositories=repositories)
