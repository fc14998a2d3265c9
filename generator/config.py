"""The generator's only input: one frozen dataclass of settings.

Values that differ per environment are CloudFormation parameters (see config/<env>.json);
these settings are the architecture's fixed shape.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    project: str = "todo"
    availability_zones: int = 3
