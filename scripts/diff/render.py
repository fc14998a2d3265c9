"""The report as blocks (headings, paragraphs, tables), then as rich output or as Markdown.

`layout` decides what is shown once; `to_console` and `to_markdown` only draw it, so the terminal
and the pull-request summary never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table as RichTable
from rich.text import Text

from scripts.diff.analysis import ParameterChange, Report, ResourceChange, StackDiff
from scripts.diff.security import NetworkRule, Statement


@dataclass(frozen=True)
class Cell:
    text: str
    style: str = ""


@dataclass(frozen=True)
class Heading:
    text: str
    level: int


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Table:
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]


Block = Heading | Paragraph | Table

_CHANGE_STYLE = {"+": "green", "-": "red", "add": "green", "remove": "red", "modify": "yellow"}
ALERT = "bold red"


def _change(change: str) -> Cell:
    return Cell(change, _CHANGE_STYLE.get(change, ""))


def _flags(flags: Iterable[str]) -> Cell:
    return Cell("\n".join(flags), ALERT)


def _envs(envs: Sequence[str]) -> str:
    return ", ".join(envs)


def _resource_row(r: ResourceChange) -> tuple[Cell, ...]:
    lines = []
    for c in r.changes:
        if c.mode:
            lines.append(f"{c.path}: replaces ({c.mode}, {c.why})")
        elif c.why:
            lines.append(f"{c.path} ({c.why})")
        else:
            lines.append(c.path)
    lines.extend(r.other)
    if r.note:
        lines.append(r.note)
    return (
        _change(r.action),
        Cell(r.logical_id),
        Cell(r.resource_type),
        Cell(r.replacement or "", ALERT if r.replacement else ""),
        Cell("\n".join(lines)),
    )


def _statement_rows(statements: Iterable[Statement]) -> tuple[tuple[Cell, ...], ...]:
    return tuple(
        (
            _change(s.change),
            Cell(s.principal),
            Cell(s.effect),
            Cell(s.actions),
            Cell(s.resources),
            Cell(s.condition),
            _flags(s.flags),
        )
        for s in statements
    )


def _rule_rows(rules: Iterable[NetworkRule], acl: bool) -> tuple[tuple[Cell, ...], ...]:
    return tuple(
        (
            _change(r.change),
            Cell(r.owner),
            Cell(r.direction),
            *((Cell(r.rule),) if acl else ()),
            Cell(r.protocol),
            Cell(r.peer),
            _flags(r.flags),
        )
        for r in rules
    )


_STATEMENT_COLUMNS = ("±", "Principal", "Effect", "Action", "Resource", "Condition", "Flags")


def _stack_blocks(diff: StackDiff) -> list[Block]:
    blocks: list[Block] = [Heading(f"{diff.stack} ({_envs(diff.envs)})", 2)]
    tables = [
        Table(
            "Resources",
            ("Action", "Logical ID", "Type", "Replacement", "Changed properties"),
            tuple(_resource_row(r) for r in diff.resources),
        ),
        Table(
            "Security: IAM identity policies",
            _STATEMENT_COLUMNS,
            _statement_rows(s for s in diff.statements if s.kind == "identity"),
        ),
        Table(
            "Security: resource policies (bucket, key, topic, trust)",
            _STATEMENT_COLUMNS,
            _statement_rows(s for s in diff.statements if s.kind != "identity"),
        ),
        Table(
            "Security: managed policies",
            ("±", "Identity", "Policy", "Flags"),
            tuple(
                (_change(p.change), Cell(p.identity), Cell(p.policy), _flags(p.flags))
                for p in diff.managed_policies
            ),
        ),
        Table(
            "Security: security-group rules",
            ("±", "Group", "Direction", "Protocol", "Peer", "Flags"),
            _rule_rows(diff.security_group_rules, acl=False),
        ),
        Table(
            "Security: network ACL entries",
            ("±", "ACL", "Direction", "Rule", "Protocol", "CIDR", "Flags"),
            _rule_rows(diff.nacl_rules, acl=True),
        ),
        Table(
            "Security: reachable from the internet",
            ("±", "Logical ID", "Type", "What"),
            tuple(
                (
                    _change(e.change),
                    Cell(e.logical_id),
                    Cell(e.resource_type),
                    Cell(e.what, ALERT if e.change == "+" else ""),
                )
                for e in diff.exposures
            ),
        ),
        Table(
            "Data: stateful resources and retention",
            ("Logical ID", "Type", "Change", "Consequence"),
            tuple(
                (
                    Cell(d.logical_id),
                    Cell(d.resource_type),
                    Cell(d.change),
                    Cell(d.consequence, ALERT if d.consequence else ""),
                )
                for d in diff.data
            ),
        ),
        Table(
            "Outputs",
            ("Action", "Output"),
            tuple((_change(o.action), Cell(o.name)) for o in diff.outputs),
        ),
    ]
    blocks.extend(t for t in tables if t.rows)
    return blocks


def _summary(report: Report) -> Table:
    rows = []
    for d in report.stacks:
        replaced = len(d.replaced)
        rows.append(
            (
                Cell(d.stack),
                Cell(_envs(d.envs)),
                Cell(str(d.count("add"))),
                Cell(str(d.count("remove"))),
                Cell(str(d.count("modify"))),
                Cell(str(replaced), ALERT if replaced else ""),
                Cell(str(len(d.security))),
                Cell(str(d.flagged), ALERT if d.flagged else ""),
                Cell(str(len(d.data)), ALERT if d.data else ""),
            )
        )
    columns = ("Stack", "Environments", "Added", "Removed", "Modified", "Replaced")
    return Table("Summary", (*columns, "Security", "Flagged", "Data"), tuple(rows))


FEEDS_SHOWN = 8


def _parameter_row(p: ParameterChange) -> tuple[Cell, ...]:
    feeds = list(p.feeds[:FEEDS_SHOWN])
    if len(p.feeds) > FEEDS_SHOWN:
        feeds.append(f"and {len(p.feeds) - FEEDS_SHOWN} more")
    return (
        Cell(p.stack),
        Cell(_envs(p.envs)),
        Cell(p.name),
        Cell("(none)" if p.old is None else p.old),
        Cell("(none)" if p.new is None else p.new),
        Cell(p.source),
        Cell("\n".join(feeds)),
    )


def layout(report: Report) -> list[Block]:
    blocks: list[Block] = [Heading(f"Template diff: {report.base} → {report.head}", 1)]
    blocks.extend(Paragraph(note) for note in report.notes)
    if report.empty:
        blocks.append(
            Paragraph("No changes: every stack deploys the same resources in every environment.")
        )
        return blocks
    blocks.append(_summary(report))
    for diff in report.stacks:
        if not diff.empty:
            blocks.extend(_stack_blocks(diff))
    if report.parameters:
        blocks.append(Heading("Parameters", 2))
        blocks.append(
            Table(
                "Parameter values (config/<env>.json and template defaults)",
                ("Stack", "Environments", "Parameter", "Base", "Head", "From", "Feeds"),
                tuple(_parameter_row(p) for p in report.parameters),
            )
        )
    return blocks


def to_console(blocks: Iterable[Block], console: Console) -> None:
    for block in blocks:
        if isinstance(block, Heading):
            if block.level == 1:
                console.rule(Text(block.text, style="bold"))
            else:
                console.print(Text(f"\n{block.text}", style="bold underline"))
        elif isinstance(block, Paragraph):
            console.print(block.text)
        else:
            table = RichTable(title=block.title, title_justify="left", show_lines=True)
            for column in block.columns:
                table.add_column(column, overflow="fold")
            for row in block.rows:
                table.add_row(*(Text(c.text, style=c.style) for c in row))
            console.print(table)


_MARKDOWN_ESCAPES = str.maketrans(
    {"\\": "\\\\", "|": "\\|", "*": "\\*", "_": "\\_", "`": "\\`", "<": "&lt;", ">": "&gt;"}
)


def _md(text: str) -> str:
    return text.translate(_MARKDOWN_ESCAPES).replace("\n", "<br>")


def _md_cell(cell: Cell) -> str:
    text = _md(cell.text)
    return f"**{text}**" if cell.style == ALERT and text else text


def to_markdown(blocks: Iterable[Block]) -> str:
    lines: list[str] = []
    for block in blocks:
        if isinstance(block, Heading):
            lines += [f"{'#' * (block.level + 1)} {_md(block.text)}", ""]
        elif isinstance(block, Paragraph):
            lines += [_md(block.text), ""]
        else:
            lines += [f"**{_md(block.title)}**", ""]
            lines.append("| " + " | ".join(map(_md, block.columns)) + " |")
            lines.append("|" + "---|" * len(block.columns))
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in block.rows]
            lines.append("")
    return "\n".join(lines)
