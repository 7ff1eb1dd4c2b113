"""The paths customers took through a task, from its distinct paths and their counts (pure).

SQL groups the runs by (task, variant, outcome, path); everything here works on those groups,
a few hundred rows at most, never on events. A run's expected path is the one of the variant it
saw (variants may change a task), so a pooled report judges each run by its own.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from insights.usability_results import Deviation, PathCount, TaskPaths, Transition

END = "(end)"
OUTCOME_NODES = {
    "direct": "✓ goal",
    "indirect": "✓ goal",
    "give_up": "✗ gave up",
    "timeout": "⏱ timed out",
    "unfinished": "… left",
}
MAX_STEPS = 8
"""The Sankey follows the first screens of each path; later steps are folded into one node."""


@dataclass(frozen=True)
class PathGroup:
    """``n`` runs of one task in one variant that showed ``path`` and ended with ``outcome``
    (``success`` already split into ``direct`` and ``indirect``)."""

    outcome: str
    path: tuple[str, ...]
    expected: tuple[str, ...]
    n: int


def classify(outcome: str, path: tuple[str, ...], expected: tuple[str, ...]) -> str:
    """``success`` becomes ``direct`` when the screens were exactly the expected path, else
    ``indirect``; the other outcomes stay."""
    if outcome != "success":
        return outcome
    return "direct" if path == expected else "indirect"


def first_deviation(path: tuple[str, ...], expected: tuple[str, ...]) -> tuple[str, str] | None:
    """Where ``path`` leaves ``expected``: (the last expected screen it was on, where it went
    instead, or ``END`` when it stopped early). None when it follows it (also all the way)."""
    for i, screen in enumerate(path):
        if i >= len(expected):
            return (expected[-1], screen) if expected else None
        if screen != expected[i]:
            return (expected[i - 1] if i else "(start)", screen)
    if len(path) < len(expected):
        return (path[-1] if path else "(start)", END)
    return None


def task_paths(groups: list[PathGroup], expected: tuple[str, ...], top_n: int = 5) -> TaskPaths:
    """Top paths, deviations from the expected path and step transitions of one task."""
    runs = sum(g.n for g in groups) or 1
    by_path: Counter[tuple[str, ...]] = Counter()
    wins: Counter[tuple[str, ...]] = Counter()
    deviations: Counter[tuple[str, str]] = Counter()
    transitions: Counter[tuple[int, str, str]] = Counter()
    on_expected = 0
    for g in groups:
        by_path[g.path] += g.n
        if g.outcome in ("direct", "indirect"):
            wins[g.path] += g.n
        if g.path == g.expected:
            on_expected += g.n
        dev = first_deviation(g.path, g.expected)
        if dev is not None and not (dev[1] == END and g.outcome in ("direct", "indirect")):
            deviations[dev] += g.n
        for key in _steps(g.path, g.outcome):
            transitions[key] += g.n
    top = tuple(
        PathCount(path, n, n / runs, wins[path])
        for path, n in sorted(by_path.items(), key=lambda kv: (-kv[1], kv[0]))[:top_n]
    )
    return TaskPaths(
        expected_path=expected,
        on_expected=on_expected,
        top=top,
        distinct=len(by_path),
        deviations=tuple(
            Deviation(screen, to, n, n / runs)
            for (screen, to), n in sorted(deviations.items(), key=lambda kv: (-kv[1], kv[0]))
        ),
        transitions=tuple(
            Transition(step, source, target, n)
            for (step, source, target), n in sorted(transitions.items())
        ),
    )


def _steps(path: tuple[str, ...], outcome: str) -> list[tuple[int, str, str]]:
    """(step, from, to) of one path, ending in its outcome node; long paths folded."""
    shown = list(path[:MAX_STEPS])
    if len(path) > MAX_STEPS:
        shown.append(f"+{len(path) - MAX_STEPS} more")
    out = [(i, a, b) for i, (a, b) in enumerate(zip(shown, shown[1:], strict=False))]
    if shown:
        out.append((len(shown) - 1, shown[-1], OUTCOME_NODES[outcome]))
    return out


def drop_offs(groups: list[PathGroup]) -> Counter[str]:
    """Runs without success per screen they ended on (the last screen shown)."""
    out: Counter[str] = Counter()
    for g in groups:
        if g.outcome not in ("direct", "indirect") and g.path:
            out[g.path[-1]] += g.n
    return out
