"""Package the core template's SAM functions: zip each local CodeUri, upload it, point at it.

What `aws cloudformation package` does for `AWS::Serverless::Function`, for the one layout this
project has (hooks/, standard library only, no build step): the directory's Python files go into
a zip that is byte-identical for identical files (sorted entries, fixed timestamps and modes), so
its SHA-256 names it in the artifact bucket (`<stack>/code/<sha256>.zip`). An unchanged
directory therefore leaves the template unchanged and CloudFormation does not touch the
function; a changed one gives a new key, and CloudFormation updates the function's code. The
template text is changed only where a `CodeUri:` names a local directory.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from scripts.cfn.sam import FUNCTION, local_code
from scripts.cfn.template import parse_template
from scripts.deploy.aws import Client
from scripts.deploy.errors import ArtifactBucketRequired, ConfigError

# 1980-01-01, the earliest date a zip entry can hold: no build time leaks into the digest.
FIXED_TIME = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Package:
    directory: Path
    data: bytes

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def zip_directory(directory: Path) -> Package:
    """The directory's Python sources as a reproducible zip (caches and tests left out)."""
    if not directory.is_dir():
        raise ConfigError(f"a function's CodeUri names {directory}, which is not a directory")
    files = sorted(
        p for p in directory.rglob("*.py") if "__pycache__" not in p.parts and p.is_file()
    )
    if not files:
        raise ConfigError(f"{directory} holds no Python file to package")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            info = zipfile.ZipInfo(path.relative_to(directory).as_posix(), FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return Package(directory, buffer.getvalue())


def local_code_uris(body: str) -> list[str]:
    """The local directories the template's SAM functions name, in order, once each."""
    template = parse_template(body)
    found: list[str] = []
    for resource in (template.get("Resources") or {}).values():
        if resource.get("Type") == FUNCTION:
            uri = local_code(resource)
            if uri is not None and uri not in found:
                found.append(uri)
    return found


def package_functions(
    body: str, template_dir: Path, stack: str, s3: Client | None, bucket: str | None
) -> str:
    """The template with every local CodeUri uploaded and replaced by its s3:// location."""
    uris = local_code_uris(body)
    if not uris:
        return body
    if not bucket or s3 is None:
        raise ArtifactBucketRequired(
            f"the template for {stack} has Lambda functions whose code ({', '.join(uris)}) must "
            "be uploaded to S3: give a deploy-artifacts bucket with --artifact-bucket or "
            "DEPLOY_ARTIFACT_BUCKET"
        )
    for uri in uris:
        package = zip_directory((template_dir / uri).resolve())
        key = f"{stack}/code/{package.digest}.zip"
        s3.put_object(Bucket=bucket, Key=key, Body=package.data, ContentType="application/zip")
        pattern = re.compile(rf"^(\s*CodeUri:\s*){re.escape(uri)}[ \t]*$", re.MULTILINE)
        # Bucket names and keys hold no backslash: the location is a literal replacement.
        body, replaced = pattern.subn(rf"\g<1>s3://{bucket}/{key}", body)
        if not replaced:
            raise ConfigError(f"CodeUri {uri} is not written on a line of its own in {stack}")
    return body
