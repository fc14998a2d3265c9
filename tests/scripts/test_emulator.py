"""The real CLI against a moto server process.

moto's CloudFormation is thin: it records change sets and stacks but skips resource types it
does not implement (CloudFront among them), computes no property diffs (no Replacement, no
Details), emits only stack-level events, and does not refresh a stack's outputs after a change
set runs. What these tests show is the command's wiring end to end: parameters from a config
directory, CREATE of a new stack through REVIEW_IN_PROGRESS, execution, events, the repeat
run that finds nothing to do, S3 uploads of large templates, and website publishing to S3.
The data-loss guard, pagination and failure paths are shown by the Stubber tests.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from scripts.cfn.template import load_template
from scripts.deploy import website
from scripts.deploy.aws import AwsClients
from scripts.deploy.changeset import TEMPLATE_BODY_LIMIT
from scripts.deploy.params import template_parameters
from tests.scripts import fakes
from tests.scripts.conftest import ROOT

WEBSITE_VALUES = {
    "ApiUrl": "https://abc123.execute-api.us-east-1.amazonaws.com",
    "FilesBucketName": "todo-dev-files-123456789012",
    "OriginAccess": "OAC",
    "AliasDomain": "",
    "CertificateArn": "",
}


def config_dir(tmp_path: Path, template: Path) -> Path:
    """Literal values for whichever of the website parameters the template declares."""
    declared = template_parameters(template.read_text())
    directory = tmp_path / "config"
    directory.mkdir()
    values = {k: v for k, v in WEBSITE_VALUES.items() if k in declared}
    (directory / "dev.json").write_text(json.dumps({"core": {}, "website": values}))
    return directory


def deploy(
    env: dict[str, str], *args: str, auto_approve: bool = True
) -> subprocess.CompletedProcess[str]:
    """`python -m scripts.deploy deploy --stack website --env dev`, with no terminal to ask on."""
    approval = ["--auto-approve"] if auto_approve else []
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "scripts.deploy",
            "deploy",
            "--stack",
            "website",
            "--env",
            "dev",
            *approval,
            *args,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def test_deploy_creates_the_website_stack_and_a_second_run_is_clean(
    aws_env: dict[str, str], tmp_path: Path
) -> None:
    configs = config_dir(tmp_path, ROOT / "templates" / "website.yaml")
    first = deploy(aws_env, "--config-dir", str(configs))
    assert first.returncode == 0, first.stdout + first.stderr
    assert "(CREATE)" in first.stdout
    assert "CREATE_COMPLETE" in first.stdout
    cfn = boto3.client("cloudformation")
    stack = cfn.describe_stacks(StackName="todo-dev-website")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    declared = template_parameters((ROOT / "templates" / "website.yaml").read_text())
    sent = {p["ParameterKey"]: p["ParameterValue"] for p in stack.get("Parameters", [])}
    assert sent == {k: v for k, v in WEBSITE_VALUES.items() if k in declared}
    assert not cfn.list_change_sets(StackName="todo-dev-website")["Summaries"] or all(
        s["ExecutionStatus"] == "EXECUTE_COMPLETE"
        for s in cfn.list_change_sets(StackName="todo-dev-website")["Summaries"]
    )

    second = deploy(aws_env, "--config-dir", str(configs))
    assert second.returncode == 0, second.stdout + second.stderr
    assert "no changes" in second.stdout
    assert cfn.describe_stacks(StackName="todo-dev-website")["Stacks"][0]["StackStatus"] == (
        "CREATE_COMPLETE"
    )


def test_non_interactive_deploy_without_approval_is_refused(
    aws_env: dict[str, str], tmp_path: Path
) -> None:
    configs = config_dir(tmp_path, ROOT / "templates" / "website.yaml")
    done = deploy(aws_env, "--config-dir", str(configs), auto_approve=False)
    assert done.returncode == 4, done.stdout + done.stderr
    assert "--auto-approve" in done.stderr
    stack = boto3.client("cloudformation").describe_stacks(StackName="todo-dev-website")
    assert stack["Stacks"][0]["StackStatus"] == "REVIEW_IN_PROGRESS"  # never executed


def test_large_template_goes_through_the_artifact_bucket(
    aws_env: dict[str, str], tmp_path: Path
) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    source = (ROOT / "templates" / "website.yaml").read_text()
    padding = "".join(
        f"# padding line {i:06d} to pass the TemplateBody limit\n" for i in range(1200)
    )
    (templates / "website.yaml").write_text(source + padding)
    assert len((templates / "website.yaml").read_bytes()) > TEMPLATE_BODY_LIMIT
    configs = config_dir(tmp_path, templates / "website.yaml")

    missing = deploy(aws_env, "--config-dir", str(configs), "--templates-dir", str(templates))
    assert missing.returncode == 2
    assert "--artifact-bucket or DEPLOY_ARTIFACT_BUCKET" in missing.stderr.replace("\n", " ")

    boto3.client("s3").create_bucket(Bucket="todo-deploy-artifacts")
    env = {**aws_env, "DEPLOY_ARTIFACT_BUCKET": "todo-deploy-artifacts"}
    done = deploy(env, "--config-dir", str(configs), "--templates-dir", str(templates))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "via https://todo-deploy-artifacts.s3.us-east-1.amazonaws.com/todo-dev-website/" in (
        done.stdout.replace("\n", "")
    )
    keys = boto3.client("s3").list_objects_v2(Bucket="todo-deploy-artifacts")["Contents"]
    assert [k["Key"].split("/")[0] for k in keys] == ["todo-dev-website"]
    assert (
        boto3.client("cloudformation").describe_stacks(StackName="todo-dev-website")["Stacks"][0][
            "StackStatus"
        ]
        == "CREATE_COMPLETE"
    )


CORE_OUTPUTS = {
    "ApiUrl": "https://abc123.execute-api.us-east-1.amazonaws.com",
    "Region": "us-east-1",
    "UserPoolId": "us-east-1_AbCdEfGhI",
    "UserPoolClientId": "1h2j3k4l5m6n7o8p9q0r1s2t3u",
}
WEBSITE_OUTPUTS = {
    "WebsiteBucketName": "todo-dev-website-bucket",
    "DistributionId": "E2QWRUHAPOMQZL",
    "SiteUrl": "https://d111111abcdef8.cloudfront.net",
}


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "website"
    (root / "css").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><title>todo</title>")
    (root / "app.js").write_text("import './api.js';")
    (root / "app.3f2a9c1e.js").write_text("/* fingerprinted */")
    (root / "css" / "style.css").write_text("body{}")
    (root / "icon.svg").write_text("<svg/>")
    (root / "config.js").write_text('window.TODO_CONFIG = {"local": true};')  # the local one
    (root / ".DS_Store").write_bytes(b"\0")
    return root


def test_publish_website_to_s3(aws_env: dict[str, str], site: Path) -> None:
    clients = AwsClients()
    s3 = clients("s3")
    bucket = WEBSITE_OUTPUTS["WebsiteBucketName"]
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="old-app.js", Body=b"stale")
    s3.put_object(Bucket=bucket, Key="index.html", Body=b"previous")
    cloudfront, stub = fakes.stubbed("cloudfront")  # CloudFront distributions are not in moto
    stub.add_response(
        "create_invalidation",
        {
            "Location": "https://cloudfront.amazonaws.com/2020-05-31/distribution/E2QWRUHAPOMQZL/"
            "invalidation/I2J0I21PCUYOIK",
            "Invalidation": {
                "Id": "I2J0I21PCUYOIK",
                "Status": "InProgress",
                "CreateTime": fakes.T0,
                "InvalidationBatch": {
                    "Paths": {"Quantity": 1, "Items": ["/*"]},
                    "CallerReference": "publish-1",
                },
            },
        },
        {
            "DistributionId": "E2QWRUHAPOMQZL",
            "InvalidationBatch": {
                "Paths": {"Quantity": 1, "Items": ["/*"]},
                "CallerReference": "publish-1",
            },
        },
    )
    out, buffer = fakes.console()
    result = website.publish(
        s3,
        cloudfront,
        out,
        core_outputs=CORE_OUTPUTS,
        website_outputs=WEBSITE_OUTPUTS,
        site=site,
        reference="publish-1",
    )
    stub.assert_no_pending_responses()
    assert result.deleted == ["old-app.js"]
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert keys == {
        "index.html",
        "app.js",
        "app.3f2a9c1e.js",
        "css/style.css",
        "icon.svg",
        "config.js",
    }
    expected = {
        "index.html": ("text/html; charset=utf-8", "no-cache"),
        "config.js": ("text/javascript; charset=utf-8", "no-cache"),
        "app.js": ("text/javascript; charset=utf-8", website.REVALIDATE),
        "app.3f2a9c1e.js": ("text/javascript; charset=utf-8", website.IMMUTABLE),
        "css/style.css": ("text/css; charset=utf-8", website.REVALIDATE),
        "icon.svg": ("image/svg+xml", website.REVALIDATE),
    }
    for key, (content_type, cache) in expected.items():
        head = s3.head_object(Bucket=bucket, Key=key)
        assert (head["ContentType"], head["CacheControl"]) == (content_type, cache), key
    body = s3.get_object(Bucket=bucket, Key="config.js")["Body"].read().decode()
    assert body.startswith("window.TODO_CONFIG = {")
    assert body.rstrip().endswith("};")
    config = json.loads(body[len("window.TODO_CONFIG = ") :].rstrip().rstrip(";"))
    assert config == {
        "apiUrl": CORE_OUTPUTS["ApiUrl"],
        "region": "us-east-1",
        "userPoolId": CORE_OUTPUTS["UserPoolId"],
        "userPoolClientId": CORE_OUTPUTS["UserPoolClientId"],
        "cognitoEndpoint": "https://cognito-idp.us-east-1.amazonaws.com/",
        "local": False,
        "passwordPolicy": config["passwordPolicy"],
    }
    # the sign-up page's rules are the user pool's, as templates/core.yaml states them
    pool = load_template(website.CORE_TEMPLATE)["Resources"]["UserPool"]["Properties"]
    stated = pool["Policies"]["PasswordPolicy"]
    assert config["passwordPolicy"] == {
        "minimumLength": stated["MinimumLength"],
        "requireLowercase": stated["RequireLowercase"],
        "requireUppercase": stated["RequireUppercase"],
        "requireNumbers": stated["RequireNumbers"],
        "requireSymbols": stated["RequireSymbols"],
    }
    assert s3.get_object(Bucket=bucket, Key="index.html")["Body"].read() == (
        b"<!doctype html><title>todo</title>"
    )
    text = buffer.getvalue()
    assert "I2J0I21PCUYOIK" in text
    assert "https://d111111abcdef8.cloudfront.net" in text
