"""The services benchmark, run small: every row measures CPU, makes the calls it says, and the
list row follows the pages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scripts.bench import services

SEED = 30


@pytest.mark.slow
def test_a_small_run_measures_every_row(tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    argv = ["--seed", str(SEED), "--requests", "30", "--repeats", "3", "--json", str(out)]
    assert services.main(argv) == 0
    record = json.loads(out.read_text(encoding="utf-8"))
    rows = {(f["operation"], f["concurrency"]): f for f in record["figures"]}
    assert set(rows) == {
        ("list 200 todos", 1),
        ("list, first page of 20", 1),
        ("list, first page of 20", 16),
        ("create", 1),
        ("create", 16),
        ("health (no token, no AWS call)", 1),
    }
    for row in rows.values():
        assert row["runs"] == 3
        assert 0 <= row["service_ms_low"] <= row["service_ms"] <= row["service_ms_high"]
        # Everything but the health check verifies a token and calls AWS: several 10 ms ticks.
        assert row["service_ms"] > 0 or row["aws_calls"] == {}
        assert row["p50_ms"] <= row["p99_ms"]
    # Fewer todos than a page: the whole list is one page, one Query.
    assert rows[("list 200 todos", 1)]["items_per_operation"] == SEED
    assert rows[("list 200 todos", 1)]["aws_calls"] == {"DynamoDB.Query": 1}
    assert rows[("list, first page of 20", 16)]["items_per_operation"] == 20
    assert rows[("create", 16)]["aws_calls"] == {"DynamoDB.PutItem": 1}
    assert rows[("create", 1)]["service_us_per_item"] is None
    assert rows[("health (no token, no AWS call)", 1)]["aws_calls"] == {}
    assert rows[("create", 1)]["emulator_ms"] > 0
    processes = {(m["service"], m["process"]) for m in record["memory"]}
    assert {("main", "master"), ("main", "worker 1"), ("files", "worker 2")} <= processes


def test_fewer_than_three_repeats_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        services.main(["--repeats", "2"])
    assert exit_info.value.code == 2
    assert "at least 3" in capsys.readouterr().err
