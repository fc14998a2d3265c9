"""Compare two revisions: every stack in every environment, in one run of the differ."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from scripts.diff import engine
from scripts.diff.analysis import Report, StackDiff, diff_stack, merge, parameter_changes
from scripts.diff.errors import DiffError
from scripts.diff.prepare import Prepared, prepare
from scripts.diff.replacement import same
from scripts.diff.sources import Revision


def _side(revision: Revision, stack: str, env: str) -> Prepared | None:
    text = revision.templates.get(stack)
    if text is None:
        return None
    return prepare(text, stack, env, revision.configs.get(env))


def build_report(
    base: Revision,
    head: Revision,
    stacks: Sequence[str] = (),
    envs: Sequence[str] = (),
    notes: Sequence[str] = (),
    progress: Callable[[str], None] = lambda _: None,
) -> Report:
    """The diff of `head` against `base` for these stacks and environments (default: all)."""
    known_stacks = sorted(base.templates.keys() | head.templates.keys())
    known_envs = sorted(base.configs.keys() | head.configs.keys())
    for asked, known, what in ((stacks, known_stacks, "stack"), (envs, known_envs, "environment")):
        unknown = sorted(set(asked) - set(known))
        if unknown:
            raise DiffError(f"no {what} {', '.join(unknown)} (known: {', '.join(known)})")
    stacks = stacks or known_stacks
    envs = envs or known_envs
    sides: dict[tuple[str, str], tuple[Prepared | None, Prepared | None]] = {}
    for stack in stacks:
        for env in envs:
            progress(f"preparing {stack} for {env}")
            sides[stack, env] = (_side(base, stack, env), _side(head, stack, env))
    pairs = [
        engine.Pair(f"{stack}/{env}", old.compared if old else {}, new.compared if new else {})
        for (stack, env), (old, new) in sides.items()
        if not same(old and old.compared, new and new.compared)
    ]
    progress(f"comparing {len(pairs)} changed stack/environment pair(s)")
    found = engine.compare(pairs)
    diffs, parameters = [], []
    for (stack, env), (old, new) in sides.items():
        result = found.get(f"{stack}/{env}")
        diff = diff_stack(stack, env, old, new, result) if result else StackDiff(stack, (env,))
        diffs.append(diff)
        parameters.extend(parameter_changes(stack, env, old, new, diff))
    return Report(
        base=base.label,
        head=head.label,
        stacks=tuple(merge(diffs)),
        parameters=tuple(merge(parameters)),
        notes=tuple(notes),
    )
