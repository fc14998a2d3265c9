"""CPU time and memory of a process tree, read from Linux's /proc.

A benchmark that times only the wall clock on a shared 2-core machine measures the neighbours
too; the CPU time the kernel charged to a process tree is what the tree itself spent. proc(5):

- `/proc/<pid>/stat`: field 4 `ppid`, fields 14-17 `utime`, `stime`, `cutime`, `cstime` in clock
  ticks (`sysconf(_SC_CLK_TCK)`), summed over every thread of the process, live or exited;
  `cutime`/`cstime` hold the children it has waited for (a gunicorn worker that was replaced);
- `/proc/<pid>/smaps_rollup`: `Rss` and `Pss` (resident memory, and the share of it the process
  owns once pages shared with other processes, such as forked gunicorn workers, are split evenly).

The tick is 10 ms (USER_HZ = 100), so a figure needs a run long enough to spend several hundred
ticks; the benchmark's runs last seconds.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Stat:
    pid: int
    ppid: int
    name: str
    ticks: int  # utime + stime + cutime + cstime


def parse_stat(text: str) -> Stat:
    """One /proc/<pid>/stat line. The name (field 2) sits in parentheses and may itself hold
    spaces and parentheses, so the fields after it are counted from its last ')'."""
    head, _, tail = text.rpartition(")")
    pid_text, _, name = head.partition(" (")
    fields = tail.split()
    # fields[0] is field 3 (state): field N of proc(5) is fields[N - 3].
    ticks = sum(int(fields[n - 3]) for n in (14, 15, 16, 17))
    return Stat(pid=int(pid_text), ppid=int(fields[4 - 3]), name=name, ticks=ticks)


def read_stat(pid: int, proc: Path = PROC) -> Stat | None:
    """The process's stat, or None once it has gone."""
    try:
        return parse_stat((proc / str(pid) / "stat").read_text())
    except (FileNotFoundError, ProcessLookupError):
        return None


def _all_stats(proc: Path) -> Iterable[Stat]:
    for entry in proc.iterdir():
        if entry.name.isdigit():
            found = read_stat(int(entry.name), proc)
            if found is not None:
                yield found


def tree(root: int, proc: Path = PROC) -> list[Stat]:
    """The process and all its descendants (by parent pid), root first; empty once it has gone."""
    stats = list(_all_stats(proc))
    children: dict[int, list[Stat]] = {}
    for stat in stats:
        children.setdefault(stat.ppid, []).append(stat)
    top = next((stat for stat in stats if stat.pid == root), None)
    if top is None:
        return []
    found, pending = [top], [top]
    while pending:
        for child in children.get(pending.pop().pid, []):
            found.append(child)
            pending.append(child)
    return found


def cpu_seconds(root: int, proc: Path = PROC) -> float:
    """CPU time (user + system) the tree under `root` has spent so far, reaped children included."""
    return sum(stat.ticks for stat in tree(root, proc)) / CLOCK_TICKS


@dataclass(frozen=True)
class Memory:
    pid: int
    name: str
    rss: int  # bytes
    pss: int  # bytes


def memory(stat: Stat, proc: Path = PROC) -> Memory | None:
    """Rss and Pss of one process (smaps_rollup, Linux 4.14+), or None once it has gone."""
    try:
        text = (proc / str(stat.pid) / "smaps_rollup").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    values: dict[str, int] = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        parts = rest.split()
        if key in ("Rss", "Pss") and len(parts) == 2 and parts[1] == "kB":
            values[key] = int(parts[0]) * 1024
    return Memory(stat.pid, stat.name, values.get("Rss", 0), values.get("Pss", 0))
