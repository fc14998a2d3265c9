"""Run the benchmarks: `python -m scripts.bench` runs all, `python -m scripts.bench generate` one.

Each benchmark is a module of this package with a `main() -> int | None`; list it in BENCHMARKS.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# Benchmark name -> what it measures. Adding a benchmark is one line here.
BENCHMARKS: dict[str, str] = {
    "generate": "rendering the CloudFormation templates (python -m generator)",
    "cdk": "what the AWS CDK needs to synthesize the core architecture (optional, .venv-cdk)",
    "services": "service CPU per request, throughput and AWS calls on the local emulator",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.bench", description=__doc__)
    parser.add_argument(
        "names",
        nargs="*",
        metavar="name",
        help=f"benchmarks to run (default: all): {', '.join(BENCHMARKS)}",
    )
    args = parser.parse_args(argv)
    unknown = [n for n in args.names if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    status = 0
    for name in args.names or BENCHMARKS:
        print(f"== {name}: {BENCHMARKS[name]}", flush=True)
        module = importlib.import_module(f"scripts.bench.{name}")
        status = max(status, module.main() or 0)
    return status


if __name__ == "__main__":
    sys.exit(main())
