"""Which environments exist, and in which order a release moves through them."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = ROOT / "config"
PROMOTION = "promotion.json"


class PipelineError(Exception):
    """config/ and config/promotion.json disagree, or either is malformed."""


def environments(config_dir: Path = CONFIG_DIR) -> list[str]:
    """The environments in promotion order: each config/<env>.json, ordered by promotion.json.

    Refuses an environment file that the order leaves out, and an order entry with no file."""
    path = config_dir / PROMOTION
    try:
        order = json.loads(path.read_text())["order"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise PipelineError(f'{path} must be {{"order": ["dev", ..., "prod"]}}: {err}') from err
    if not isinstance(order, list) or not all(isinstance(e, str) for e in order) or not order:
        raise PipelineError(f"{path}: order must be a non-empty list of environment names")
    if len(set(order)) != len(order):
        raise PipelineError(f"{path}: an environment appears twice in {order}")
    files = {p.stem for p in config_dir.glob("*.json") if p.name != PROMOTION}
    missing = [e for e in order if e not in files]
    unordered = sorted(files - set(order))
    if missing:
        raise PipelineError(f"{path} orders {', '.join(missing)}, which has no config/<env>.json")
    if unordered:
        raise PipelineError(
            f"config/{unordered[0]}.json exists but {path} does not place it in the order "
            f"{order}: add it where releases should reach it"
        )
    return list(order)


def previous(environment: str, config_dir: Path = CONFIG_DIR) -> str | None:
    """The environment a release reaches just before `environment` (None for the first)."""
    order = environments(config_dir)
    if environment not in order:
        raise PipelineError(f"no environment {environment} in {order}")
    index = order.index(environment)
    return order[index - 1] if index else None
