"""The profiler's summary of py-spy's collapsed stacks: own time, time inside, and by package."""

from __future__ import annotations

from scripts.bench.profile import package, top_entries

PROCESS = 'process 7:"gunicorn main_service:create_app()"'
COLLAPSED = "\n".join(
    [
        f"{PROCESS};thread (0x1);handle (gunicorn/workers/gthread.py:514);"
        "list_todos (main_service/todos.py:72);_parse_shape (botocore/parsers.py:343) 6",
        f"{PROCESS};thread (0x1);handle (gunicorn/workers/gthread.py:514);"
        "list_todos (main_service/todos.py:72);dumps (json/__init__.py:183) 3",
        f"{PROCESS};thread (0x2);handle (gunicorn/workers/gthread.py:514) 1",
        "not a stack line",
    ]
)


def test_own_and_inside_counts() -> None:
    total, by_own, by_inside, by_package = top_entries(COLLAPSED, limit=10)
    assert total == 10
    own = {e.frame: e.own for e in by_own}
    assert own == {
        "_parse_shape (botocore/parsers.py:343)": 6,
        "dumps (json/__init__.py:183)": 3,
        "handle (gunicorn/workers/gthread.py:514)": 1,
    }
    inside = {e.frame: e.inside for e in by_inside}
    assert inside["handle (gunicorn/workers/gthread.py:514)"] == 10
    assert inside["list_todos (main_service/todos.py:72)"] == 9
    assert dict(by_package) == {"botocore": 6, "json": 3, "gunicorn": 1}


def test_package_of_a_frame() -> None:
    assert package("_emit (botocore/hooks.py:205)") == "botocore"
    assert package("Thread.run (threading.py:971)") == "threading"
    assert package("to_public (main_service/store.py:69)") == "main_service"
