"""The figures in docs/services.md come from a recorded benchmark run, stated with its commit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scripts.bench import docs


def test_the_documented_figures_are_the_recorded_run() -> None:
    record = json.loads(docs.RECORD.read_text(encoding="utf-8"))
    block = docs.current_block(docs.DOC.read_text(encoding="utf-8"))
    assert block == docs.render(record), "run `python -m scripts.bench.docs` (or make bench-docs)"


def test_the_record_states_commit_machine_and_repeats() -> None:
    record = json.loads(docs.RECORD.read_text(encoding="utf-8"))
    meta = record["metadata"]
    assert meta["cores"] >= 1
    assert meta["cpu"]
    for checkout in meta["checkouts"]:
        assert len(checkout["commit"]) >= 7
    operations = {f["operation"] for f in record["figures"]}
    assert {"create", "list 200 todos"} <= operations
    assert all(f["runs"] >= 3 for f in record["figures"])
    assert all(f["service_ms"] > 0 for f in record["figures"])


@pytest.fixture
def copies(tmp_path: Path) -> tuple[Path, Path]:
    record, doc = tmp_path / "services.json", tmp_path / "services.md"
    record.write_text(docs.RECORD.read_text(encoding="utf-8"), encoding="utf-8")
    doc.write_text(docs.DOC.read_text(encoding="utf-8"), encoding="utf-8")
    return record, doc


def test_a_hand_edited_figure_is_found_and_rewritten(
    copies: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    record, doc = copies
    data = json.loads(record.read_text(encoding="utf-8"))
    data["figures"][0]["service_ms"] += 1.0
    record.write_text(json.dumps(data), encoding="utf-8")
    args = ["--record", str(record), "--doc", str(doc)]
    assert docs.main([*args, "--check"]) == 1
    assert "make bench-docs" in capsys.readouterr().out
    assert docs.main(args) == 0
    assert f"{data['figures'][0]['service_ms']:.2f} (" in doc.read_text(encoding="utf-8")
    assert docs.main([*args, "--check"]) == 0


def test_a_document_without_the_markers_is_refused(
    copies: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    record, doc = copies
    doc.write_text("# The services\n\nno figures here\n", encoding="utf-8")
    assert docs.main(["--record", str(record), "--doc", str(doc)]) == 2
    assert "no generated block" in capsys.readouterr().err
    assert doc.read_text(encoding="utf-8") == "# The services\n\nno figures here\n"
