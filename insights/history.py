"""Iteration history: v1 → v2 → v3 of one prototype side by side.

``iteration_history(lab, prototype_id)`` reads one usability report per version
(``insights.usability``) and puts, per task and per screen, each version's numbers next to the
spec diff between consecutive versions (``prototypes.diff.spec_diff``, pure: which screens and
elements were added, removed or changed) and the change in their metrics (the version minus the
one before).
A version without customer sessions keeps its diff and has no numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from errors import InvalidInputError
from insights.usability import UsabilityQuery, usability_report
from prototypes.diff import ScreenDiff, spec_diff
from prototypes.library import load_lab_prototype

if TYPE_CHECKING:
    from insights.usability_results import UsabilityReport
    from lab import Lab

TASK_METRICS = ("runs", "success", "usability", "misclick_rate", "median_s")
SCREEN_METRICS = ("sessions", "drop_off_rate", "misclick_rate", "drop_offs", "misclicks")


@dataclass(frozen=True)
class HistoryRow:
    """One task or screen over the versions: its numbers per version (absent: no data), the
    change in each number from the version before, and (screens) the spec change that made it.
    Keys are version numbers."""

    name: str
    numbers: dict[int, dict[str, float | None]]
    deltas: dict[int, dict[str, float | None]] = field(default_factory=dict)
    changes: dict[int, ScreenDiff] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "numbers": {str(v): n for v, n in self.numbers.items()},
            "deltas": {str(v): n for v, n in self.deltas.items()},
            "changes": {str(v): c.to_dict() for v, c in self.changes.items()},
        }

    @classmethod
    def from_dict(cls, d: dict) -> HistoryRow:
        return cls(
            d["name"],
            {int(v): n for v, n in d["numbers"].items()},
            {int(v): n for v, n in d["deltas"].items()},
            {int(v): ScreenDiff.from_dict(c) for v, c in d["changes"].items()},
        )


@dataclass(frozen=True)
class IterationHistory:
    """Every version of one prototype side by side (``storelab report history --json``).

    ``diffs[v]``: what changed from the version before ``v`` to ``v``; ``sessions[v]`` and
    ``scores[v]``: the version's customer sessions and usability score (0 / None: no data).
    """

    prototype: str
    versions: tuple[int, ...]
    sessions: dict[int, int]
    scores: dict[int, float | None]
    diffs: dict[int, tuple[ScreenDiff, ...]]
    tasks: tuple[HistoryRow, ...]
    screens: tuple[HistoryRow, ...]

    def screen(self, name: str) -> HistoryRow:
        """The row of screen ``name`` (``KeyError`` when no version has it)."""
        return next(r for r in self.screens if r.name == name)

    def to_dict(self) -> dict:
        return {
            "prototype": self.prototype,
            "versions": list(self.versions),
            "sessions": {str(v): n for v, n in self.sessions.items()},
            "scores": {str(v): s for v, s in self.scores.items()},
            "diffs": {str(v): [d.to_dict() for d in ds] for v, ds in self.diffs.items()},
            "tasks": [r.to_dict() for r in self.tasks],
            "screens": [r.to_dict() for r in self.screens],
        }

    @classmethod
    def from_dict(cls, d: dict) -> IterationHistory:
        return cls(
            d["prototype"],
            tuple(d["versions"]),
            {int(v): n for v, n in d["sessions"].items()},
            {int(v): s for v, s in d["scores"].items()},
            {int(v): tuple(ScreenDiff.from_dict(x) for x in ds) for v, ds in d["diffs"].items()},
            tuple(HistoryRow.from_dict(r) for r in d["tasks"]),
            tuple(HistoryRow.from_dict(r) for r in d["screens"]),
        )


def iteration_history(lab: Lab, prototype_id: str) -> IterationHistory:
    """Every version of ``prototype_id`` with its usability numbers and the spec diffs
    (``UnknownPrototypeError`` for a prototype the lab lacks)."""
    proto = load_lab_prototype(lab, prototype_id)
    versions = tuple(proto.version_numbers)
    views = {v: proto.resolve(v, None) for v in versions}
    reports: dict[int, UsabilityReport] = {}
    for v in versions:
        try:
            reports[v] = usability_report(lab, prototype_id, UsabilityQuery(version=v))
        except InvalidInputError:
            continue  # no customer session of this version yet: its diff still shows
    diffs = {b: spec_diff(views[a], views[b]) for a, b in zip(versions, versions[1:], strict=False)}
    task_numbers = {v: _task_numbers(r) for v, r in reports.items()}
    screen_numbers = {v: _screen_numbers(r) for v, r in reports.items()}
    task_names = _names([t.id for t in views[v].tasks] for v in versions)
    screen_names = _names(list(views[v].screens) for v in versions)
    return IterationHistory(
        prototype=prototype_id,
        versions=versions,
        sessions={v: reports[v].sessions if v in reports else 0 for v in versions},
        scores={v: reports[v].usability.score if v in reports else None for v in versions},
        diffs=diffs,
        tasks=tuple(_row(n, versions, task_numbers, {}) for n in task_names),
        screens=tuple(_row(n, versions, screen_numbers, diffs) for n in screen_names),
    )


def _names(lists) -> list[str]:
    seen: dict[str, None] = {}
    for names in lists:
        seen.update(dict.fromkeys(names))
    return list(seen)


def _row(name: str, versions, numbers: dict, diffs: dict) -> HistoryRow:
    mine = {v: numbers[v][name] for v in versions if v in numbers and name in numbers[v]}
    deltas = {}
    for a, b in zip(versions, versions[1:], strict=False):
        if a in mine and b in mine:
            deltas[b] = {k: _minus(mine[b][k], mine[a][k]) for k in mine[b]}
    changes = {
        v: d for v, ds in diffs.items() for d in ds if d.screen == name
    }  # the change that made version v
    return HistoryRow(name, mine, deltas, changes)


def _minus(b: Any, a: Any) -> float | None:
    return None if a is None or b is None else b - a


def _task_numbers(report: UsabilityReport) -> dict[str, dict[str, float | None]]:
    return {
        t.task: {
            "runs": t.runs,
            "success": t.outcomes["success"].rate if "success" in t.outcomes else None,
            "usability": t.usability.score,
            "misclick_rate": t.misclick_rate,
            "median_s": t.time.quantiles.get("p50") if t.time.quantiles else None,
        }
        for t in report.tasks
    }


def _screen_numbers(report: UsabilityReport) -> dict[str, dict[str, float | None]]:
    acc: dict[str, dict[str, int]] = {}
    for task in report.tasks:
        for s in task.screens:
            a = acc.setdefault(s.screen, dict.fromkeys(("sessions", "drop_offs", "mc", "taps"), 0))
            a["sessions"] += s.sessions
            a["drop_offs"] += s.drop_offs
            a["mc"] += s.misclicks
            a["taps"] += s.taps
    return {
        screen: {
            "sessions": a["sessions"],
            "drop_off_rate": a["drop_offs"] / a["sessions"] if a["sessions"] else None,
            "misclick_rate": a["mc"] / (a["mc"] + a["taps"]) if a["mc"] + a["taps"] else None,
            "drop_offs": a["drop_offs"],
            "misclicks": a["mc"],
        }
        for screen, a in acc.items()
    }
