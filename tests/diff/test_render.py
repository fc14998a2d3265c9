"""One layout, drawn for the terminal and as Markdown for the pull-request summary."""

from __future__ import annotations

from rich.console import Console

from scripts.diff.analysis import DataChange, ParameterChange, Report, ResourceChange, StackDiff
from scripts.diff.render import FEEDS_SHOWN, Table, layout, to_console, to_markdown
from scripts.diff.replacement import PropertyChange
from scripts.diff.security import Statement

TABLE = ResourceChange(
    "modify",
    "TodosTable",
    "AWS::DynamoDB::Table",
    "Conditionally",
    (
        PropertyChange(
            "KeySchema[0].AttributeName", "Conditionally", "conditionalCreateOnlyProperties"
        ),
    ),
)
WIDE = Statement(
    "+", "identity", "Allow", "Role", "s3:*\nsqs:*", "*", "", ("WIDENED: action s3:*",)
)
REPORT = Report(
    base="main (abc)",
    head="working tree",
    stacks=(
        StackDiff(
            "core",
            ("dev", "prod"),
            resources=(TABLE,),
            statements=(WIDE,),
            data=(DataChange("TodosTable", "AWS::DynamoDB::Table", "may be replaced", "lost"),),
        ),
        StackDiff("website", ("dev", "prod")),
    ),
    parameters=(
        ParameterChange(
            "website",
            ("dev",),
            "ApiUrl",
            "<core.ApiUrl>",
            "a|b",
            "config/<env>.json",
            tuple(f"R{i} (Prop)" for i in range(FEEDS_SHOWN + 3)),
        ),
    ),
)


def test_the_layout_shows_a_summary_then_only_sections_with_changes() -> None:
    titles = [b.title for b in layout(REPORT) if isinstance(b, Table)]
    assert titles == [
        "Summary",
        "Resources",
        "Security: IAM identity policies",
        "Data: stateful resources and retention",
        "Parameter values (config/<env>.json and template defaults)",
    ]
    (summary,) = [b for b in layout(REPORT) if isinstance(b, Table) and b.title == "Summary"]
    assert [c.text for c in summary.rows[0]] == [
        "core",
        "dev, prod",
        "0",
        "0",
        "1",
        "1",
        "1",
        "1",
        "1",
    ]


def test_markdown_escapes_what_github_would_read_as_markup() -> None:
    text = to_markdown(layout(REPORT))
    assert text.startswith("## Template diff: main (abc) → working tree\n")
    assert "| + | Role | Allow | s3:\\*<br>sqs:\\* | \\* |  | **WIDENED: action s3:\\*** |" in text
    assert "| &lt;core.ApiUrl&gt; | a\\|b |" in text
    assert f"R{FEEDS_SHOWN - 1} (Prop)<br>and 3 more |" in text
    assert "| core | dev, prod | 0 | 0 | 1 | **1** |" in text


def test_an_empty_report_says_so() -> None:
    empty = Report("main (abc)", "working tree", (StackDiff("core", ("dev",)),), ())
    text = to_markdown(layout(empty))
    assert "No changes: every stack deploys the same resources" in text
    assert "|" not in text


def test_the_terminal_gets_the_same_tables() -> None:
    console = Console(record=True, width=200)
    to_console(layout(REPORT), console)
    text = console.export_text()
    for expected in (
        "Template diff: main (abc) → working tree",
        "Summary",
        "TodosTable",
        "KeySchema[0].AttributeName: replaces (Conditionally",
        "WIDENED: action s3:*",
    ):
        assert expected in text
