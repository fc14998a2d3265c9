"""Service throughput on the local emulator: list (first page) and create, at concurrency 1 and 16.

Starts the local stack (moto, the template's resources, both services under gunicorn with their
Dockerfile CMD) on 127.0.0.1, seeds one user
with 500 todos, then times a bounded number of requests per scenario and prints requests/s,
p50/p99 latency and the AWS calls each operation made (counted inside the service process).
The emulator, not AWS, answers: the figures compare changes to the services, not production.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import requests
from rich.table import Table

from scripts.bench import console as bench_console
from scripts.local import LocalStack, Log, Ports, User, sign_up

SEED_TODOS = 500
CONCURRENCY = (1, 16)


@dataclass(frozen=True)
class Result:
    operation: str
    concurrency: int
    requests: int
    seconds: float
    latencies: list[float]
    aws_calls: Counter[str]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: int) -> float:
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[p - 1] * 1000


Call = Callable[[requests.Session, int], requests.Response]


def _run(operation: str, call: Call, count: int, concurrency: int) -> Result:
    sessions = [requests.Session() for _ in range(concurrency)]
    calls: Counter[str] = Counter()

    def one(n: int) -> float:
        started = time.perf_counter()
        response = call(sessions[n % concurrency], n)
        elapsed = time.perf_counter() - started
        if response.status_code >= 400:
            raise RuntimeError(f"{operation}: {response.status_code} {response.text}")
        calls.update(json.loads(response.headers["X-Aws-Calls"]))
        return elapsed

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        latencies = list(pool.map(one, range(count)))
    seconds = time.perf_counter() - started
    for session in sessions:
        session.close()
    per_request = Counter({name: total // count for name, total in calls.items()})
    return Result(operation, concurrency, count, seconds, latencies, per_request)


def _operations(stack: LocalStack, user: User) -> dict[str, Call]:
    main = stack.service_url("main")
    headers = user.headers()
    return {
        "list (first page of 20)": lambda s, _: s.get(
            f"{main}/todos", params={"limit": 20}, headers=headers, timeout=30
        ),
        "create": lambda s, n: s.post(
            f"{main}/todos", json={"title": f"bench {n}"}, headers=headers, timeout=30
        ),
    }


def _seed(stack: LocalStack, user: User) -> None:
    main = stack.service_url("main")

    def create(n: int) -> None:
        due = f"2030-{n % 12 + 1:02d}-{n % 28 + 1:02d}" if n % 3 else None
        body = {"title": f"seed {n}", "dateDue": due}
        response = requests.post(f"{main}/todos", json=body, headers=user.headers(), timeout=30)
        response.raise_for_status()

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(create, range(SEED_TODOS)))


def _emulator_query_ms(stack: LocalStack, user: User) -> float:
    dynamodb = stack.client("dynamodb")
    table = stack.description.resources.table("TodosTable")
    (index,) = table.request["LocalSecondaryIndexes"]  # the list-order index
    samples = []
    for _ in range(50):
        started = time.perf_counter()
        dynamodb.query(
            TableName=table.name,
            IndexName=index["IndexName"],
            KeyConditionExpression="userID = :user",
            ExpressionAttributeValues={":user": {"S": user.sub}},
            ConsistentRead=True,
            Limit=21,
        )
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.bench.services", description=__doc__)
    parser.add_argument("--requests", type=int, default=300, help="requests per scenario")
    # Called as main() by `python -m scripts.bench`, whose own arguments are not ours.
    args = parser.parse_args(argv or [])
    console = bench_console()
    with LocalStack(
        Ports(site=0, api=0, emulator=0),
        log=Log(quiet=True),
        service_env={"EXPOSE_AWS_CALLS": "1", "LOG_LEVEL": "WARNING"},
    ) as stack:
        user = sign_up(stack, "bench@example.com")
        seed_started = time.perf_counter()
        _seed(stack, user)
        console.print(
            f"seeded {SEED_TODOS} todos in {time.perf_counter() - seed_started:.1f} s "
            "(gunicorn: 2 workers x 8 threads each service; moto on 127.0.0.1)"
        )
        results = [
            _run(name, call, args.requests, concurrency)
            for name, call in _operations(stack, user).items()
            for concurrency in CONCURRENCY
        ]
        baseline = _emulator_query_ms(stack, user)
    table = Table(title="services on the local emulator")
    for column in ("operation", "concurrency", "requests", "req/s", "p50 ms", "p99 ms"):
        table.add_column(column, justify="left" if column == "operation" else "right")
    table.add_column("AWS calls per request")
    for r in results:
        table.add_row(
            r.operation,
            str(r.concurrency),
            str(r.requests),
            f"{r.rate:.0f}",
            f"{r.percentile(50):.1f}",
            f"{r.percentile(99):.1f}",
            ", ".join(f"{name} {count}" for name, count in sorted(r.aws_calls.items())),
        )
    console.print(table)
    console.print(
        f"baseline: the same index Query sent straight to the emulator takes {baseline:.1f} ms "
        "(median of 50), so most list latency here is moto scanning the partition in Python."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
