"""The rendered templates, and sample parameter values for a dev and a prod environment."""

from __future__ import annotations

from typing import Any

import pytest

from generator import render_all
from scripts.cfn.template import parse_template

ACCOUNT = "111122223333"
REGION = "eu-west-1"  # not us-east-1, so that a global service's region shows up in the checks
PSEUDO = {
    "AWS::AccountId": ACCOUNT,
    "AWS::Region": REGION,
    "AWS::Partition": "aws",
    "AWS::StackName": "todo-dev-core",
    "AWS::URLSuffix": "amazonaws.com",
}


def core_parameters(environment: str = "dev", **given: str) -> dict[str, str]:
    """The core stack's values as a running environment has them (image tags rolled out)."""
    return {
        "Environment": environment,
        "MainServiceImageTag": "0123456789abcdef0123456789abcdef01234567",
        "FilesServiceImageTag": "0123456789abcdef0123456789abcdef01234567",
        "WebsiteOrigin": f"https://{environment}.todo.example.com",
        **given,
    }


def website_parameters(environment: str = "dev") -> dict[str, str]:
    return {
        "ApiUrl": f"https://api-{environment}.execute-api.{REGION}.amazonaws.com",
        "FilesBucketName": f"todo-{environment}-core-filesbucket-0a1b2c3d4e5f",
    }


@pytest.fixture(scope="session")
def rendered() -> dict[str, dict[str, Any]]:
    return {name.removesuffix(".yaml"): parse_template(text) for name, text in render_all().items()}


@pytest.fixture(scope="session")
def core(rendered: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return rendered["core"]


@pytest.fixture(scope="session")
def website(rendered: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return rendered["website"]


@pytest.fixture(scope="session")
def ci(rendered: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return rendered["ci"]
