"""templates/ must be exactly what the generator renders: reviewers read the YAML, CI checks it."""

from __future__ import annotations

import difflib
import subprocess
import sys
from pathlib import Path

import pytest

from generator import HEADER, STACKS, render_all

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"


@pytest.mark.parametrize("name", sorted(STACKS))
def test_committed_template_matches_generator(name: str) -> None:
    expected = render_all()[name]
    committed_path = TEMPLATES / name
    committed = committed_path.read_text() if committed_path.exists() else ""
    if committed != expected:
        diff = "".join(
            difflib.unified_diff(
                committed.splitlines(keepends=True),
                expected.splitlines(keepends=True),
                fromfile=f"templates/{name} (committed)",
                tofile=f"templates/{name} (generator)",
            )
        )
        pytest.fail(f"templates/{name} is out of date: run `make templates`.\n{diff}")


def test_rendering_is_deterministic() -> None:
    assert render_all() == render_all()


def test_every_template_says_it_is_generated() -> None:
    for name, text in render_all().items():
        assert text.startswith(HEADER), name
        assert "make templates" in text.splitlines()[0]


def test_python_m_generator_writes_the_same_bytes(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "generator", "--out", str(tmp_path)],
        check=True,
        cwd=ROOT,
        capture_output=True,
    )
    for name, text in render_all().items():
        assert (tmp_path / name).read_bytes() == text.encode()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(STACKS)
