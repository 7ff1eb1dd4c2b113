"""The usability report of one prototype version: tasks, screens, paths and answers.

``usability_report(lab, prototype_id, UsabilityQuery(...))`` needs no experiment. It reads the
customers' sessions of that version (team and preview sessions never count, as in
``experiments.metrics``) through one pass over ``events`` (``insights.sql``) and turns the
small aggregates into a ``UsabilityReport``. The score formula is in docs/architecture.md
("Usability report") and in ``usability_score``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from errors import InvalidInputError
from feedback.catalogue import CATALOGUE
from insights.own import own_section
from insights.paths import PathGroup, classify, drop_offs, task_paths
from insights.screens import rework_ranking
from insights.sql import usability_rows, versions_with_data_sql
from insights.usability_results import (
    OUTCOMES,
    Bin,
    Distribution,
    InstrumentScore,
    ItemAnswers,
    ScreenStats,
    TaskUsability,
    UsabilityReport,
    UsabilityScore,
    wilson,
)
from prototypes.library import load_lab_prototype

if TYPE_CHECKING:
    from lab import Lab
    from prototypes.spec import Prototype, PrototypeView

SECONDS_PER_SCREEN = 10.0
"""A task's target time when it has no ``time_limit_s``: this many seconds per screen of its
expected path (read the screen, find the button, tap)."""
HISTOGRAM_BINS = 20
QUANTILES = ("p10", "p25", "p50", "p75", "p90")


@dataclass(frozen=True)
class UsabilityQuery:
    """Which sessions a report covers: a version (None = the current one), optionally one
    variant (the label events carry) and one store; how many top paths to list.

    ``experiment`` and ``period`` narrow it to one experiment's events (``experiment_id``) and
    its UTC days (both inclusive, like the spec's ``start``/``end``): what a decision's screens
    to rework are read from (``insights.advice``).
    """

    version: int | None = None
    variant: str | None = None
    store: str | None = None
    top_paths: int = 5
    experiment: str | None = None
    period: tuple[date, date] | None = None
    persona: str | None = None
    """Only journeys whose first session ran under this persona (``anonymous``: none)."""


def usability_score(
    success: float | None,
    in_time: float | None,
    satisfaction: float | None,
    misclick_rate: float | None,
    target_s: float | None = None,
) -> UsabilityScore:
    """SUM-like single usability metric, 0..100: the mean of the components that exist.

    completion = share of runs that reached a goal; time = share of successful runs within
    the target time; satisfaction = the task's SEQ mean rescaled from 1..7 to 0..1; accuracy =
    1 − misclick rate (misclicks per tap). Each is a share of "good" on the same 0..1 scale,
    so they are averaged with equal weight (Sauro & Kindlund's SUM does the same with z-scores).
    """
    accuracy = None if misclick_rate is None else 1 - misclick_rate
    components = {
        "completion": success,
        "time": in_time,
        "satisfaction": satisfaction,
        "accuracy": accuracy,
    }
    present = [v for v in components.values() if v is not None]
    score = 100 * sum(present) / len(present) if present else None
    return UsabilityScore(score, components, target_s)


def usability_report(lab: Lab, prototype_id: str, query: UsabilityQuery) -> UsabilityReport:
    """The usability report of ``prototype_id`` for ``query`` (see the module docstring).

    Raises ``UnknownPrototypeError`` for a prototype the lab does not have and
    ``InvalidInputError`` for a version it does not have or when no customer session of it
    was recorded yet (naming the versions that have data).
    """
    from feedback.store import connect

    proto = load_lab_prototype(lab, prototype_id)
    version = proto.current_version if query.version is None else query.version
    if version not in proto.version_numbers:
        raise InvalidInputError(
            f"Prototype {prototype_id!r} has no version {version}; versions: "
            f"{', '.join(map(str, proto.version_numbers))}."
        )
    base = proto.resolve(version, None)
    targets = {t.id: target_seconds(t) for t in base.tasks}
    params = {
        "prototype": prototype_id,
        "version": version,
        "variant": query.variant,
        "store": query.store,
        "experiment": query.experiment,
        "since": None if query.period is None else _utc_midnight(query.period[0]),
        "until": None if query.period is None else _utc_midnight(query.period[1], 1),
        "persona": query.persona,
    }
    with connect(lab) as con:
        rows = usability_rows(con, params, HISTOGRAM_BINS, targets)
        if not rows["paths"] and not rows["answers"]:
            counts = con.execute(versions_with_data_sql(), {"prototype": prototype_id}).fetchall()
            raise InvalidInputError(_no_data_message(prototype_id, version, query, counts))
        own, goals = own_section(con, proto, version, params)  # the prototype's own questions
    return replace(
        build_report(proto, version, query, rows, rows["sessions"]), own=own, goals=goals
    )


def _utc_midnight(day: date, plus_days: int = 0) -> datetime:
    return datetime.combine(day + timedelta(days=plus_days), time(0), tzinfo=UTC)


def target_seconds(task) -> float:
    """The task's target time: its ``time_limit_s``, else ``SECONDS_PER_SCREEN`` per screen of
    its expected path."""
    return float(task.time_limit_s or SECONDS_PER_SCREEN * len(task.expected_path))


def _no_data_message(prototype_id: str, version: int, query: UsabilityQuery, counts) -> str:
    where = "".join(
        f" {k} {v!r}"
        for k, v in (
            ("variant", query.variant),
            ("store", query.store),
            ("experiment", query.experiment),
            ("persona", query.persona),
        )
        if v
    )
    have = ", ".join(f"v{v} ({n:,} sessions)" for v, n in counts)
    return (
        f"No customer session of prototype {prototype_id!r} version {version}{where} has been "
        "recorded yet (team and preview sessions do not count). "
        + (f"Versions with data: {have}." if have else "This prototype has no events at all.")
        + " Run `storelab feedback ingest` after the pilot has collected some."
    )


def _view_for(proto: Prototype, version: int, variant: str) -> PrototypeView:
    """The prototype variant a run saw: the one named like its event label, else the base."""
    names = proto.variant_names(version)
    return proto.resolve(version, variant if variant in names else None)


def build_report(
    proto: Prototype, version: int, query: UsabilityQuery, rows: dict, sessions: int
) -> UsabilityReport:
    """The report from the SQL's raw rows (``insights.sql.usability_rows``); pure."""
    shown = query.variant if query.variant in proto.variant_names(version) else None
    base = proto.resolve(version, shown)
    views: dict[str, PrototypeView] = {}
    groups: dict[str, list[PathGroup]] = defaultdict(list)
    for task, variant, outcome, path, n in rows["paths"]:
        view = views.setdefault(variant, _view_for(proto, version, variant))
        expected = _expected(view, task) or _expected(base, task)
        path = tuple(path or ())
        groups[task].append(PathGroup(classify(outcome, path, expected), path, expected, int(n)))
    task_ids = [t.id for t in base.tasks if t.id in groups] + sorted(
        t for t in groups if t not in {x.id for x in base.tasks}
    )
    answers, scores = _answers(rows["answers"]), _scores(rows["scores"])
    tasks = tuple(
        _task(
            base,
            task_id,
            groups[task_id],
            rows,
            answers.get(task_id, ()),
            scores.get(task_id, ()),
            query.top_paths,
        )  # fmt: skip
        for task_id in task_ids
    )
    overall = [t.usability.score for t in tasks if t.usability.score is not None]
    report = UsabilityReport(
        prototype=proto.id,
        version=version,
        variant=query.variant,
        store=query.store,
        persona=query.persona,
        title=base.title.get("en") or next(iter(base.title.values()), proto.id),
        sessions=int(sessions),
        tasks=tasks,
        answers=answers.get(None, ()),
        scores=scores.get(None, ()),
        usability=UsabilityScore(sum(overall) / len(overall) if overall else None, {}),
    )
    return replace(report, rework=rework_ranking(report))


def _expected(view: PrototypeView, task_id: str) -> tuple[str, ...]:
    for task in view.tasks:
        if task.id == task_id:
            return tuple(task.expected_path)
    return ()


def _task(base, task_id, groups, rows, answers, scores, top_n) -> TaskUsability:
    """One task's section of the report."""
    spec = next((t for t in base.tasks if t.id == task_id), None)
    runs = sum(g.n for g in groups)
    counts = {o: sum(g.n for g in groups if g.outcome == o) for o in OUTCOMES}
    outcomes = {o: wilson(counts[o], runs) for o in OUTCOMES}
    outcomes["success"] = wilson(counts["direct"] + counts["indirect"], runs)
    clicks = {r[0]: r for r in rows["clicks"]}.get(task_id, (task_id, runs, 0, 0))
    misclicks, taps = int(clicks[2] or 0), int(clicks[3] or 0)
    misclick_rate = misclicks / (taps + misclicks) if taps + misclicks else None
    time, in_time = _time(rows["times"], task_id)
    seq = next((s for s in scores if s.instrument == "seq"), None)
    satisfaction = None
    if seq is not None and seq.mean is not None:
        low, high = CATALOGUE.instrument("seq").range
        satisfaction = (seq.mean - low) / (high - low)
    expected = tuple(spec.expected_path) if spec else ()
    failed = runs - counts["direct"] - counts["indirect"]
    return TaskUsability(
        task=task_id,
        prompt=(spec.prompt.get("en") or next(iter(spec.prompt.values()), "")) if spec else "",
        runs=runs,
        outcomes=outcomes,
        time=time,
        misclicks=misclicks,
        taps=taps,
        misclick_rate=misclick_rate,
        answers=answers,
        scores=scores,
        usability=usability_score(
            outcomes["success"].rate,
            in_time,
            satisfaction,
            misclick_rate,
            target_seconds(spec) if spec else None,
        ),  # fmt: skip
        screens=_screens(rows["screens"], task_id, groups, expected, failed),
        paths=task_paths(groups, expected, top_n),
    )


def _time(rows, task_id: str) -> tuple[Distribution, float | None]:
    """Time on task and the share of successful runs within the target time."""
    row = next((r for r in rows if r[0] == task_id), None)
    if row is None:
        return Distribution(0, None, None, None, {}, ()), None
    _task_id, n, mean, lo, hi, qs, top, successes, in_time, bins = row
    width = top / HISTOGRAM_BINS
    by_bin = {b["bin"]: b["n"] for b in bins or ()}
    histogram = tuple(
        Bin(i * width, (i + 1) * width if i < HISTOGRAM_BINS - 1 else None, int(by_bin.get(i, 0)))
        for i in range(HISTOGRAM_BINS)
    )
    quantiles = dict(zip(QUANTILES, (float(q) for q in qs), strict=True))
    dist = Distribution(int(n), float(mean), float(lo), float(hi), quantiles, histogram)
    return dist, (in_time / successes if successes else None)


def _screens(rows, task_id, groups, expected, failed) -> tuple[ScreenStats, ...]:
    """Per screen of the task: views, drop-off, misclicks, time; expected path first."""
    left = drop_offs(groups)
    out = []
    for task, screen, views, sessions, median_s, misclicks, taps in rows:
        if task != task_id:
            continue
        gone = left.get(screen, 0)
        out.append(
            ScreenStats(
                screen=screen,
                on_expected_path=screen in expected,
                views=int(views),
                sessions=int(sessions),
                drop_offs=gone,
                drop_off_rate=gone / sessions if sessions else None,
                failure_share=gone / failed if failed else None,
                misclicks=int(misclicks),
                taps=int(taps),
                misclick_rate=misclicks / (taps + misclicks) if taps + misclicks else None,
                median_seconds=None if median_s is None else float(median_s),
            )
        )
    order = {s: i for i, s in enumerate(expected)}
    out.sort(key=lambda s: (order.get(s.screen, len(order)), -s.sessions, s.screen))
    return tuple(out)


def _answers(rows) -> dict[str | None, tuple[ItemAnswers, ...]]:
    """Per task slot (None: asked once per session), every question's answer distribution."""
    counts: dict[tuple[str | None, str], dict[float, int]] = defaultdict(dict)
    for task, question, value, n in rows:
        counts[(task, question)][float(value)] = int(n)
    items = {i.id: inst.id for inst in CATALOGUE.instruments.values() for i in inst.items}
    out: dict[str | None, list[ItemAnswers]] = defaultdict(list)
    for (task, question), dist in sorted(counts.items(), key=lambda kv: (kv[0][0] or "", kv[0][1])):
        n = sum(dist.values())
        mean = sum(v * c for v, c in dist.items()) / n
        out[task].append(
            ItemAnswers(question, items.get(question), n, mean, tuple(sorted(dist.items())))
        )
    return {k: tuple(v) for k, v in out.items()}


def _scores(rows) -> dict[str | None, tuple[InstrumentScore, ...]]:
    """Per task slot, every scored instrument's mean with a 95% t interval."""
    from scipy.special import stdtrit

    out: dict[str | None, list[InstrumentScore]] = defaultdict(list)
    for task, instrument, n, mean, sd in rows:
        n = int(n)
        half = None
        if n > 1 and sd is not None:
            half = float(stdtrit(n - 1, 0.975)) * sd / math.sqrt(n)
        low = None if half is None else mean - half
        high = None if half is None else mean + half
        out[task].append(InstrumentScore(instrument, n, float(mean), sd, low, high))
    return {k: tuple(sorted(v, key=lambda s: s.instrument)) for k, v in out.items()}
