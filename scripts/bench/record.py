"""What a benchmark's figures were measured on: the commit of each checkout, the machine, the time.

Figures without these drift silently: the docs print them next to every table they show.
"""

from __future__ import annotations

import os
import platform
import subprocess
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Checkout:
    label: str
    commit: str  # HEAD, abbreviated; "+changes" when the working tree differed from it
    subject: str
    app_tree: str  # git's hash of app/ as measured: the same after a rebase that kept app/


@dataclass(frozen=True)
class Metadata:
    date: str
    cpu: str
    cores: int
    memory_gib: float
    python: str
    kernel: str
    load_average: float  # 1-minute, when the run started: other work on the machine
    checkouts: list[Checkout]

    def summary(self) -> str:
        measured = "; ".join(
            f"{c.label}: commit {c.commit} ({c.subject}), app/ tree {c.app_tree}"
            for c in self.checkouts
        )
        return (
            f"Measured {self.date} on {self.cpu}, {self.cores} cores, {self.memory_gib:.0f} GiB, "
            f"Python {self.python}, Linux {self.kernel}; load average {self.load_average:.2f} "
            f"at the start. {measured}."
        )


@dataclass(frozen=True)
class Run:
    metadata: Metadata
    figures: list[dict[str, Any]]
    memory: list[Any]  # dataclass rows

    def as_json(self) -> dict[str, Any]:
        return {
            "metadata": asdict(self.metadata),
            "figures": self.figures,
            "memory": [asdict(row) for row in self.memory],
        }


def _git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(root), *args], check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


def checkout(label: str, root: Path) -> Checkout:
    dirty = bool(_git(root, "status", "--porcelain", "--", "app", "templates", "scripts"))
    tree = _git(root, "rev-parse", "--short=12", "HEAD:app")
    if _git(root, "status", "--porcelain", "--", "app"):
        tree = "(uncommitted changes)"
    return Checkout(
        label=label,
        commit=_git(root, "rev-parse", "--short=10", "HEAD") + ("+changes" if dirty else ""),
        subject=_git(root, "log", "-1", "--format=%s"),
        app_tree=tree,
    )


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _memory_gib() -> float:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30


def run_metadata(roots: dict[str, Path]) -> Metadata:
    return Metadata(
        date=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        cpu=_cpu_model(),
        cores=os.cpu_count() or 0,
        memory_gib=_memory_gib(),
        python=platform.python_version(),
        kernel=platform.release(),
        load_average=os.getloadavg()[0],
        checkouts=[checkout(label, root) for label, root in roots.items()],
    )
