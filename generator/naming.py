"""Logical IDs, made in one place: PascalCase nouns prefixed by their owner."""

from __future__ import annotations

import re


def logical_id(*parts: str) -> str:
    """`logical_id("main", "task-role")` -> "MainTaskRole"."""
    words = (w for part in parts for w in re.split(r"[^A-Za-z0-9]+", part) if w)
    return "".join(w[:1].upper() + w[1:] for w in words)


def workload_boundary_name(project: str) -> str:
    """The permissions boundary policy that the CI stack creates and every core role carries
    (`${Environment}` is filled by both stacks' `Environment` parameter)."""
    return f"{project}-${{Environment}}-workload-boundary"
