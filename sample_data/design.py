"""What the simulator simulates: a pilot design, independent of where it came from.

A ``PilotDesign`` holds the variants (each reduced to an ``Arm``: its tasks as walkable paths
and the questions it asks), the stores and which variant each runs, the allocation and the
period. ``design_from_spec`` builds one from an experiment spec and the lab's files,
``make_design`` from prototype views directly (tests, notebooks, other tools).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from errors import InvalidInputError
from feedback.catalogue import CATALOGUE

if TYPE_CHECKING:
    from lab import Lab

TZ = "Europe/Berlin"
"""The pilot stores' time zone: opening hours and timestamps are local to it."""


@dataclass
class TaskShape:
    """One task of one variant, reduced to what the walk needs."""

    id: str
    start_screen: str
    path: list[str]
    forward: list[str]  # element tapped on path[k] to reach path[k + 1]
    alternatives: list[list[tuple[str, str]]]  # per path screen: other (element, target) links
    timed: bool = False  # has a time limit: the runtime ends a failed run there (task_fail)


@dataclass(frozen=True)
class ArmProblem:
    """A planted usability problem on one screen of a variant (``sample_data.problem``).

    ``steps`` holds, per task of the arm, the screen's position on the task's path (-1 when the
    task does not pass it, or reaches its goal there). A session arriving there abandons the
    task at that screen with probability ``drop`` (on top of whatever it would have done), makes
    Poisson(``misclicks``) extra misclicks around (``x``, ``y``) with sd ``spread``, and the
    sessions that reached it write a comment on the planted theme with probability
    ``comment_share``.
    """

    screen: str
    steps: tuple[int, ...]
    drop: float
    misclicks: float
    x: float
    y: float
    spread: float
    comment_share: float


@dataclass
class Arm:
    """A variant as the simulator sees it: version, the walkable tasks, the questions asked.

    Question ids are catalogue item ids; their scales and scoring come from the catalogue.
    ``comment`` is the id of the free-text question when the variant asks one.
    """

    name: str
    version: int
    tasks: list[TaskShape]
    after_task: dict[str, list[str]]  # task id -> question ids asked right after it
    end_questions: list[str]
    comment: str | None = None
    problem: ArmProblem | None = None  # a planted problem (``sample_data.problem``)
    own: list[Any] = field(default_factory=list)
    """The prototype's own questions (``prototypes.asks.CustomQuestionSpec``; sample_data.own)."""
    goals: dict[str, Any] = field(default_factory=dict)
    """The prototype's goals (name -> ``GoalSpec``), set on the events by ``sample_data.own``."""
    # personas and context (issue 15): drawn per session, written on session_start
    personas: tuple[str, ...] = ()
    context: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def asked(self) -> set[str]:
        """Every question id the variant asks (after a task or at the end)."""
        return set(self.end_questions) | {q for qs in self.after_task.values() for q in qs}


@dataclass
class PilotDesign:
    """Everything about an experiment the simulator needs, independent of where it came from."""

    experiment_id: str | None
    prototype_id: str
    unit: str  # "store" or "session"
    arms: dict[str, Arm]  # first = baseline
    allocation: dict[str, float]
    stores: list[str]
    store_variant: dict[str, str]  # unit=store
    store_formats: dict[str, str]
    store_sizes: dict[str, int]
    start: date
    end: date
    problem: Any = None  # the ``sample_data.problem.PlantedProblem`` planted, if any

    @property
    def baseline(self) -> str:
        return next(iter(self.arms))


def _shape_tasks(view: Any) -> list[TaskShape]:
    shapes = []
    for task in view.tasks:
        path = list(task.expected_path) or [task.start_screen]
        forward, alternatives = [], []
        for k, screen in enumerate(path):
            links = list(view.links(screen)) if screen in view.screens else []
            nxt = path[k + 1] if k + 1 < len(path) else None
            fwd = next((el for el, target in links if target == nxt), None) if nxt else None
            if nxt is not None:
                forward.append(fwd or f"to-{nxt}")
            behind = set(path[: k + 1])  # a detour goes somewhere new, not back along the path
            alternatives.append(
                [(el, target) for el, target in links if target != nxt and target not in behind]
            )
        shapes.append(TaskShape(task.id, task.start_screen, path, forward, alternatives,
                                bool(task.time_limit_s)))  # fmt: skip
    return shapes


def arm_from_view(name: str, version: int, view: Any) -> Arm:
    """Reduce a ``PrototypeView`` (prototypes.spec) to an ``Arm``."""
    tasks = _shape_tasks(view)
    task_ids = {t.id for t in tasks}
    after: dict[str, list[str]] = {}
    end: list[str] = []
    comment = None
    own = []
    for q in view.questions:
        if getattr(q, "custom", None) is not None:  # the prototype's own: sample_data.own
            own.append(q.custom)
            continue
        found = CATALOGUE.item(q.id)
        if found is None:
            raise InvalidInputError(f"question {q.id!r} is no item of a catalogue instrument")
        if not found[0].scored:  # free text: a comment, not an answer
            comment = q.id
            continue
        after_task = getattr(q, "after_task", None)
        if after_task and after_task in task_ids:
            after.setdefault(after_task, []).append(q.id)
        else:
            end.append(q.id)
    goals = dict(getattr(view, "goals", {}) or {})
    personas = tuple(getattr(view, "personas", {}) or ())
    context = tuple((k, tuple(v.values)) for k, v in (getattr(view, "context", {}) or {}).items())
    return Arm(
        name,
        int(version),
        tasks,
        after,
        end,
        comment,
        own=own,
        goals=goals,
        personas=personas,
        context=context,
    )


def _resolve(prototype: Any, version: int, variant: str | None) -> Any:
    try:
        return prototype.resolve(version, variant)
    except Exception:  # the prototype has no variant of that name: the version alone
        return prototype.resolve(version, None)


def design_from_spec(lab: Lab, spec: Any) -> PilotDesign:
    """A ``PilotDesign`` from an ``experiments.spec.ExperimentSpec`` and the lab's files."""
    from lab import read_stores
    from prototypes.library import load_lab_prototype
    from sample_data.fleet import default_stores

    prototype = load_lab_prototype(lab, spec.prototype)
    arms = {}
    for name, v in spec.variants.items():
        view = _resolve(prototype, v.version, getattr(v, "variant", None) or name)
        arms[name] = arm_from_view(name, v.version, view)
    fleet = read_stores(lab.stores_csv) if lab.stores_csv.is_file() else default_stores()
    store_variant = dict(spec.store_variants) if spec.unit == "store" else {}
    stores = list(spec.store_list) or [s.store_id for s in fleet]
    return PilotDesign(
        experiment_id=spec.id,
        prototype_id=spec.prototype,
        unit=spec.unit,
        arms=arms,
        allocation=dict(spec.allocation),
        stores=stores,
        store_variant=store_variant,
        store_formats={s.store_id: s.format for s in fleet},
        store_sizes={s.store_id: s.size_sqm for s in fleet},
        start=spec.start,
        end=spec.end,
    )


def _store_variants(
    arms: Sequence[str], stores: Sequence[str] | Mapping[str, Sequence[str]], unit: str
) -> tuple[list[str], dict[str, str]]:
    """The store list and, for unit=store, each store's variant (alternating when not given)."""
    if isinstance(stores, Mapping):
        store_variant = {s: v for v, ss in stores.items() for s in ss}
        store_list = list(store_variant)
    else:
        store_list = list(stores)
        store_variant = {s: arms[i % len(arms)] for i, s in enumerate(store_list)}
    return store_list, store_variant if unit == "store" else {}


def make_design(
    views: Any,
    variants: Sequence[str] | Mapping[str, int],
    stores: Sequence[str] | Mapping[str, Sequence[str]],
    unit: str = "store",
    *,
    experiment_id: str | None = "sim",
    prototype_id: str | None = None,
    allocation: Mapping[str, float] | None = None,
    start: date = date(2026, 11, 2),
    end: date = date(2026, 11, 29),
    fleet: Sequence[Any] | None = None,
) -> PilotDesign:
    """A design from prototype views directly (tests, notebooks, other tools).

    ``views``: one view for every variant or a mapping variant -> view; ``variants``: names or
    a mapping name -> version; ``stores``: a list (unit=session) or variant -> stores.
    """
    from sample_data.fleet import default_stores

    versions = dict(variants) if isinstance(variants, Mapping) else {v: 1 for v in variants}
    if len(versions) < 2:
        raise InvalidInputError("a pilot needs at least two variants")
    arms = {}
    for name, version in versions.items():
        view = views[name] if isinstance(views, Mapping) else views
        arms[name] = arm_from_view(name, getattr(view, "version", version) or version, view)
    if unit not in ("store", "session"):
        raise InvalidInputError(f"unit must be 'store' or 'session', not {unit!r}")
    store_list, store_variant = _store_variants(list(arms), stores, unit)
    fleet = list(fleet) if fleet is not None else default_stores(14)
    first_view = views[next(iter(arms))] if isinstance(views, Mapping) else views
    share = 1 / len(arms)
    return PilotDesign(
        experiment_id=experiment_id,
        prototype_id=prototype_id or first_view.id,
        unit=unit,
        arms=arms,
        allocation=dict(allocation) if allocation else {a: share for a in arms},
        stores=store_list,
        store_variant=store_variant,
        store_formats={s.store_id: s.format for s in fleet},
        store_sizes={s.store_id: s.size_sqm for s in fleet},
        start=start,
        end=end,
    )


def check_design(design: PilotDesign) -> None:
    """Raise ``InvalidInputError`` when the design cannot be simulated."""
    for name, arm in design.arms.items():
        if not arm.tasks:
            raise InvalidInputError(f"variant {name}: the prototype has no tasks to simulate")
    missing = [s for s in design.stores if design.unit == "store" and s not in design.store_variant]
    if not design.stores or missing:
        raise InvalidInputError("the design lists no stores (or stores without a variant)")
