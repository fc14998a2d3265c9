"""Where the main service spends its CPU: py-spy samples its workers while a scenario runs.

`python -m scripts.bench.profile [--scenario list|create] [--root DIR]` starts the local stack as
the services benchmark does (scripts/bench/services.py), attaches py-spy (a sampling profiler;
requirements-dev.txt) to the main service's gunicorn tree, runs the scenario, and prints the top
functions by their own time and by the time spent inside them (callees included), in per cent of
the samples and in CPU ms per operation. Only running threads are sampled (py-spy leaves out idle
ones), so the figures add up to the service's CPU time, not to the wall clock. `--out FILE`
keeps the collapsed stacks (one `frame;frame;... count` line each) for a flame graph.
Attaching needs ptrace rights over the workers: root, or `kernel.yama.ptrace_scope` 0.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import subprocess
import sys
import tempfile
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from rich.table import Table

from scripts.bench import console as bench_console
from scripts.bench import services
from scripts.local.stack import ROOT

RATE = 500  # samples per second and thread
SCENARIOS = {
    "list": services.Scenario(f"list {services.LIST_ALL} todos", 1, 60, services.list_all),
    # No cleanup: the deletes after the run would be sampled too.
    "create": services.Scenario("create", 1, 1000, services.create),
}


@dataclass(frozen=True)
class Entry:
    frame: str
    own: int  # samples with this frame on top
    inside: int  # samples with this frame anywhere in the stack


def package(frame: str) -> str:
    """Who a frame's code belongs to: the top-level package or module of its file, as py-spy
    names it (`botocore`, `json`, `common`, `main_service`, `threading`)."""
    where = frame.partition(" (")[2].rpartition(":")[0]
    return where.split("/", 1)[0].removesuffix(".py") or frame


def top_entries(
    collapsed: str, limit: int
) -> tuple[int, list[Entry], list[Entry], list[tuple[str, int]]]:
    """Total samples; the top frames by own samples and by samples inside them; own samples by
    package."""
    own: Counter[str] = Counter()
    inside: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        # py-spy puts the process and thread first; the rest are Python frames, caller first.
        frames = [f for f in stack.split(";") if not f.startswith(("process ", "thread "))]
        if not frames:
            continue
        total += count
        own[frames[-1]] += count
        packages[package(frames[-1])] += count
        for frame in set(frames):
            inside[frame] += count

    def entries(counter: Counter[str]) -> list[Entry]:
        return [Entry(f, own[f], inside[f]) for f, _ in counter.most_common(limit)]

    return total, entries(own), entries(inside), packages.most_common(limit)


def _table(title: str, entries: list[Entry], total: int, ms_per_sample: float) -> Table:
    out = Table(title=title)
    for column in ("function", "own %", "inside %", "own ms/op", "inside ms/op"):
        out.add_column(column, justify="left" if column == "function" else "right")
    for e in entries:
        out.add_row(
            e.frame,
            f"{100 * e.own / total:.1f}",
            f"{100 * e.inside / total:.1f}",
            f"{e.own * ms_per_sample:.2f}",
            f"{e.inside * ms_per_sample:.2f}",
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.bench.profile", description=__doc__)
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="list")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose app/ runs")
    parser.add_argument("--top", type=int, default=20, help="rows per table")
    parser.add_argument("--out", type=Path, help="keep the collapsed stacks here")
    args = parser.parse_args(argv)
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(py_spy).exists():
        parser.error("py-spy is not installed (make venv installs requirements-dev.txt)")
    scenario = SCENARIOS[args.scenario]
    console = bench_console()
    with ExitStack() as exits, tempfile.TemporaryDirectory() as tmp:
        subject = services.start_subject(
            "profiled", args.root.resolve(), services.SEED_TODOS, exits
        )
        out = args.out or Path(tmp) / "stacks.txt"
        recorder = subprocess.Popen(
            [
                py_spy,
                "record",
                "--pid",
                str(subject.stack.services["main"].child.pid),
                "--subprocesses",
                "--function",
                "--rate",
                str(RATE),
                "--format",
                "raw",
                "--output",
                str(out),
                "--nonblocking",
                "--gil",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        sample = services.run_scenario(subject, scenario)
        recorder.send_signal(signal.SIGINT)
        _, errors = recorder.communicate(timeout=60)
        if not out.exists():
            console.print(f"py-spy wrote nothing: {errors.strip()}", markup=False)
            return 1
        total, by_own, by_inside, by_package = top_entries(
            out.read_text(encoding="utf-8"), args.top
        )
    if total == 0:
        console.print("py-spy took no samples")
        return 1
    # py-spy finds the thread that holds the GIL, not CPU time: its shares are scaled to the CPU
    # time /proc measured for the run.
    cpu_ms = sample.service_cpu / scenario.count * 1000
    ms_per_sample = cpu_ms / total
    console.print(
        f"{scenario.name} x {scenario.count} at concurrency {scenario.concurrency}: "
        f"{cpu_ms:.2f} ms of service CPU per operation (/proc), {total} samples at {RATE}/s"
    )
    packages = Table(title="own time by package")
    for column in ("package", "own %", "own ms/op"):
        packages.add_column(column, justify="left" if column == "package" else "right")
    for name, count in by_package:
        packages.add_row(name, f"{100 * count / total:.1f}", f"{count * ms_per_sample:.2f}")
    console.print(packages)
    console.print(_table("by own time", by_own, total, ms_per_sample))
    console.print(_table("by time inside (callees included)", by_inside, total, ms_per_sample))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
