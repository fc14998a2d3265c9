"""The committed generator output and config as BASE (see edits.py for deliberate changes)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from generator import render_all
from scripts.diff.engine import MODULE
from scripts.diff.sources import Revision, working_tree

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def committed() -> Revision:
    """What BASE holds when nothing changed: the generator's templates and config/."""
    if shutil.which("node") is None:
        pytest.fail("Node.js is required for the template diff (apt-get install nodejs)")
    if not (MODULE / "package.json").exists():
        pytest.fail("the template differ is missing: run `make venv` (npm ci from tools/cfndiff/)")
    return working_tree(ROOT, render_all())
