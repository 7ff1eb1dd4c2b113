"""Typed results of a usability report (``storelab report usability --json``).

Frozen dataclasses in the style of ``experiments.results``: ``to_dict()`` is exactly their part
of the JSON (docs/interfaces.md), ``from_dict`` reads it back. Rates are shares 0..1; times are
seconds; a number that cannot be computed is ``None``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

OUTCOMES = ("direct", "indirect", "give_up", "timeout", "unfinished")
"""How a task run ended: a goal along exactly the expected path (direct) or another way
(indirect); "I give up"; the time limit or the idle timeout; no end recorded (the session
stopped)."""


Z95 = 1.959963984540054


def _flat(obj: Any) -> dict:
    return {f.name: getattr(obj, f.name) for f in fields(obj)}


@dataclass(frozen=True)
class Rate:
    """``count`` of ``total`` with its Wilson 95% interval (None without any run)."""

    count: int
    total: int
    rate: float | None
    ci_low: float | None
    ci_high: float | None

    def to_dict(self) -> dict:
        return _flat(self)

    @classmethod
    def from_dict(cls, d: dict) -> Rate:
        return cls(**d)


def wilson(count: int, total: int) -> Rate:
    """``count`` of ``total`` with the Wilson score 95% interval (statsmodels' ``wilson``)."""
    if total <= 0:
        return Rate(count, total, None, None, None)
    p = count / total
    z2 = Z95 * Z95
    centre = (p + z2 / (2 * total)) / (1 + z2 / total)
    half = Z95 * math.sqrt(p * (1 - p) / total + z2 / (4 * total * total)) / (1 + z2 / total)
    return Rate(count, total, p, max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True)
class Bin:
    """One histogram bar: seconds [low, high) and how many runs."""

    low: float
    high: float | None  # None: the last bin, everything from ``low`` on
    count: int

    def to_dict(self) -> dict:
        return _flat(self)

    @classmethod
    def from_dict(cls, d: dict) -> Bin:
        return cls(**d)


@dataclass(frozen=True)
class Distribution:
    """Time on task: n, mean, range, quantiles (p10, p25, p50, p75, p90) and a histogram."""

    n: int
    mean: float | None
    min: float | None
    max: float | None
    quantiles: dict[str, float]
    histogram: tuple[Bin, ...]

    def to_dict(self) -> dict:
        out = _flat(self)
        out["histogram"] = [b.to_dict() for b in self.histogram]
        return out

    @classmethod
    def from_dict(cls, d: dict) -> Distribution:
        bins = tuple(Bin.from_dict(b) for b in d["histogram"])
        return cls(d["n"], d["mean"], d["min"], d["max"], dict(d["quantiles"]), bins)


@dataclass(frozen=True)
class ItemAnswers:
    """One question's answers (last valid answer per session, and per task for SEQ)."""

    question: str
    instrument: str | None
    n: int
    mean: float | None
    counts: tuple[tuple[float, int], ...]  # (answer, sessions), by answer

    def to_dict(self) -> dict:
        out = _flat(self)
        out["counts"] = [{"value": v, "n": n} for v, n in self.counts]
        return out

    @classmethod
    def from_dict(cls, d: dict) -> ItemAnswers:
        counts = tuple((c["value"], c["n"]) for c in d["counts"])
        return cls(d["question"], d["instrument"], d["n"], d["mean"], counts)


@dataclass(frozen=True)
class InstrumentScore:
    """An instrument's score by the catalogue's rule: mean over sessions with a 95% t CI."""

    instrument: str
    n: int
    mean: float | None
    sd: float | None
    ci_low: float | None
    ci_high: float | None

    def to_dict(self) -> dict:
        return _flat(self)

    @classmethod
    def from_dict(cls, d: dict) -> InstrumentScore:
        return cls(**d)


@dataclass(frozen=True)
class UsabilityScore:
    """One number 0..100: the mean of the components that exist (docs/architecture.md,
    "Usability report"): completion, time (successes within ``target_s``), satisfaction
    (SEQ rescaled 1..7 → 0..1) and accuracy (1 − misclick rate)."""

    score: float | None
    components: dict[str, float | None]
    target_s: float | None = None

    def to_dict(self) -> dict:
        return _flat(self)

    @classmethod
    def from_dict(cls, d: dict) -> UsabilityScore:
        return cls(d["score"], dict(d["components"]), d.get("target_s"))


@dataclass(frozen=True)
class ScreenStats:
    """One screen within one task."""

    screen: str
    on_expected_path: bool
    views: int
    sessions: int  # runs of the task that showed it
    drop_offs: int  # runs that ended here without success (give up, timeout, unfinished)
    drop_off_rate: float | None  # drop_offs / sessions
    failure_share: float | None  # drop_offs / the task's runs without success
    misclicks: int
    taps: int
    misclick_rate: float | None  # misclicks / (taps + misclicks)
    median_seconds: float | None  # per run: all its time on the screen; median over runs

    def to_dict(self) -> dict:
        return _flat(self)

    @classmethod
    def from_dict(cls, d: dict) -> ScreenStats:
        return cls(**d)


@dataclass(frozen=True)
class PathCount:
    """A path (screens in order) taken in ``n`` runs (``share`` of the task's), ``successes``
    of them reaching a goal."""

    path: tuple[str, ...]
    n: int
    share: float
    successes: int

    def to_dict(self) -> dict:
        out = _flat(self)
        out["path"] = list(self.path)
        return out

    @classmethod
    def from_dict(cls, d: dict) -> PathCount:
        return cls(tuple(d["path"]), d["n"], d["share"], d["successes"])


@dataclass(frozen=True)
class Deviation:
    """Runs that left the expected path at ``screen`` (the last expected screen they were on)
    for ``to`` (a screen, or ``(end)`` when the run stopped there)."""

    screen: str
    to: str
    n: int
    share: float  # of the task's runs

    def to_dict(self) -> dict:
        return _flat(self)

    @classmethod
    def from_dict(cls, d: dict) -> Deviation:
        return cls(**d)


@dataclass(frozen=True)
class Transition:
    """``n`` runs went from ``source`` at step ``step`` (0 = the first screen) to ``target``
    (a screen at step + 1, or an outcome: ``✓ goal``, ``give up``, ``timeout``, ``left``)."""

    step: int
    source: str
    target: str
    n: int

    def to_dict(self) -> dict:
        return _flat(self)

    @classmethod
    def from_dict(cls, d: dict) -> Transition:
        return cls(**d)


@dataclass(frozen=True)
class TaskPaths:
    """The paths customers took in one task."""

    expected_path: tuple[str, ...]
    on_expected: int  # runs whose screens were exactly the expected path
    top: tuple[PathCount, ...]
    distinct: int
    deviations: tuple[Deviation, ...]
    transitions: tuple[Transition, ...]

    def to_dict(self) -> dict:
        return {
            "expected_path": list(self.expected_path),
            "on_expected": self.on_expected,
            "distinct": self.distinct,
            "top": [p.to_dict() for p in self.top],
            "deviations": [d.to_dict() for d in self.deviations],
            "transitions": [t.to_dict() for t in self.transitions],
        }

    @classmethod
    def from_dict(cls, d: dict) -> TaskPaths:
        return cls(
            tuple(d["expected_path"]),
            d["on_expected"],
            tuple(PathCount.from_dict(p) for p in d["top"]),
            d["distinct"],
            tuple(Deviation.from_dict(x) for x in d["deviations"]),
            tuple(Transition.from_dict(t) for t in d["transitions"]),
        )


@dataclass(frozen=True)
class TaskUsability:
    """Everything about one task: outcomes, time, misclicks, answers, score, screens, paths."""

    task: str
    prompt: str
    runs: int
    outcomes: dict[str, Rate]  # OUTCOMES -> rate over runs; also "success" (direct + indirect)
    time: Distribution
    misclicks: int
    taps: int
    misclick_rate: float | None
    answers: tuple[ItemAnswers, ...]
    scores: tuple[InstrumentScore, ...]
    usability: UsabilityScore
    screens: tuple[ScreenStats, ...]
    paths: TaskPaths

    def to_dict(self) -> dict:
        return {
            "task": self.task,
            "prompt": self.prompt,
            "runs": self.runs,
            "outcomes": {k: r.to_dict() for k, r in self.outcomes.items()},
            "time": self.time.to_dict(),
            "misclicks": self.misclicks,
            "taps": self.taps,
            "misclick_rate": self.misclick_rate,
            "answers": [a.to_dict() for a in self.answers],
            "scores": [s.to_dict() for s in self.scores],
            "usability": self.usability.to_dict(),
            "screens": [s.to_dict() for s in self.screens],
            "paths": self.paths.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: dict) -> TaskUsability:
        return cls(
            task=d["task"],
            prompt=d["prompt"],
            runs=d["runs"],
            outcomes={k: Rate.from_dict(r) for k, r in d["outcomes"].items()},
            time=Distribution.from_dict(d["time"]),
            misclicks=d["misclicks"],
            taps=d["taps"],
            misclick_rate=d["misclick_rate"],
            answers=tuple(ItemAnswers.from_dict(a) for a in d["answers"]),
            scores=tuple(InstrumentScore.from_dict(s) for s in d["scores"]),
            usability=UsabilityScore.from_dict(d["usability"]),
            screens=tuple(ScreenStats.from_dict(s) for s in d["screens"]),
            paths=TaskPaths.from_dict(d["paths"]),
        )


@dataclass(frozen=True)
class ScreenEvidence:
    """A screen to rework, with its evidence over all tasks (``insights.screens``).

    ``score`` = (failure_share + misclick_share) / 2: the screen's share of the prototype's
    trouble (every failed run counted once, at the screen where it ended; every misclick once).
    """

    screen: str
    tasks: tuple[str, ...]
    score: float
    failures: int  # runs that ended on this screen without success
    failure_share: float  # failures / all failed runs of the prototype
    drop_off_rate: float | None  # failures / runs that showed the screen
    misclicks: int
    misclick_share: float  # misclicks / all misclicks of the prototype
    misclick_rate: float | None  # misclicks / (taps + misclicks) on the screen
    sessions: int  # runs that showed the screen

    def evidence(self) -> str:
        """The numbers in one line, e.g. for a decision's reasons."""
        parts = [
            f"{self.failures:,} failed runs ended here ({self.failure_share:.0%} of all failures"
            + (
                f", {self.drop_off_rate:.0%} of the runs that saw it)"
                if self.drop_off_rate is not None
                else ")"
            ),  # fmt: skip
            f"{self.misclicks:,} misclicks ({self.misclick_share:.0%} of all"
            + (
                f", {self.misclick_rate:.0%} of taps here)"
                if self.misclick_rate is not None
                else ")"
            ),  # fmt: skip
        ]
        return f"{self.screen}: " + "; ".join(parts)

    def to_dict(self) -> dict:
        out = _flat(self)
        out["tasks"] = list(self.tasks)
        out["evidence"] = self.evidence()
        return out

    @classmethod
    def from_dict(cls, d: dict) -> ScreenEvidence:
        values = {f.name: d[f.name] for f in fields(cls)}
        values["tasks"] = tuple(values["tasks"])
        return cls(**values)


# --- a prototype's own questions and goals (insights.own) -------------------------------------


@dataclass(frozen=True)
class OptionShare:
    """One answer of a question of the prototype's own: the sessions naming it, of those that
    answered (a choice's option, a design, recalled / not_recalled, the element tapped first;
    ``(elsewhere)`` for a first tap on empty space)."""

    option: str
    label: str
    rate: Rate

    def to_dict(self) -> dict:
        return {"option": self.option, "label": self.label, "rate": self.rate.to_dict()}

    @classmethod
    def from_dict(cls, d: dict) -> OptionShare:
        return cls(d["option"], d["label"], Rate.from_dict(d["rate"]))


@dataclass(frozen=True)
class OwnAnswers:
    """The answers of one variant to one question of the prototype's own (``prototypes.asks``).

    ``options``: shares with Wilson intervals (choices, preference, five-second, first click);
    ``mean`` with its t interval and ``values`` (value, sessions) for a rating; ``p_value``:
    a preference test's exact two-sided binomial test of the second design against 50 %;
    ``texts`` (text, sessions): open text and what five-second tests were answered; ``clicks``
    (x, y, on target): first taps with a position (at most 2,000)."""

    question: str
    type: str
    text: str
    variant: str
    answered: int
    options: tuple[OptionShare, ...] = ()
    mean: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    values: tuple[tuple[float, int], ...] = ()
    p_value: float | None = None
    texts: tuple[tuple[str, int], ...] = ()
    clicks: tuple[tuple[float, float, bool], ...] = ()

    def option(self, option_id: str) -> OptionShare:
        """The share of one answer (KeyError if there is none)."""
        for o in self.options:
            if o.option == option_id:
                return o
        raise KeyError(option_id)

    def to_dict(self) -> dict:
        d = _flat(self)
        d["options"] = [o.to_dict() for o in self.options]
        for key in ("values", "texts", "clicks"):
            d[key] = [list(row) for row in d[key]]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> OwnAnswers:
        return cls(**{
            **d,
            "options": tuple(OptionShare.from_dict(o) for o in d["options"]),
            "values": tuple(tuple(r) for r in d["values"]),
            "texts": tuple(tuple(r) for r in d["texts"]),
            "clicks": tuple(tuple(r) for r in d["clicks"]),
        })  # fmt: skip


@dataclass(frozen=True)
class GoalReach:
    """How many of one variant's sessions reached one of the prototype's goals."""

    goal: str
    label: str
    variant: str
    rate: Rate

    def to_dict(self) -> dict:
        return {"goal": self.goal, "label": self.label, "variant": self.variant,
                "rate": self.rate.to_dict()}  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict) -> GoalReach:
        return cls(d["goal"], d["label"], d["variant"], Rate.from_dict(d["rate"]))


@dataclass(frozen=True)
class UsabilityReport:
    """The usability report of one prototype version (optionally one variant or store)."""

    prototype: str
    version: int
    variant: str | None
    store: str | None
    title: str
    sessions: int  # customer sessions with a task run or an answer
    tasks: tuple[TaskUsability, ...]
    answers: tuple[ItemAnswers, ...]  # questions asked once per session (end questionnaire)
    scores: tuple[InstrumentScore, ...]
    usability: UsabilityScore  # the mean of the tasks' scores
    rework: tuple[ScreenEvidence, ...] = ()
    own: tuple[OwnAnswers, ...] = ()  # the prototype's own questions, per variant
    goals: tuple[GoalReach, ...] = ()  # the prototype's goals, per variant
    persona: str | None = None  # only this persona's journeys ('anonymous': none)

    def task(self, task_id: str) -> TaskUsability:
        """The task named ``task_id`` (KeyError if the report has none)."""
        for t in self.tasks:
            if t.task == task_id:
                return t
        raise KeyError(task_id)

    def to_dict(self) -> dict:
        return {
            "prototype": self.prototype,
            "version": self.version,
            "variant": self.variant,
            "store": self.store,
            "persona": self.persona,
            "title": self.title,
            "sessions": self.sessions,
            "usability": self.usability.to_dict(),
            "tasks": [t.to_dict() for t in self.tasks],
            "answers": [a.to_dict() for a in self.answers],
            "scores": [s.to_dict() for s in self.scores],
            "screens_to_rework": [e.to_dict() for e in self.rework],
            "own_questions": [q.to_dict() for q in self.own],
            "goals": [g.to_dict() for g in self.goals],
        }

    @classmethod
    def from_dict(cls, d: dict) -> UsabilityReport:
        return cls(
            prototype=d["prototype"],
            version=d["version"],
            variant=d["variant"],
            store=d["store"],
            title=d["title"],
            sessions=d["sessions"],
            tasks=tuple(TaskUsability.from_dict(t) for t in d["tasks"]),
            answers=tuple(ItemAnswers.from_dict(a) for a in d["answers"]),
            scores=tuple(InstrumentScore.from_dict(s) for s in d["scores"]),
            usability=UsabilityScore.from_dict(d["usability"]),
            rework=tuple(ScreenEvidence.from_dict(e) for e in d["screens_to_rework"]),
            own=tuple(OwnAnswers.from_dict(q) for q in d.get("own_questions", ())),
            goals=tuple(GoalReach.from_dict(g) for g in d.get("goals", ())),
            persona=d.get("persona"),
        )
