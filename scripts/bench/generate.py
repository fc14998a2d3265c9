"""How long rendering the templates takes: in process (with and without imports) and as a CLI.

The in-process cold figure imports the generator (troposphere, awacs) in this process, so the
generator must not be imported before `main()` runs; the module therefore imports it lazily.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from rich.table import Table

from scripts.bench import console as bench_console

ROOT = Path(__file__).resolve().parents[2]
TARGET_SECONDS = 1.5  # `python -m generator` for every stack, wall clock


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _median(fn: Callable[[], object], runs: int) -> tuple[float, float, float]:
    samples = [timed(fn) for _ in range(runs)]
    return statistics.median(samples), min(samples), max(samples)


def run_generator_cli(out: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "generator", "--out", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.bench.generate", description=__doc__)
    parser.add_argument("--runs", type=int, default=7, help="repetitions per figure (median)")
    args = parser.parse_args(argv or [])
    runs: int = args.runs

    already = "generator" in sys.modules
    start = time.perf_counter()
    generator = importlib.import_module("generator")
    config = importlib.import_module("generator.config")
    imported = time.perf_counter() - start
    first_render = timed(generator.render_all)
    settings = config.Settings()

    table = Table(title=f"Template generation (median of {runs} runs; min-max)")
    table.add_column("measure")
    table.add_column("seconds", justify="right")
    table.add_column("min-max", justify="right")
    note = " (already imported)" if already else ""
    table.add_row(f"import generator (troposphere, awacs){note}", f"{imported:.3f}", "1 run")
    table.add_row(
        "import + first render (imports included)",
        f"{imported + first_render:.3f}",
        "1 run",
    )

    for name, build in generator.STACKS.items():
        render_one = functools.partial(lambda b: generator.render(b(settings)), build)
        med, low, high = _median(render_one, runs)
        table.add_row(
            f"in process, imports excluded: {name}", f"{med:.4f}", f"{low:.4f}-{high:.4f}"
        )
    med, low, high = _median(lambda: generator.render_all(settings), runs)
    table.add_row("in process, imports excluded: all stacks", f"{med:.4f}", f"{low:.4f}-{high:.4f}")

    with tempfile.TemporaryDirectory() as tmp:
        run_generator_cli(
            Path(tmp)
        )  # warm the OS file cache and bytecode, as a developer's machine is
        wall, low, high = _median(lambda: run_generator_cli(Path(tmp)), runs)
    table.add_row("wall: python -m generator (subprocess)", f"{wall:.3f}", f"{low:.3f}-{high:.3f}")

    console = bench_console()
    console.print(table)
    verdict = "met" if wall < TARGET_SECONDS else "MISSED"
    console.print(f"target: every stack under {TARGET_SECONDS} s wall -> {verdict} ({wall:.3f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
