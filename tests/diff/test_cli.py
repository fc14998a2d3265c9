"""`make diff` from the command line: exit codes and messages."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scripts.diff", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def test_a_base_that_is_not_a_commit_is_exit_2_with_the_fix() -> None:
    result = run("--base", "no-such-branch")
    assert result.returncode == 2
    assert "BASE 'no-such-branch' is not a commit" in result.stderr
    assert "make diff BASE=main" in result.stderr


def test_an_unknown_stack_is_exit_2_naming_the_known_ones() -> None:
    result = run("--base", "HEAD", "--stack", "nope")
    assert result.returncode == 2
    assert "no stack nope (known: ci, core, website)" in result.stderr


def test_markdown_for_one_stack_and_environment() -> None:
    result = run("--base", "HEAD", "--stack", "website", "--env", "dev", "--format", "markdown")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("## Template diff: HEAD (")
    assert "### core" not in result.stdout


def test_output_goes_to_the_named_file(tmp_path: Path) -> None:
    out = tmp_path / "diff.txt"
    result = run("--base", "HEAD", "--stack", "ci", "--env", "prod", "--output", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "Template diff: HEAD (" in out.read_text()
