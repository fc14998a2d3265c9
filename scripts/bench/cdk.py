"""What the AWS CDK needs to synthesize the core architecture, next to `python -m generator`.

scripts/bench/peer_cdk/app.py, the comparison peer, writes the core stack's architecture with
CDK L2 constructs; it runs in its own virtual environment (.venv-cdk, aws-cdk-lib needs Node.js
through jsii). Both sides are timed as a subprocess from a cold interpreter, which is what a
developer waits for: the CDK figure includes Python, jsii and Node.js start-up; ours includes
Python start-up and renders every stack (core and website), the CDK app only the core one.
Optional: without .venv-cdk it says how to create it and measures nothing.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from rich.table import Table

from scripts.bench import console as bench_console
from scripts.bench.generate import run_generator_cli, timed
from scripts.cfn.template import load_template

ROOT = Path(__file__).resolve().parents[2]
CDK_PYTHON = ROOT / ".venv-cdk" / "bin" / "python"
CDK_APP = ROOT / "scripts" / "bench" / "peer_cdk" / "app.py"
REQUIREMENTS = CDK_APP.parent / "requirements.txt"
# jsii prints a banner on every start when Node.js is past its end of life; it changes no figure.
CDK_ENV = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "18,20"}


def _synth(outdir: Path, validation: bool) -> dict[str, Any]:
    """Run the CDK app once; return the figures it prints (phase seconds, resource counts)."""
    done = subprocess.run(
        [str(CDK_PYTHON), str(CDK_APP), "--outdir", str(outdir)],
        cwd=ROOT,
        env={**CDK_ENV, "CDK_VALIDATION": str(validation).lower()},
        check=True,
        capture_output=True,
        text=True,
    )
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def _record(samples: list[dict[str, Any]], outdir: Path, validation: bool) -> None:
    samples.append(_synth(outdir, validation))


def _spread(samples: list[float]) -> tuple[float, float, float]:
    return statistics.median(samples), min(samples), max(samples)


def _row(table: Table, label: str, samples: list[float], resources: str = "") -> None:
    med, low, high = _spread(samples)
    table.add_row(label, f"{med:.3f}", f"{low:.3f}-{high:.3f}", resources)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.bench.cdk", description=__doc__)
    parser.add_argument("--runs", type=int, default=5, help="repetitions per figure (median)")
    args = parser.parse_args(argv or [])
    runs: int = args.runs

    console = bench_console()
    if not CDK_PYTHON.exists():
        rel = REQUIREMENTS.relative_to(ROOT)
        console.print(
            "skipped: the CDK comparison needs its own virtual environment (and Node.js). "
            f"Create it with:\n  python3 -m venv .venv-cdk && "
            f".venv-cdk/bin/pip install -r {rel}",
            markup=False,
        )
        return 0

    # CDK 2 runs its built-in CloudFormation validation inside app.synth() by default;
    # CDK_VALIDATION=false shows what synthesis alone costs.
    modes = {True: "default", False: "CDK_VALIDATION=false"}
    cdk_walls: dict[bool, list[float]] = {mode: [] for mode in modes}
    phases: dict[bool, list[dict[str, Any]]] = {mode: [] for mode in modes}
    ours: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        cdk_out, ours_out = Path(tmp) / "cdk.out", Path(tmp) / "templates"
        ours_out.mkdir()
        # One untimed run of each warms the OS file cache, bytecode and jsii's package cache.
        cdk_resources: int = _synth(cdk_out, validation=True)["resources"]
        run_generator_cli(ours_out)
        # Round-robin, so a busy moment of the machine weighs on every subject alike.
        for _ in range(runs):
            for mode, samples in phases.items():
                cdk_walls[mode].append(timed(functools.partial(_record, samples, cdk_out, mode)))
            ours.append(timed(functools.partial(run_generator_cli, ours_out)))
        ours_resources = len(load_template(ours_out / "core.yaml")["Resources"])

    table = Table(
        title=f"Core stack: AWS CDK synth vs python -m generator (median of {runs} runs)",
        caption="CDK: .venv-cdk/bin/python scripts/bench/peer_cdk/app.py, core stack only; "
        "ours renders every stack. Indented rows: in-process phases of the CDK run.",
    )
    for column in ("measure", "seconds", "min-max", "resources"):
        table.add_column(column, justify="left" if column == "measure" else "right")
    for mode, label in modes.items():
        _row(table, f"CDK wall ({label})", cdk_walls[mode], str(cdk_resources))
        for key, part in (
            ("import_s", "import aws_cdk (jsii, Node.js)"),
            ("build_s", "build the construct tree"),
            ("synth_s", "app.synth()"),
        ):
            _row(table, f"  {part}", [figures[key] for figures in phases[mode]])
    _row(table, "ours wall: python -m generator", ours, f"{ours_resources} (core)")
    console.print(table)
    for mode, label in modes.items():
        ratio = statistics.median(cdk_walls[mode]) / statistics.median(ours)
        console.print(f"CDK wall ({label}) / python -m generator wall: {ratio:.1f}x")
    console.print(f"resources in the core stack: CDK {cdk_resources}, ours {ours_resources}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
