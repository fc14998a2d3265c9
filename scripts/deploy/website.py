"""The `publish-website` verb: config.js from the core stack, upload, prune, invalidate.

Cache policy: HTML and config.js are `no-cache` (always revalidated, so a deploy shows at
once). Files whose names carry a content hash (`app.3f2a9c1e.js`) are immutable for a year.
Other assets keep their names across deploys, so an immutable year would pin browsers to the
old file while the new HTML expects the new one: they get a short max-age plus revalidation.
"""

from __future__ import annotations

import mimetypes
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from rich.console import Console
from rich.progress import Progress

from scripts.cfn.template import Resolver, UnsupportedTemplate, load_template
from scripts.cfn.website_config import PasswordRules, config_script, read_password_rules
from scripts.deploy.aws import Client
from scripts.deploy.errors import DeployFailed, MissingOutput
from scripts.deploy.params import ROOT

WEBSITE_DIR = ROOT / "website"
CORE_TEMPLATE = ROOT / "templates" / "core.yaml"
CONFIG_KEY = "config.js"
NO_CACHE = "no-cache"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "public, max-age=300, must-revalidate"
_FINGERPRINT = re.compile(r"\.[0-9a-f]{8,}\.[A-Za-z0-9]+$")
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".webmanifest": "application/manifest+json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".txt": "text/plain; charset=utf-8",
    ".map": "application/json",
}
REQUIRED_CORE_OUTPUTS = ("ApiUrl", "Region", "UserPoolId", "UserPoolClientId")
REQUIRED_WEBSITE_OUTPUTS = ("WebsiteBucketName", "DistributionId", "SiteUrl")


def content_type(key: str) -> str:
    suffix = PurePosixPath(key).suffix.lower()
    return _TYPES.get(suffix) or mimetypes.guess_type(key)[0] or "application/octet-stream"


def cache_control(key: str) -> str:
    if key == CONFIG_KEY or key.endswith((".html", ".htm")):
        return NO_CACHE
    if _FINGERPRINT.search(key):
        return IMMUTABLE
    return REVALIDATE


def password_rules(template: Path = CORE_TEMPLATE) -> PasswordRules:
    """The user pool's password rules, as templates/core.yaml states them."""
    try:
        return read_password_rules(Resolver(load_template(template), {}, {}))
    except UnsupportedTemplate as err:
        raise DeployFailed(f"{template}: {err}") from err


def config_js(core_outputs: dict[str, str], rules: PasswordRules) -> str:
    """The contract's `window.TODO_CONFIG = {...};` for AWS."""
    missing = [k for k in REQUIRED_CORE_OUTPUTS if k not in core_outputs]
    if missing:
        raise MissingOutput(f"the core stack has no output(s) {', '.join(missing)} for config.js")
    region = core_outputs["Region"]
    config = {
        "apiUrl": core_outputs["ApiUrl"],
        "region": region,
        "userPoolId": core_outputs["UserPoolId"],
        "userPoolClientId": core_outputs["UserPoolClientId"],
        "cognitoEndpoint": f"https://cognito-idp.{region}.amazonaws.com/",
        "local": False,
        "passwordPolicy": rules.as_config(),
    }
    return config_script(config)


@dataclass(frozen=True)
class Upload:
    key: str
    body: bytes
    content_type: str
    cache_control: str


def collect(site: Path, config: str) -> list[Upload]:
    """Every file under website/ (hidden files and the local config.js excluded) plus the
    generated config.js. HTML and config.js come last so they never point at missing assets."""
    uploads = [
        Upload(key, path.read_bytes(), content_type(key), cache_control(key))
        for path in sorted(site.rglob("*"))
        if path.is_file()
        and not any(part.startswith(".") for part in path.relative_to(site).parts)
        and (key := path.relative_to(site).as_posix()) != CONFIG_KEY
    ]
    uploads.append(Upload(CONFIG_KEY, config.encode(), content_type(CONFIG_KEY), NO_CACHE))
    return sorted(uploads, key=lambda u: (u.cache_control == NO_CACHE, u.key))


def existing_keys(s3: Client, bucket: str) -> set[str]:
    keys: set[str] = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys.update(o["Key"] for o in page.get("Contents", []))
    return keys


def delete_keys(s3: Client, bucket: str, keys: Iterable[str]) -> list[str]:
    """DeleteObjects in batches of 1000 (its limit)."""
    ordered = sorted(keys)
    for start in range(0, len(ordered), 1000):
        batch = ordered[start : start + 1000]
        result = s3.delete_objects(
            Bucket=bucket, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True}
        )
        errors = result.get("Errors") or []
        if errors:
            # DeleteObjects answers 200 and lists per-key failures (AccessDenied, ...).
            first = errors[0]
            raise DeployFailed(
                f"could not delete {len(errors)} stale object(s) from s3://{bucket}, e.g. "
                f"{first['Key']}: {first.get('Code', '')} {first.get('Message', '')}".rstrip()
                + "; the new files are uploaded, the CloudFront cache was not invalidated"
            )
    return ordered


def invalidate(cloudfront: Client, distribution_id: str, reference: str) -> str:
    result = cloudfront.create_invalidation(
        DistributionId=distribution_id,
        InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": reference},
    )
    return str(result["Invalidation"]["Id"])


@dataclass(frozen=True)
class Published:
    uploaded: list[str]
    deleted: list[str]
    invalidation_id: str
    site_url: str


def publish(
    s3: Client,
    cloudfront: Client,
    console: Console,
    *,
    core_outputs: dict[str, str],
    website_outputs: dict[str, str],
    site: Path = WEBSITE_DIR,
    template: Path = CORE_TEMPLATE,
    reference: str | None = None,
) -> Published:
    missing = [k for k in REQUIRED_WEBSITE_OUTPUTS if k not in website_outputs]
    if missing:
        raise MissingOutput(f"the website stack has no output(s) {', '.join(missing)}")
    bucket = website_outputs["WebsiteBucketName"]
    uploads = collect(site, config_js(core_outputs, password_rules(template)))
    before = existing_keys(s3, bucket)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task(f"Uploading to s3://{bucket}", total=len(uploads))
        for upload in uploads:
            s3.put_object(
                Bucket=bucket,
                Key=upload.key,
                Body=upload.body,
                ContentType=upload.content_type,
                CacheControl=upload.cache_control,
            )
            progress.advance(task)
    uploaded = [u.key for u in uploads]
    deleted = delete_keys(s3, bucket, before - set(uploaded))
    console.print(
        f"Uploaded {len(uploaded)} file(s) to s3://{bucket}, deleted {len(deleted)} stale "
        f"object(s){': ' + ', '.join(deleted) if deleted else ''}"
    )
    distribution = website_outputs["DistributionId"]
    invalidation = invalidate(cloudfront, distribution, reference or f"publish-{time.time_ns()}")
    console.print(f"CloudFront invalidation {invalidation} of /* on {distribution} started")
    console.print(f"[bold green]{website_outputs['SiteUrl']}[/bold green]")
    return Published(uploaded, deleted, invalidation, website_outputs["SiteUrl"])
