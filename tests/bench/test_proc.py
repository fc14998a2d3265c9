"""The benchmark's CPU and memory figures, read from /proc, against processes that do known work."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator

import pytest

from scripts.bench import proc

BURN_SECONDS = 0.4

BURN = textwrap.dedent(
    f"""
    import time
    end = time.process_time() + {BURN_SECONDS}
    while time.process_time() < end:
        pass
    print("burnt", flush=True)
    time.sleep(60)
    """
)
# A parent that starts a child which burns CPU, then either keeps it alive or reaps it.
PARENT = textwrap.dedent(
    """
    import subprocess, sys, time
    burn = {burn!r}
    child = subprocess.Popen([sys.executable, "-c", burn], stdout=subprocess.PIPE, text=True)
    child.stdout.readline()
    print(child.pid, flush=True)
    if sys.argv[1] == "reap":
        child.kill()
        child.wait()
        print("reaped", flush=True)
    time.sleep(60)
    """
).format(burn=BURN)


@pytest.fixture
def parent(request: pytest.FixtureRequest) -> Iterator[tuple[subprocess.Popen[str], int]]:
    process = subprocess.Popen(
        [sys.executable, "-c", PARENT, request.param], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    child_pid = int(process.stdout.readline())
    if request.param == "reap":
        assert process.stdout.readline().strip() == "reaped"
    yield process, child_pid
    process.kill()
    process.wait()
    process.stdout.close()
    if request.param == "keep":
        os.kill(child_pid, 9)


@pytest.mark.parametrize("parent", ["keep"], indirect=True)
def test_a_tree_holds_the_children_and_their_cpu(parent: tuple[subprocess.Popen[str], int]) -> None:
    process, child_pid = parent
    pids = [stat.pid for stat in proc.tree(process.pid)]
    assert pids[0] == process.pid
    assert child_pid in pids
    # The child burnt BURN_SECONDS of CPU; the tick is 10 ms.
    assert proc.cpu_seconds(process.pid) >= BURN_SECONDS - 0.05
    assert proc.cpu_seconds(child_pid) >= BURN_SECONDS - 0.05


@pytest.mark.parametrize("parent", ["reap"], indirect=True)
def test_a_reaped_child_still_counts(parent: tuple[subprocess.Popen[str], int]) -> None:
    """A gunicorn worker that was replaced has gone, but its CPU stays in the master's cutime."""
    process, _ = parent
    assert [stat.pid for stat in proc.tree(process.pid)] == [process.pid]
    assert proc.cpu_seconds(process.pid) >= BURN_SECONDS - 0.05


def test_a_gone_process_has_no_tree() -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    assert proc.tree(gone.pid) == []
    assert proc.cpu_seconds(gone.pid) == 0
    assert proc.read_stat(gone.pid) is None


def test_own_cpu_grows_with_work() -> None:
    before = proc.cpu_seconds(os.getpid())
    end = time.process_time() + 0.2
    while time.process_time() < end:
        pass
    assert proc.cpu_seconds(os.getpid()) - before >= 0.15


@pytest.mark.parametrize(
    ("line", "name"),
    [
        ("42 (gunicorn) S 7 42 42 0 -1 4194560 1 0 0 0 11 5 3 2 20 0 9 0", "gunicorn"),
        ("42 (a b) (c)) S 7 42 42 0 -1 4194560 1 0 0 0 11 5 3 2 20 0 9 0", "a b) (c)"),
    ],
)
def test_stat_fields_are_counted_after_the_last_parenthesis(line: str, name: str) -> None:
    stat = proc.parse_stat(line)
    assert (stat.pid, stat.ppid, stat.name, stat.ticks) == (42, 7, name, 11 + 5 + 3 + 2)


def test_memory_of_this_process() -> None:
    (me,) = (stat for stat in proc.tree(os.getpid()) if stat.pid == os.getpid())
    found = proc.memory(me)
    assert found is not None
    assert 10 * 2**20 < found.rss < 4 * 2**30
    assert 0 < found.pss <= found.rss
