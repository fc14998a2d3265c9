"""Every dependency is pinned; the service images pin the same versions as the dev environment."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENTS = sorted([*ROOT.glob("requirements*.txt"), ROOT / "app" / "requirements.txt"], key=str)
PIN = re.compile(r"^[A-Za-z0-9_.\-]+(\[[A-Za-z0-9_,\-]+\])?==[A-Za-z0-9_.+\-]+$")


def entries(path: Path) -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("-r ")]


def pins(path: Path) -> dict[str, str]:
    return {
        re.sub(r"\[.*\]", "", name).lower().replace("_", "-"): version
        for name, version in (line.split("==", 1) for line in entries(path))
    }


@pytest.mark.parametrize("path", REQUIREMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_requirement_is_pinned_exactly(path: Path) -> None:
    loose = [line for line in entries(path) if not PIN.match(line)]
    assert not loose, f"{path.relative_to(ROOT)}: not pinned with ==: {loose}"


def test_image_constraints_match_the_dev_environment() -> None:
    image, dev = pins(ROOT / "app" / "constraints.txt"), pins(ROOT / "constraints.txt")
    differ = {name: (v, dev.get(name)) for name, v in image.items() if dev.get(name) != v}
    assert not differ, f"app/constraints.txt differs from constraints.txt (image, dev): {differ}"


def test_runtime_requirements_are_in_the_image_constraints() -> None:
    image = pins(ROOT / "app" / "constraints.txt")
    runtime = pins(ROOT / "app" / "requirements.txt")
    assert runtime.items() <= image.items()
