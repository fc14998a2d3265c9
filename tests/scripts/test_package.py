"""The core template's functions are packaged as `aws cloudformation package` would: zipped once,
reproducibly, uploaded under their digest, and the template points at the upload."""

from __future__ import annotations

import difflib
import hashlib
import importlib.util
import io
import shutil
import zipfile
from pathlib import Path

import pytest
from botocore.stub import ANY

from scripts.deploy.errors import ArtifactBucketRequired
from scripts.deploy.package import local_code_uris, package_functions, zip_directory
from scripts.deploy.params import TEMPLATES_DIR
from tests.scripts import fakes

ROOT = Path(__file__).resolve().parents[2]
HOOKS = ROOT / "hooks"
BUCKET = "todo-dev-ci-deployartifactbucket-0a1b2c3d4e5f"
STACK = "todo-dev-core"


def test_the_package_is_reproducible_and_holds_only_the_sources(tmp_path: Path) -> None:
    copy = tmp_path / "hooks"
    shutil.copytree(HOOKS, copy)
    (copy / "__pycache__").mkdir(exist_ok=True)
    (copy / "__pycache__" / "gate.cpython-311.pyc").write_bytes(b"\0")
    first, second = zip_directory(HOOKS), zip_directory(copy)
    assert first.data == second.data  # another checkout, another mtime: the same bytes
    names = zipfile.ZipFile(io.BytesIO(first.data)).namelist()
    assert names == ["__init__.py", "gate.py", "not_found.py"]
    (copy / "not_found.py").write_text((copy / "not_found.py").read_text() + "\n# changed\n")
    assert zip_directory(copy).digest != first.digest


def test_the_packaged_handler_answers_as_the_alb_expects(tmp_path: Path) -> None:
    zipfile.ZipFile(io.BytesIO(zip_directory(HOOKS).data)).extractall(tmp_path)
    spec = importlib.util.spec_from_file_location("packaged_not_found", tmp_path / "not_found.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    answer = module.handler({"path": "/x"}, None)
    assert answer["statusCode"] == 404
    assert answer["isBase64Encoded"] is False


def test_the_core_template_is_uploaded_once_and_points_at_its_package() -> None:
    body = (TEMPLATES_DIR / "core.yaml").read_text()
    assert local_code_uris(body) == ["../hooks"]
    package = zip_directory(HOOKS)
    key = f"{STACK}/code/{package.digest}.zip"
    assert package.digest == hashlib.sha256(package.data).hexdigest()
    s3, stub = fakes.stubbed("s3")
    stub.add_response(
        "put_object",
        {"ETag": '"0"'},
        {"Bucket": BUCKET, "Key": key, "Body": ANY, "ContentType": "application/zip"},
    )
    packaged = package_functions(body, TEMPLATES_DIR, STACK, s3, BUCKET)
    stub.assert_no_pending_responses()
    changed = [
        line
        for line in difflib.unified_diff(body.splitlines(), packaged.splitlines(), lineterm="")
        if line[:1] in "+-" and line[:3] not in ("+++", "---")
    ]
    # Two functions, one package: only their CodeUri lines change.
    assert sorted(line[0] for line in changed) == ["+", "+", "-", "-"]
    assert all(f"CodeUri: s3://{BUCKET}/{key}" in line for line in changed if line[0] == "+")
    assert local_code_uris(packaged) == []


def test_functions_need_the_artifact_bucket() -> None:
    body = (TEMPLATES_DIR / "core.yaml").read_text()
    with pytest.raises(ArtifactBucketRequired, match=r"\.\./hooks"):
        package_functions(body, TEMPLATES_DIR, STACK, None, None)


def test_a_template_without_functions_is_left_alone() -> None:
    body = (TEMPLATES_DIR / "website.yaml").read_text()
    s3, stub = fakes.stubbed("s3")  # no response queued: a call would fail
    assert package_functions(body, TEMPLATES_DIR, "todo-dev-website", s3, BUCKET) == body
    stub.assert_no_pending_responses()
