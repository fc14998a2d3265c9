"""Service CPU and throughput on the local emulator: list and create, at concurrency 1 and 16.

Starts the local stack (moto, the template's resources, both services under gunicorn with their
Dockerfile CMD) on 127.0.0.1, seeds one user with 500 todos, then runs each scenario a bounded
number of times and prints, per operation and concurrency:

- the services' CPU time per operation and per item returned, read from their gunicorn process
  trees in /proc (scripts/bench/proc.py): what a task spends, whatever else the machine runs;
- the emulator's CPU per operation, apart (moto answers a Query by scanning the table in Python,
  which dominates the wall time here and says nothing about the services);
- requests/s and p50/p99 latency, and the AWS calls each operation made (counted in the service).

Every figure is the median of `--repeats` runs (3 by default), the scenarios taking turns, so a
busy moment of the machine weighs on all alike; the spread of the service CPU is shown too.
`--against DIR` runs a second checkout's app/ and templates/ (for example an older commit in a
`git worktree`) on a stack of its own, interleaved with this one, and prints the ratios.
The services log their request line at INFO as in production, and verify every JWT.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import requests
from rich.table import Table

from scripts.bench import console as bench_console
from scripts.bench import proc
from scripts.bench.record import Run, run_metadata
from scripts.local import LocalStack, Log, Ports, User, sign_up
from scripts.local.stack import ROOT

SEED_TODOS = 500
LIST_ALL = 200  # the "list 200 todos" row: as many pages as the largest page size needs
SERVICE_ENV = {"EXPOSE_AWS_CALLS": "1", "LOG_LEVEL": "INFO"}

# An operation: one user action, one or more HTTP requests; returns the items it received and
# the AWS calls the services made for it.
Operation = Callable[[requests.Session, int], tuple[int, Counter[str]]]


@dataclass(frozen=True)
class Scenario:
    name: str
    concurrency: int
    count: int  # operations per run
    build: Callable[[Subject], Operation]
    cleanup: bool = False  # delete what the run created (untimed), so every run sees 500 todos


@dataclass
class Subject:
    """One checkout's services on a stack of its own, with a user seeded with todos."""

    label: str
    root: Path
    stack: LocalStack
    user: User
    page_size: int  # the list route's largest `limit`, from the service's OpenAPI document

    @property
    def main(self) -> str:
        return self.stack.service_url("main")

    def service_cpu(self) -> float:
        return sum(proc.cpu_seconds(s.child.pid) for s in self.stack.services.values())

    def emulator_cpu(self) -> float:
        return proc.cpu_seconds(self.stack.emulator.child.pid)


@dataclass(frozen=True)
class Sample:
    """One run of one scenario on one subject."""

    seconds: float
    latencies: list[float]
    service_cpu: float
    emulator_cpu: float
    items: int
    aws_calls: dict[str, int]  # per operation


@dataclass(frozen=True)
class Figures:
    """A scenario's figures on one subject: medians over the runs."""

    subject: str
    page_size: int  # the subject's largest list page
    operation: str
    concurrency: int
    operations: int  # per run
    runs: int
    items_per_operation: float
    rate: float  # operations per second
    p50_ms: float
    p99_ms: float
    service_ms: float  # CPU per operation, every service process
    service_ms_low: float
    service_ms_high: float
    service_us_per_item: float | None
    emulator_ms: float
    aws_calls: dict[str, int]


def _checked(response: requests.Response, what: str) -> Any:
    if response.status_code >= 400:
        raise RuntimeError(f"{what}: {response.status_code} {response.text[:500]}")
    return response.json() if response.content else None


def _calls(response: requests.Response) -> Counter[str]:
    return Counter(json.loads(response.headers["X-Aws-Calls"]))


def list_first_page(subject: Subject) -> Operation:
    headers = subject.user.headers()

    def call(session: requests.Session, _: int) -> tuple[int, Counter[str]]:
        response = session.get(
            f"{subject.main}/todos", params={"limit": 20}, headers=headers, timeout=60
        )
        return len(_checked(response, "list")["items"]), _calls(response)

    return call


def list_all(subject: Subject) -> Operation:
    """200 todos through the pages, following nextCursor, as the website's list would."""
    headers = subject.user.headers()

    def call(session: requests.Session, _: int) -> tuple[int, Counter[str]]:
        items, calls, cursor = 0, Counter[str](), ""
        while items < LIST_ALL:
            params: dict[str, Any] = {"limit": min(subject.page_size, LIST_ALL - items)}
            if cursor:
                params["cursor"] = cursor
            response = session.get(
                f"{subject.main}/todos", params=params, headers=headers, timeout=60
            )
            page = _checked(response, "list")
            items += len(page["items"])
            calls += _calls(response)
            cursor = page["nextCursor"]
            if not cursor:
                break
        return items, calls

    return call


def create(subject: Subject) -> Operation:
    headers = subject.user.headers()

    def call(session: requests.Session, n: int) -> tuple[int, Counter[str]]:
        response = session.post(
            f"{subject.main}/todos",
            json={"title": f"bench {n}", "description": "from the benchmark"},
            headers=headers,
            timeout=60,
        )
        _checked(response, "create")
        return 0, _calls(response)

    return call


def health(subject: Subject) -> Operation:
    """No token, no AWS call: what gunicorn, Flask and the request log line cost by themselves."""

    def call(session: requests.Session, _: int) -> tuple[int, Counter[str]]:
        response = session.get(f"{subject.main}/health", timeout=60)
        _checked(response, "health")
        return 0, _calls(response)

    return call


def scenarios(count: int) -> list[Scenario]:
    """Listing is bound by the emulator (about 0.1 s of its CPU per page of 100), so its rows
    run fewer operations than creating."""
    lists = max(count // 5, 10)
    return [
        Scenario(f"list {LIST_ALL} todos", 1, lists * 2 // 3, list_all),
        Scenario("list, first page of 20", 1, lists, list_first_page),
        Scenario("list, first page of 20", 16, lists * 2, list_first_page),
        Scenario("create", 1, count, create, cleanup=True),
        Scenario("create", 16, count, create, cleanup=True),
        Scenario("health (no token, no AWS call)", 1, count, health),
    ]


def run_scenario(subject: Subject, scenario: Scenario) -> Sample:
    operation = scenario.build(subject)
    sessions = [requests.Session() for _ in range(scenario.concurrency)]

    def one(n: int) -> tuple[float, int, Counter[str]]:
        started = time.perf_counter()
        got, made = operation(sessions[n % scenario.concurrency], n)
        return time.perf_counter() - started, got, made

    created_before = _todo_ids(subject) if scenario.cleanup else set()
    # Warm every connection and thread first, outside the measurement.
    with ThreadPoolExecutor(max_workers=scenario.concurrency) as pool:
        list(pool.map(one, range(scenario.concurrency)))
    service_before, emulator_before = subject.service_cpu(), subject.emulator_cpu()
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=scenario.concurrency) as pool:
        outcomes = list(pool.map(one, range(scenario.count)))
    seconds = time.perf_counter() - started
    service_cpu = subject.service_cpu() - service_before
    emulator_cpu = subject.emulator_cpu() - emulator_before
    for session in sessions:
        session.close()
    if scenario.cleanup:
        _delete_all_but(subject, created_before)
    calls: Counter[str] = Counter()
    for _, _, made in outcomes:
        calls.update(made)
    return Sample(
        seconds=seconds,
        latencies=[elapsed for elapsed, _, _ in outcomes],
        service_cpu=service_cpu,
        emulator_cpu=emulator_cpu,
        items=sum(got for _, got, _ in outcomes),
        aws_calls={name: total // scenario.count for name, total in sorted(calls.items())},
    )


def _todo_ids(subject: Subject) -> set[str]:
    ids: set[str] = set()
    cursor = ""
    with requests.Session() as session:
        while True:
            params: dict[str, Any] = {"limit": subject.page_size}
            if cursor:
                params["cursor"] = cursor
            page = _checked(
                session.get(
                    f"{subject.main}/todos",
                    params=params,
                    headers=subject.user.headers(),
                    timeout=60,
                ),
                "list",
            )
            ids.update(item["todoId"] for item in page["items"])
            cursor = page["nextCursor"]
            if not cursor:
                return ids


def _delete_all_but(subject: Subject, keep: set[str]) -> None:
    """Delete the todos a run created, so the next run's Query scans the same table."""
    doomed = sorted(_todo_ids(subject) - keep)

    def delete(todo_id: str) -> None:
        _checked(
            requests.delete(
                f"{subject.main}/todos/{todo_id}", headers=subject.user.headers(), timeout=60
            ),
            "delete",
        )

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(delete, doomed))


def _page_size(main: str) -> int:
    document = _checked(requests.get(f"{main}/openapi.json", timeout=30), "openapi.json")
    parameters = document["paths"]["/todos"]["get"]["parameters"]
    (limit,) = (p for p in parameters if p["name"] == "limit")
    return int(limit["schema"]["maximum"])


def _seed(main: str, user: User, count: int) -> None:
    def one(n: int) -> None:
        due = f"2030-{n % 12 + 1:02d}-{n % 28 + 1:02d}" if n % 3 else None
        body = {"title": f"seed {n}", "dateDue": due}
        _checked(requests.post(f"{main}/todos", json=body, headers=user.headers(), timeout=60), "")

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(one, range(count)))


def start_subject(label: str, root: Path, seed: int, exits: ExitStack) -> Subject:
    stack = exits.enter_context(
        LocalStack(
            Ports(site=0, api=0, emulator=0),
            root=root,
            log=Log(quiet=True),
            service_env=SERVICE_ENV,
        )
    )
    user = sign_up(stack, f"bench-{label}@example.com")
    _seed(stack.service_url("main"), user, seed)
    return Subject(label, root, stack, user, _page_size(stack.service_url("main")))


def _list_all_note(page_size: int) -> str:
    return (
        f"list {LIST_ALL} todos: pages of the largest limit ({page_size}) following nextCursor; "
        "CPU of every gunicorn process of both services, from /proc"
    )


def _percentile(latencies: list[float], p: int) -> float:
    return statistics.quantiles(latencies, n=100, method="inclusive")[p - 1] * 1000


def figures(subject: str, page_size: int, scenario: Scenario, samples: list[Sample]) -> Figures:
    per_op = [s.service_cpu / scenario.count * 1000 for s in samples]
    items = statistics.median(s.items / scenario.count for s in samples)
    per_item = statistics.median(s.service_cpu / s.items * 1e6 for s in samples) if items else None
    return Figures(
        subject=subject,
        page_size=page_size,
        operation=scenario.name,
        concurrency=scenario.concurrency,
        operations=scenario.count,
        runs=len(samples),
        items_per_operation=items,
        rate=statistics.median(scenario.count / s.seconds for s in samples),
        p50_ms=statistics.median(_percentile(s.latencies, 50) for s in samples),
        p99_ms=statistics.median(_percentile(s.latencies, 99) for s in samples),
        service_ms=statistics.median(per_op),
        service_ms_low=min(per_op),
        service_ms_high=max(per_op),
        service_us_per_item=per_item,
        emulator_ms=statistics.median(s.emulator_cpu / scenario.count * 1000 for s in samples),
        aws_calls=samples[-1].aws_calls,
    )


@dataclass(frozen=True)
class MemoryRow:
    subject: str
    service: str
    process: str
    rss_mib: float
    pss_mib: float


def memory_rows(subject: Subject) -> Iterator[MemoryRow]:
    for name, service in subject.stack.services.items():
        for index, stat in enumerate(proc.tree(service.child.pid)):
            found = proc.memory(stat)
            if found is not None:
                role = "master" if index == 0 else f"worker {index}"
                yield MemoryRow(subject.label, name, role, found.rss / 2**20, found.pss / 2**20)


def table(results: list[Figures], title: str, page_size: int) -> Table:
    out = Table(title=title, caption=_list_all_note(page_size))
    for column in (
        "operation",
        "conc.",
        "ops x runs",
        "service CPU ms/op",
        "min-max",
        "µs/item",
        "emulator CPU ms/op",
        "req/s",
        "p50 ms",
        "p99 ms",
        "AWS calls per op",
    ):
        out.add_column(
            column, justify="left" if column.startswith(("operation", "AWS")) else "right"
        )
    for r in results:
        out.add_row(
            r.operation,
            str(r.concurrency),
            f"{r.operations}x{r.runs}",
            f"{r.service_ms:.2f}",
            f"{r.service_ms_low:.2f}-{r.service_ms_high:.2f}",
            f"{r.service_us_per_item:.1f}" if r.service_us_per_item is not None else "",
            f"{r.emulator_ms:.1f}",
            f"{r.rate:.0f}",
            f"{r.p50_ms:.1f}",
            f"{r.p99_ms:.1f}",
            ", ".join(f"{name} {count}" for name, count in r.aws_calls.items()),
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.bench.services", description=__doc__)
    parser.add_argument(
        "--requests", type=int, default=300, help="creates per run (lists run a fifth)"
    )
    parser.add_argument(
        "--seed", type=int, default=SEED_TODOS, help="todos the user has before the runs"
    )
    parser.add_argument("--repeats", type=int, default=3, help="runs per figure (median)")
    parser.add_argument(
        "--against",
        type=Path,
        metavar="DIR",
        help="another checkout whose app/ and templates/ run interleaved with this one's",
    )
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the figures here")
    # Called as main() by `python -m scripts.bench`, whose own arguments are not ours.
    args = parser.parse_args(argv or [])
    if args.repeats < 3:
        parser.error("--repeats: at least 3, so that every figure is a median")
    console = bench_console()
    roots = {"this": ROOT}
    if args.against is not None:
        if not (args.against / "app").is_dir():
            parser.error(f"--against {args.against}: no app/ there")
        roots["against"] = args.against.resolve()
    plan = scenarios(args.requests)
    samples: dict[tuple[str, int], list[Sample]] = {}
    with ExitStack() as exits:
        subjects = []
        for label, root in roots.items():
            started = time.perf_counter()
            subjects.append(start_subject(label, root, args.seed, exits))
            console.print(
                f"{label}: {root} started and seeded with {args.seed} todos in "
                f"{time.perf_counter() - started:.1f} s (largest page "
                f"{subjects[-1].page_size}; gunicorn 2 workers x 8 threads per service)"
            )
        metadata = run_metadata({s.label: s.root for s in subjects})
        for repeat in range(args.repeats):
            for index, scenario in enumerate(plan):
                # Alternate which subject goes first, so neither always follows the same work.
                order = subjects if (repeat + index) % 2 == 0 else subjects[::-1]
                for subject in order:
                    samples.setdefault((subject.label, index), []).append(
                        run_scenario(subject, scenario)
                    )
            console.print(f"run {repeat + 1} of {args.repeats} done", style="dim")
        memory = [row for subject in subjects for row in memory_rows(subject)]
    results = {
        s.label: [
            figures(s.label, s.page_size, sc, samples[(s.label, i)]) for i, sc in enumerate(plan)
        ]
        for s in subjects
    }
    for label, rows in results.items():
        title = f"services on the local emulator: {label} ({roots[label]})"
        console.print(table(rows, title, rows[0].page_size))
    if "against" in results:
        console.print(ratio_table(results["this"], results["against"]))
    console.print(memory_table(memory))
    console.print(metadata.summary())
    if args.json is not None:
        record = Run(metadata, [asdict(r) for rows in results.values() for r in rows], memory)
        args.json.write_text(json.dumps(record.as_json(), indent=2) + "\n", encoding="utf-8")
        console.print(f"wrote {args.json}")
    return 0


def ratio_table(this: list[Figures], against: list[Figures]) -> Table:
    out = Table(title="this / against (below 1: this spends less CPU; above 1: more req/s)")
    for column in ("operation", "conc.", "service CPU ms/op", "ratio", "req/s", "ratio"):
        out.add_column(column, justify="left" if column == "operation" else "right")
    for ours, theirs in zip(this, against, strict=True):
        out.add_row(
            ours.operation,
            str(ours.concurrency),
            f"{ours.service_ms:.2f} / {theirs.service_ms:.2f}",
            f"{ours.service_ms / theirs.service_ms:.2f}",
            f"{ours.rate:.0f} / {theirs.rate:.0f}",
            f"{ours.rate / theirs.rate:.2f}",
        )
    return out


def memory_table(rows: list[MemoryRow]) -> Table:
    out = Table(title="service memory at the end of the run (Pss splits pages shared by fork)")
    for column in ("subject", "service", "process", "RSS MiB", "PSS MiB"):
        out.add_column(column, justify="right" if "MiB" in column else "left")
    for row in rows:
        out.add_row(
            row.subject, row.service, row.process, f"{row.rss_mib:.1f}", f"{row.pss_mib:.1f}"
        )
    return out


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
