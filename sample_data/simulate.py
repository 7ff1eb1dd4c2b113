"""The pilot simulator: contract events for many sessions walking a prototype, with known truth.

Two layers, both vectorised with numpy (loops run per variant, task and screen step, never per
event or per session):

1. ``_outcomes`` draws what happens in each session: consent, which tasks it reaches, success /
   fail / abandon, steps walked, detours, misclicks, time on task, latent satisfaction and the
   questionnaire answers. The same function, run on a large Monte-Carlo sample with the store
   effects integrated out, gives the *true* per-variant metric means; the variant parameters
   are solved (bisection on common random numbers) so that the true differences equal the
   effects asked for, in each metric's own units.
2. ``_chunk_table`` turns one chunk of sessions into contract events (DESIGN.md "Event") as a
   pyarrow table, written as one spool file with ``feedback.sink.write_batch``.

The model, in brief
    * Stores have random intercepts on the task-success logit and on latent satisfaction, with
      variances from the configured ICC (latent scale; default 0.03). Sessions go to stores by
      traffic (floor space, format, a seeded lognormal factor); the device (kiosk or phone)
      depends on the store format.
    * Task t succeeds with ``expit(logit(p_t + δ_v) + b_store − 0.15·phone)``; p_t falls with the
      length of the task's expected path. Failed tasks are abandoned in 30 % (kiosk) or 40 %
      (phone) of cases, which ends the session; between tasks some sessions just leave.
    * Time on task ∝ steps, detours and misclicks, times lognormal session and task noise, times
      ``exp(τ_v)``. Misclicks per screen are Poisson with rate ``λ_device · exp(μ_v)``.
    * Latent satisfaction ``z = a_store + 0.7·(success share − 0.65) + ε``; each instrument
      (SUS, UMUX-Lite, SEQ, NPS, CSAT, CES) reads ``z + shift_v[instrument]`` through rounded,
      clipped normal items, so SUS items correlate (odd items positively, even items
      negatively keyed). SEQ also reacts to the task's own outcome.
    * Only completed sessions answer the end questionnaire; they start it with some
      probability and may drop out item by item (so incomplete SUS happens).

The truth file (``lab.truth_path``) holds the seed, sessions, design, the effects asked for,
the solved variant parameters, the ICC, each store's drawn effects, and per metric and variant
the population ``true_means`` and ``true_effects`` (difference to the baseline) under the
metric definitions of ``experiments.metrics`` — and ``conditional_means``: the expected means
given the stores' drawn effects and the store mix of this very design.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from errors import InvalidInputError

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

    from lab import Lab

# --- metrics and instruments ------------------------------------------------------------------

METRICS: tuple[str, ...] = (
    "task_success_rate",
    "time_on_task_s",
    "misclick_rate",
    "completion_rate",
    "sus",
    "umux_lite",
    "seq",
    "nps",
    "csat",
    "ces",
)
INSTRUMENTS: tuple[str, ...] = ("sus", "umux_lite", "seq", "nps", "csat", "ces")
# Metrics whose effect can be planted (completion follows from success and abandonment).
EFFECT_METRICS: tuple[str, ...] = (
    "task_success_rate",
    "time_on_task_s",
    "misclick_rate",
    *INSTRUMENTS,
)
# Bisection bracket for each planted parameter and the tolerance on the metric's own scale.
_PARAM_RANGE: dict[str, tuple[float, float, float]] = {
    "task_success_rate": (-0.9, 0.9, 2e-5),
    "time_on_task_s": (-3.0, 3.0, 1e-3),
    "misclick_rate": (-6.0, 6.0, 2e-5),
    "sus": (-5.0, 5.0, 2e-3),
    "umux_lite": (-5.0, 5.0, 2e-3),
    "seq": (-5.0, 5.0, 1e-4),
    "nps": (-5.0, 5.0, 5e-3),
    "csat": (-5.0, 5.0, 5e-3),
    "ces": (-5.0, 5.0, 1e-4),
}

# Question models: (mean at z=0, loading on z, item noise sd, default scale).
_SUS_MEANS = {1: 3.7, 2: 2.2, 3: 3.9, 4: 1.8, 5: 3.8, 6: 2.1, 7: 4.0, 8: 2.0, 9: 3.7, 10: 2.0}
_QUESTION_MODEL: dict[str, tuple[float, float, float, tuple[int, int]]] = {
    **{f"sus.q{i}": (m, 0.85 if i % 2 else -0.85, 0.7, (1, 5)) for i, m in _SUS_MEANS.items()},
    "umux_lite.q1": (5.5, 1.0, 0.8, (1, 7)),
    "umux_lite.q2": (5.2, 1.0, 0.8, (1, 7)),
    "seq": (5.0, 1.0, 0.9, (1, 7)),
    "nps": (7.3, 1.7, 1.3, (0, 10)),
    "csat": (3.9, 0.8, 0.6, (1, 5)),
    "ces": (5.2, 1.0, 0.9, (1, 7)),
}

# --- behaviour constants ----------------------------------------------------------------------

CONSENT_DECLINE = 0.04
DROP_BETWEEN_TASKS = 0.06
PHONE_SUCCESS_LOGIT = -0.15
ABANDON_SHARE = {"kiosk": 0.30, "phone": 0.40}
IDLE_SHARE = {"kiosk": 0.65, "phone": 0.30}  # of sessions that end early: idle vs. walked off
DETOUR_P = {"success": 0.07, "fail": 0.30}
MISCLICK_LAMBDA = {"kiosk": 0.10, "phone": 0.16}  # per screen
STEP_SECONDS = 3.0
SUCCESS_SAT_LOADING = 0.7
ANSWER_START = {"kiosk": 0.75, "phone": 0.60}
ANSWER_CONTINUE = 0.97
SEQ_ANSWER = 0.80
COMMENT_P = 0.12
EN_SHARE = 0.12
PHONE_SHARE = {"flagship": 0.35, "city": 0.45, "mall": 0.55, "outlet": 0.60}
FORMAT_TRAFFIC = {"flagship": 1.6, "city": 1.0, "mall": 1.2, "outlet": 0.8}
OPEN_HOUR, CLOSE_HOUR = 10, 20
MC_SESSIONS = 60_000
CHUNK_SESSIONS = 50_000
TZ = "Europe/Berlin"


# --- design -----------------------------------------------------------------------------------


@dataclass
class TaskShape:
    """One task of one variant, reduced to what the walk needs."""

    id: str
    start_screen: str
    path: list[str]
    forward: list[str]  # element tapped on path[k] to reach path[k + 1]
    alternatives: list[list[tuple[str, str]]]  # per path screen: other (element, target) links


@dataclass
class Arm:
    """A variant as the simulator sees it: version and the walkable structure."""

    name: str
    version: int
    tasks: list[TaskShape]
    after_task: dict[str, list[str]]  # task id -> question ids asked right after it
    end_questions: list[str]
    scales: dict[str, tuple[int, int]]
    has_comment: bool


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

    @property
    def baseline(self) -> str:
        return next(iter(self.arms))


@dataclass
class SimResult:
    """What ``simulate_pilot`` wrote."""

    files: list[Path]
    sessions: int
    events: int
    truth: dict[str, Any]
    seconds: float = 0.0
    truth_path: Path | None = None

    @property
    def sessions_per_second(self) -> float:
        return self.sessions / self.seconds if self.seconds > 0 else float("nan")


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
        shapes.append(TaskShape(task.id, task.start_screen, path, forward, alternatives))
    return shapes


def arm_from_view(name: str, version: int, view: Any) -> Arm:
    """Reduce a ``PrototypeView`` (prototypes.spec) to an ``Arm``."""
    tasks = _shape_tasks(view)
    task_ids = {t.id for t in tasks}
    after: dict[str, list[str]] = {}
    end: list[str] = []
    scales: dict[str, tuple[int, int]] = {}
    has_comment = False
    for q in view.questions:
        if q.id == "comment":
            has_comment = True
            continue
        default = _QUESTION_MODEL.get(q.id, (0, 0, 0, (1, 5)))[3]
        scale = getattr(q, "scale", None)
        scales[q.id] = (int(scale[0]), int(scale[1])) if scale else default
        after_task = getattr(q, "after_task", None)
        if after_task and after_task in task_ids:
            after.setdefault(after_task, []).append(q.id)
        else:
            end.append(q.id)
    return Arm(name, int(version), tasks, after, end, scales, has_comment)


def _resolve(prototype: Any, version: int, variant: str | None) -> Any:
    try:
        return prototype.resolve(version, variant)
    except Exception:  # the prototype has no variant of that name: the version alone
        return prototype.resolve(version, None)


def design_from_spec(lab: Lab, spec: Any) -> PilotDesign:
    """A ``PilotDesign`` from an ``experiments.spec.ExperimentSpec`` and the lab's files."""
    from lab import read_stores
    from prototypes.library import load_prototype
    from sample_data.fleet import default_stores

    proto_path = lab.prototypes_dir / spec.prototype / "prototype.yaml"
    prototype = load_prototype(proto_path)
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
    if isinstance(stores, Mapping):
        store_variant = {s: v for v, ss in stores.items() for s in ss}
        store_list = list(store_variant)
    else:
        store_list = list(stores)
        if unit == "store":  # alternate stores over variants
            names = list(arms)
            store_variant = {s: names[i % len(names)] for i, s in enumerate(store_list)}
        else:
            store_variant = {}
    if unit == "session":
        store_variant = {}
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


# --- parameters -------------------------------------------------------------------------------


@dataclass
class ArmParams:
    """The variant's deviation from the baseline in model units (0 = same as baseline)."""

    success_delta: float = 0.0  # added to each task's success probability
    log_time: float = 0.0  # time on task × exp(log_time)
    misclick_log: float = 0.0  # misclick rate × exp(misclick_log)
    sat_shift: dict[str, float] = field(default_factory=dict)  # instrument -> latent shift

    def with_(self, key: str, value: float) -> ArmParams:
        new = ArmParams(self.success_delta, self.log_time, self.misclick_log, dict(self.sat_shift))
        if key == "task_success_rate":
            new.success_delta = value
        elif key == "time_on_task_s":
            new.log_time = value
        elif key == "misclick_rate":
            new.misclick_log = value
        else:
            new.sat_shift[key] = value
        return new


def validate_effects(effects: Mapping[str, float] | None) -> dict[str, float]:
    """Check effect names and values; an unknown name raises ``InvalidInputError``."""

    out: dict[str, float] = {}
    for name, value in (effects or {}).items():
        if name not in EFFECT_METRICS:
            raise InvalidInputError(
                f"unknown metric {name!r} in --effect; valid: {', '.join(EFFECT_METRICS)}"
            )
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise InvalidInputError(f"--effect {name}={value!r}: not a number") from None
        if not math.isfinite(number):
            raise InvalidInputError(f"--effect {name}={value!r}: must be finite")
        out[name] = number
    return out


# --- random streams ---------------------------------------------------------------------------

_STREAMS = (
    "consent", "drop", "succ", "kind", "steps", "detour", "misclick", "time_s", "time_t",
    "sat", "answer", "item", "seq", "comment", "reason",
)  # fmt: skip


def _streams(seed: int, *key: int) -> dict[str, np.random.Generator]:
    import numpy as np

    ss = np.random.SeedSequence([seed, *key])
    return {
        name: np.random.default_rng(child)
        for name, child in zip(_STREAMS, ss.spawn(len(_STREAMS)), strict=True)
    }


def _base_success(arm: Arm) -> np.ndarray:
    import numpy as np

    lengths = np.array([len(t.path) for t in arm.tasks], dtype=float)
    order = np.arange(len(arm.tasks))
    return np.clip(0.80 - 0.04 * (lengths - 2) - 0.04 * order, 0.45, 0.85)


# --- layer 1: what happens in each session ----------------------------------------------------


def _noise(arm: Arm, seed: int, key: tuple[int, ...], n: int) -> dict[str, np.ndarray]:
    """All random numbers ``_outcomes`` uses, one independent stream per quantity."""
    rs = _streams(seed, *key)
    t = len(arm.tasks)
    k = max((len(task.path) for task in arm.tasks), default=1)
    q = len(arm.end_questions)
    f4 = "float32"
    return {
        "consent": rs["consent"].random(n, dtype=f4),
        "drop": rs["drop"].random((n, t), dtype=f4),
        "succ": rs["succ"].random((n, t)),
        "kind": rs["kind"].random((n, t), dtype=f4),
        "steps": rs["steps"].random((n, t), dtype=f4),
        "detour": rs["detour"].random((n, t, k), dtype=f4),
        "misclick": rs["misclick"].random((n, t, k), dtype=f4),
        "time_s": rs["time_s"].standard_normal(n),
        "time_t": rs["time_t"].standard_normal((n, t)),
        "sat": rs["sat"].standard_normal(n),
        "answer": rs["answer"].random((n, q), dtype=f4),
        "item": rs["item"].standard_normal((n, q), dtype=f4),
        "seq_u": rs["seq"].random((n, t), dtype=f4),
        "seq_z": rs["seq"].standard_normal((n, t), dtype=f4),
        "comment": rs["comment"].random((n, 3)),
        "reason": rs["reason"].random(n, dtype=f4),
    }


def _outcomes(
    arm: Arm,
    params: ArmParams,
    base_p: np.ndarray,
    seed: int,
    key: tuple[int, ...],
    store_b: np.ndarray,
    store_a: np.ndarray,
    phone: np.ndarray,
    noise: dict[str, np.ndarray] | None = None,
) -> dict[str, Any]:
    """Outcomes of ``len(phone)`` sessions of one arm; random numbers depend only on the key.

    ``store_b`` / ``store_a`` are each session's store intercepts (success logit, satisfaction).
    ``noise`` (from ``_noise`` with the same key) lets calibration reuse the random numbers.
    """
    import numpy as np

    n = len(phone)
    nz = noise if noise is not None else _noise(arm, seed, key, n)
    n_tasks = len(arm.tasks)
    k_max = max((len(t.path) for t in arm.tasks), default=1)

    consent = nz["consent"] >= CONSENT_DECLINE
    u_drop, u_succ, u_kind, u_steps = nz["drop"], nz["succ"], nz["kind"], nz["steps"]
    u_det, u_mis = nz["detour"], nz["misclick"]
    z_sess, z_task = nz["time_s"], nz["time_t"]

    lam = np.where(phone, MISCLICK_LAMBDA["phone"], MISCLICK_LAMBDA["kiosk"]) * math.exp(
        params.misclick_log
    )
    abandon_share = np.where(phone, ABANDON_SHARE["phone"], ABANDON_SHARE["kiosk"])
    # Poisson(λ) by inversion of one uniform (so counts move monotonically with λ), capped at 3.
    e = np.exp(-lam)
    cdf0, cdf1 = e, e * (1 + lam)
    cdf2 = cdf1 + e * lam**2 / 2

    reached = np.zeros((n, n_tasks), bool)
    outcome = np.zeros((n, n_tasks), np.int8)  # 0 none, 1 success, 2 fail, 3 abandon
    steps = np.zeros((n, n_tasks), np.int16)
    detour = np.zeros((n, n_tasks, k_max), bool)
    mis = np.zeros((n, n_tasks, k_max), np.int8)
    duration = np.zeros((n, n_tasks))
    n_events = np.zeros((n, n_tasks), np.int32)
    dropped = np.zeros(n, bool)
    alive = consent.copy()
    time_scale = np.exp(params.log_time + 0.25 * z_sess)
    k_idx = np.arange(k_max)
    for t, task in enumerate(arm.tasks):
        if t > 0:
            leave = alive & (u_drop[:, t] < DROP_BETWEEN_TASKS)
            dropped |= leave
            alive &= ~leave
        reached[:, t] = alive
        p = np.clip(base_p[t] + params.success_delta, 1e-4, 1 - 1e-4)
        logit = math.log(p / (1 - p)) + store_b + PHONE_SUCCESS_LOGIT * phone
        success = alive & (u_succ[:, t] < 1 / (1 + np.exp(-logit)))
        abandon = alive & ~success & (u_kind[:, t] < abandon_share)
        failed = alive & ~success & ~abandon
        outcome[:, t] = np.where(success, 1, np.where(abandon, 3, np.where(failed, 2, 0)))
        last = len(task.path) - 1
        walk = np.where(success, last, np.floor(u_steps[:, t] * last)).astype(np.int16)
        walk[~alive] = 0
        steps[:, t] = walk
        on_screen = alive[:, None] & (k_idx[None, :] <= walk[:, None])
        on_screen &= ~(success[:, None] & (k_idx[None, :] == last))  # nothing happens at the goal
        has_alt = np.array([k < len(task.path) and bool(task.alternatives[k]) for k in k_idx])
        p_det = np.where(success, DETOUR_P["success"], DETOUR_P["fail"])
        detour[:, t] = on_screen & has_alt[None, :] & (u_det[:, t] < p_det[:, None])
        u = u_mis[:, t]
        m = (u >= cdf0[:, None]).astype(np.int8) + (u >= cdf1[:, None]) + (u >= cdf2[:, None])
        mis[:, t] = np.where(on_screen, m, 0)
        n_det = detour[:, t].sum(1)
        n_mis = mis[:, t].sum(1)
        work = STEP_SECONDS * (1 + walk) + 1.2 * n_mis + 6.0 * n_det + 8.0 * ~success + 2.0
        duration[:, t] = np.where(alive, time_scale * np.exp(0.35 * z_task[:, t]) * work, 0.0)
        n_events[:, t] = np.where(alive, 2 + n_mis + 4 * n_det + 2 * walk, 0)
        alive &= ~abandon

    completed = alive.copy()
    started = reached.sum(1)
    successes = (outcome == 1).sum(1)
    succ_share = np.where(started > 0, successes / np.maximum(started, 1), 0.0)

    # latent satisfaction and answers
    z = store_a + SUCCESS_SAT_LOADING * (succ_share - 0.65) + nz["sat"]
    answers: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # question -> (answered, value)
    end_qs = arm.end_questions
    if end_qs:
        u_ans = nz["answer"]
        start_p = np.where(phone, ANSWER_START["phone"], ANSWER_START["kiosk"])
        ok = np.concatenate(
            [(u_ans[:, :1] < start_p[:, None]), u_ans[:, 1:] < ANSWER_CONTINUE], axis=1
        )
        answered = np.logical_and.accumulate(ok, axis=1) & completed[:, None]
        noise = nz["item"]
        for j, q in enumerate(end_qs):
            answers[q] = (answered[:, j], _item(q, z, noise[:, j], params, arm.scales[q]))
    seq_answers: list[tuple[int, str, np.ndarray, np.ndarray]] = []
    if arm.after_task:
        u_seq, seq_noise = nz["seq_u"], nz["seq_z"]
        for t, task in enumerate(arm.tasks):
            for q in arm.after_task.get(task.id, []):
                finished = (outcome[:, t] == 1) | (outcome[:, t] == 2)
                lift = np.where(outcome[:, t] == 1, 0.6, -0.9) if q == "seq" else 0.0
                value = _item(q, z + lift, seq_noise[:, t], params, arm.scales[q])
                seq_answers.append((t, q, finished & (u_seq[:, t] < SEQ_ANSWER), value))

    u_c = nz["comment"]
    comment = consent & (u_c[:, 0] < np.where(completed, COMMENT_P, COMMENT_P / 3))
    idle_share = np.where(phone, IDLE_SHARE["phone"], IDLE_SHARE["kiosk"])
    reason = np.where(completed, 0, np.where(consent & (nz["reason"] < idle_share), 1, 2)).astype(
        np.int8
    )  # 0 completed, 1 idle_timeout, 2 abandoned
    return {
        "consent": consent,
        "reached": reached,
        "outcome": outcome,
        "steps": steps,
        "detour": detour,
        "mis": mis,
        "duration": duration,
        "n_events": n_events,
        "completed": completed,
        "dropped": dropped,
        "z": z,
        "answers": answers,
        "seq_answers": seq_answers,
        "comment": comment,
        "comment_u": u_c[:, 1],
        "reason": reason,
    }


def _item(q: str, z, noise, params: ArmParams, scale: tuple[int, int]):
    import numpy as np

    instrument = q.split(".")[0]
    mean, loading, sd, _ = _QUESTION_MODEL.get(q, (sum(scale) / 2, 0.8, 0.8, scale))
    shifted = z + params.sat_shift.get(instrument, 0.0)
    return np.clip(np.rint(mean + loading * shifted + sd * noise), scale[0], scale[1])


def session_metrics(out: dict[str, Any]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per-session metric values and validity, as ``experiments.metrics`` defines them."""
    import numpy as np

    started = out["reached"].sum(1)
    outcome = out["outcome"]
    res: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    res["task_success_rate"] = ((outcome == 1).sum(1) / np.maximum(started, 1), started > 0)
    fin = (outcome == 1) | (outcome == 2)
    n_fin = fin.sum(1)
    res["time_on_task_s"] = ((out["duration"] * fin).sum(1) / np.maximum(n_fin, 1), n_fin > 0)
    taps = out["steps"].sum(1) + 2 * out["detour"].sum((1, 2))
    mis = out["mis"].sum((1, 2))
    res["misclick_rate"] = (mis / np.maximum(mis + taps, 1), mis + taps > 0)
    res["completion_rate"] = (out["completed"].astype(float), np.ones(len(started), bool))
    ans = out["answers"]
    sus = [f"sus.q{i}" for i in range(1, 11)]
    if all(q in ans for q in sus):
        ok = np.logical_and.reduce([ans[q][0] for q in sus])
        total = sum(ans[q][1] - 1 if i % 2 else 5 - ans[q][1] for i, q in enumerate(sus, 1))
        res["sus"] = (2.5 * total, ok)
    if "umux_lite.q1" in ans and "umux_lite.q2" in ans:
        (a1, v1), (a2, v2) = ans["umux_lite.q1"], ans["umux_lite.q2"]
        res["umux_lite"] = ((v1 + v2 - 2) * 100 / 12, a1 & a2)
    # seq: the session's last answer counts (experiments.metrics takes the last per question)
    seq_vals = [(a, v) for _, q, a, v in out["seq_answers"] if q == "seq"]
    if "seq" in ans:
        seq_vals.append(ans["seq"])
    if seq_vals:
        value = np.full(len(started), np.nan)
        for a, v in seq_vals:
            value = np.where(a, v, value)
        res["seq"] = (value, ~np.isnan(value))
    if "nps" in ans:
        a, v = ans["nps"]
        res["nps"] = (np.where(v >= 9, 100.0, np.where(v >= 7, 0.0, -100.0)), a)
    if "csat" in ans:
        a, v = ans["csat"]
        res["csat"] = (np.where(v >= 4, 100.0, 0.0), a)
    if "ces" in ans:
        res["ces"] = (ans["ces"][1], ans["ces"][0])
    return res


def _means(out: dict[str, Any]) -> dict[str, float]:
    import numpy as np

    result = {}
    for name, (value, ok) in session_metrics(out).items():
        result[name] = float(np.mean(value[ok])) if ok.any() else float("nan")
    return result


# --- truth: Monte Carlo with common random numbers ------------------------------------------


@dataclass
class _Population:
    """A Monte-Carlo population of sessions: store effects and devices, fixed per seed."""

    store_b: np.ndarray
    store_a: np.ndarray
    phone: np.ndarray


def _icc_sds(icc: float) -> tuple[float, float]:
    if not 0 <= icc < 1:
        raise InvalidInputError(f"icc must be in [0, 1), not {icc}")
    ratio = icc / (1 - icc)
    return math.sqrt(ratio * math.pi**2 / 3), math.sqrt(ratio)


def _solve(f: Callable[[float], float], lo: float, hi: float, tol: float, what: str) -> float:
    """Root of an increasing function: secant steps from 0, else regula falsi (Illinois)."""

    x0, f0 = 0.0, f(0.0)
    if abs(f0) <= tol:
        return x0
    x1 = 0.05 * (hi - lo) * (-1 if f0 > 0 else 1)
    f1 = f(x1)
    for _ in range(8):
        if abs(f1) <= tol:
            return x1
        if f1 == f0:
            break
        x2 = x1 - f1 * (x1 - x0) / (f1 - f0)
        if not lo < x2 < hi:
            break
        x0, f0, x1, f1 = x1, f1, x2, f(x2)
    f_lo, f_hi = f(lo), f(hi)
    if f_lo > 0 or f_hi < 0:
        raise InvalidInputError(
            f"cannot plant {what}: the reachable range is {f_lo:+.4g} to {f_hi:+.4g} "
            "around the requested value; choose a smaller effect."
        )
    side = 0
    x = 0.0
    for _ in range(60):
        x = (lo * f_hi - hi * f_lo) / (f_hi - f_lo) if f_hi != f_lo else (lo + hi) / 2
        fx = f(x)
        if abs(fx) <= tol or hi - lo < 1e-9:
            return x
        if fx < 0:
            lo, f_lo = x, fx
            if side == -1:
                f_hi /= 2
            side = -1
        else:
            hi, f_hi = x, fx
            if side == 1:
                f_lo /= 2
            side = 1
    return x


def _calibrate(
    design: PilotDesign,
    effects: dict[str, float],
    pop: _Population,
    seed: int,
) -> tuple[dict[str, ArmParams], dict[str, dict[str, float]]]:
    """Variant parameters that make the true differences equal ``effects``; and the true means."""
    base = design.baseline
    arms = {name: _with_all_instruments(arm) for name, arm in design.arms.items()}
    base_p = _base_success(arms[base])
    key = (900,)

    n = len(pop.phone)
    noises = {name: _noise(arm, seed, key, n) for name, arm in arms.items()}

    def run(arm: Arm, params: ArmParams) -> dict[str, float]:
        out = _outcomes(arm, params, base_p_for(arm), seed, key, *_pop_args(pop), noises[arm.name])
        return _means(out)

    def base_p_for(arm: Arm):
        import numpy as np

        if len(arm.tasks) == len(base_p):
            return base_p
        return np.resize(base_p, len(arm.tasks))

    params: dict[str, ArmParams] = {base: ArmParams()}
    base_means = run(arms[base], params[base])
    for name, arm in arms.items():
        if name == base:
            continue
        p = ArmParams()
        # controlled metrics: always solved (0 when no effect was asked for)
        for metric in ("task_success_rate", "time_on_task_s", "misclick_rate"):
            target = effects.get(metric, 0.0)
            lo, hi, tol = _PARAM_RANGE[metric]
            if metric == "time_on_task_s":
                tol = max(tol, 1e-4 * base_means[metric])

            def f(x, metric=metric, target=target, p=p, arm=arm):
                return run(arm, p.with_(metric, x))[metric] - base_means[metric] - target

            p = p.with_(metric, _solve(f, lo, hi, tol, f"{metric}={target:g}"))
        # instruments asked for: solved one by one; the others share the mean latent shift
        asked = [m for m in INSTRUMENTS if m in effects]
        for metric in asked:
            lo, hi, tol = _PARAM_RANGE[metric]
            target = effects[metric]

            def g(x, metric=metric, target=target, p=p, arm=arm):
                return run(arm, p.with_(metric, x))[metric] - base_means[metric] - target

            p = p.with_(metric, _solve(g, lo, hi, tol, f"{metric}={target:g}"))
        shared = sum(p.sat_shift.values()) / len(asked) if asked else 0.0
        for metric in INSTRUMENTS:
            p.sat_shift.setdefault(metric, shared)
        params[name] = p
    means = {name: run(arms[name], params[name]) for name in arms}
    return params, means


_ALL_ITEMS: tuple[str, ...] = (
    *(f"sus.q{i}" for i in range(1, 11)), "umux_lite.q1", "umux_lite.q2", "nps", "csat", "ces",
)  # fmt: skip


def _with_all_instruments(arm: Arm) -> Arm:
    """The arm with every instrument asked at the end, for the truth only.

    An effect on an instrument the prototype does not ask (``--effect sus=4`` on a prototype
    without SUS) still has a meaning: the latent satisfaction shift that would move SUS by 4.
    Appended questions do not change the answers to the real ones (drop-out is cumulative).
    """
    asked_after = {q for qs in arm.after_task.values() for q in qs}
    extra = [q for q in _ALL_ITEMS if q not in arm.end_questions]
    if "seq" not in asked_after and "seq" not in arm.end_questions:
        extra.append("seq")
    scales = {**{q: _QUESTION_MODEL[q][3] for q in extra}, **arm.scales}
    return Arm(arm.name, arm.version, arm.tasks, arm.after_task, [*arm.end_questions, *extra],
               scales, arm.has_comment)  # fmt: skip


def measured_metrics(arm: Arm) -> list[str]:
    """The metrics a variant's prototype actually measures (others exist only in the truth)."""
    asked = set(arm.end_questions) | {q for qs in arm.after_task.values() for q in qs}
    out = ["task_success_rate", "time_on_task_s", "misclick_rate", "completion_rate"]
    if all(f"sus.q{i}" in asked for i in range(1, 11)):
        out.append("sus")
    if {"umux_lite.q1", "umux_lite.q2"} <= asked:
        out.append("umux_lite")
    out += [m for m in ("seq", "nps", "csat", "ces") if m in asked]
    return out


def _pop_args(pop: _Population) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return pop.store_b, pop.store_a, pop.phone


# --- time -------------------------------------------------------------------------------------


def _open_days(start: date, end: date) -> tuple[list[date], np.ndarray, np.ndarray]:
    """Shopping days (Mon–Sat) in [start, end], their weights and UTC offsets (ms) at noon."""
    from zoneinfo import ZoneInfo

    import numpy as np

    tz = ZoneInfo(TZ)
    days, weights, offsets = [], [], []
    d = start
    while d <= end:
        if d.weekday() < 6:
            days.append(d)
            weights.append(1.4 if d.weekday() == 5 else 1.0)
            noon = datetime(d.year, d.month, d.day, 12, tzinfo=tz)
            offsets.append(noon.utcoffset().total_seconds() * 1000)
        d += timedelta(days=1)
    if not days:
        raise InvalidInputError(f"the period {start}..{end} has no shopping day (Mon-Sat)")
    w = np.asarray(weights)
    return days, w / w.sum(), np.asarray(offsets)


def _offset_label(ms: float) -> str:
    minutes = int(round(ms / 60000))
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


# --- layer 2: events --------------------------------------------------------------------------


class _Vocab:
    """Strings (screens, elements, tasks, questions, texts, props) as integer codes."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self.index: dict[str, int] = {}

    def code(self, s: str | None) -> int:
        if s is None:
            return -1
        if s not in self.index:
            self.index[s] = len(self.items)
            self.items.append(s)
        return self.index[s]


_COLS = ("sess", "type", "t", "screen", "element", "task", "question", "x", "y", "value", "text",
         "props")  # fmt: skip
_TYPE_CODE: dict[str, int] = {}


class _Buffer:
    """Column pieces of one chunk's events, concatenated once at the end."""

    def __init__(self) -> None:
        self.parts: dict[str, list] = {c: [] for c in _COLS}

    def add(self, sess, type_: str, t, **cols) -> None:
        import numpy as np

        n = len(sess)
        if n == 0:
            return
        self.parts["sess"].append(sess)
        self.parts["type"].append(np.full(n, _TYPE_CODE[type_], np.int8))
        self.parts["t"].append(t)
        for c in ("screen", "element", "task", "question", "text", "props"):
            v = cols.get(c, -1)
            self.parts[c].append(v if isinstance(v, np.ndarray) else np.full(n, v, np.int32))
        for c in ("x", "y", "value"):
            v = cols.get(c, np.nan)
            self.parts[c].append(v if isinstance(v, np.ndarray) else np.full(n, v, float))

    def arrays(self) -> dict[str, np.ndarray]:
        import numpy as np

        return {c: np.concatenate(p) for c, p in self.parts.items()}


_HEX_PAIRS = None  # 256 x 2 ASCII bytes: "00".."ff"
_DIGIT_TABLES: dict[str, Any] = {}


def _hex_pairs():
    import numpy as np

    global _HEX_PAIRS
    if _HEX_PAIRS is None:
        _HEX_PAIRS = np.frombuffer("".join(f"{i:02x}" for i in range(256)).encode(), "S2")
        _HEX_PAIRS = _HEX_PAIRS.view(np.uint8).reshape(256, 2)
    return _HEX_PAIRS


def _fixed_strings(parts: list[np.ndarray]) -> pa.Array:
    """Concatenate per-row byte blocks (each ``(n, w)`` uint8) into one string array."""
    import numpy as np
    import pyarrow as pa

    out = np.concatenate(parts, axis=1)
    n, width = out.shape
    offsets = pa.py_buffer(np.arange(0, (n + 1) * width, width, dtype=np.int32))
    return pa.Array.from_buffers(pa.string(), n, [None, offsets, pa.py_buffer(out)])


def _uuid4_strings(rng: np.random.Generator, n: int) -> pa.Array:
    """``n`` random UUIDv4 strings from the generator's bytes (no Python loop)."""
    import numpy as np

    raw = np.frombuffer(rng.bytes(16 * n), np.uint8).reshape(n, 16).copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    hexed = _hex_pairs()[raw].reshape(n, 32)
    dash = np.full((n, 1), ord("-"), np.uint8)
    return _fixed_strings(
        [hexed[:, 0:8], dash, hexed[:, 8:12], dash, hexed[:, 12:16], dash, hexed[:, 16:20], dash,
         hexed[:, 20:32]]
    )  # fmt: skip


def _table(name: str, size: int, fmt: Callable[[int], str]) -> np.ndarray:
    import numpy as np

    if name not in _DIGIT_TABLES:
        text = "".join(fmt(i) for i in range(size)).encode()
        _DIGIT_TABLES[name] = np.frombuffer(text, np.uint8).reshape(size, -1)
    return _DIGIT_TABLES[name]


def _iso_strings(local_ms: np.ndarray, offset_ms: np.ndarray) -> pa.Array:
    """ISO-8601 strings ``YYYY-MM-DDTHH:MM:SS.mmm+01:00`` from lookup tables (no Python loop)."""
    import numpy as np

    day, ms = np.divmod(local_ms, 86_400_000)
    days, day_inv = np.unique(day, return_inverse=True)
    day_labels = "".join(f"{np.datetime64(int(d), 'D')}T" for d in days).encode()
    day_table = np.frombuffer(day_labels, np.uint8).reshape(len(days), 11)
    clock = _table("clock", 86_400, lambda s: f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}.")
    millis = _table("millis", 1000, lambda m: f"{m:03d}")
    offs, off_inv = np.unique(offset_ms, return_inverse=True)
    off_table = np.frombuffer("".join(_offset_label(o) for o in offs).encode(), np.uint8)
    return _fixed_strings(
        [day_table[day_inv], clock[ms // 1000], millis[ms % 1000],
         off_table.reshape(len(offs), 6)[off_inv]]
    )  # fmt: skip


def _element_xy(element: str) -> tuple[float, float]:
    """A stable screen position for an element id (the prototype has no coordinates)."""
    if element == "back":
        return 0.06, 0.05
    h = hashlib.blake2b(element.encode(), digest_size=4).digest()
    return 0.15 + 0.7 * h[0] / 255, 0.2 + 0.7 * h[1] / 255


@dataclass
class _ArmCodes:
    start: list[int]
    paths: list[list[int]]
    forward: list[list[int]]
    alt_el: list[list[np.ndarray]]
    alt_tg: list[list[np.ndarray]]
    task: list[int]


def _encode_arm(arm: Arm, vocab: _Vocab) -> _ArmCodes:
    import numpy as np

    codes = _ArmCodes([], [], [], [], [], [])
    for t in arm.tasks:
        codes.start.append(vocab.code(t.start_screen))
        codes.paths.append([vocab.code(s) for s in t.path])
        codes.forward.append([vocab.code(e) for e in t.forward])
        codes.alt_el.append([np.array([vocab.code(e) for e, _ in a], np.int32)
                             for a in t.alternatives])  # fmt: skip
        codes.alt_tg.append([np.array([vocab.code(s) for _, s in a], np.int32)
                             for a in t.alternatives])  # fmt: skip
        codes.task.append(vocab.code(t.id))
    return codes


@dataclass
class _Context:
    design: PilotDesign
    params: dict[str, ArmParams]
    base_p: dict[str, np.ndarray]
    vocab: _Vocab
    codes: dict[str, _ArmCodes]
    store_ids: list[str]
    store_weights: np.ndarray
    store_b: np.ndarray
    store_a: np.ndarray
    store_phone: np.ndarray
    store_arm: np.ndarray  # unit=store: arm index per store, else -1
    days: list[date]
    day_p: np.ndarray
    day_offset: np.ndarray
    comment_codes: dict[tuple[str, str], np.ndarray]
    seed: int
    element_x: Any = None  # screen position per vocabulary code (filled on use)
    element_y: Any = None


def _chunk_table(ctx: _Context, chunk: int, n: int) -> pa.Table:
    import numpy as np
    import pyarrow as pa

    from feedback.events import FIELDS

    design = ctx.design
    arm_names = list(design.arms)
    rng = np.random.default_rng(np.random.SeedSequence([ctx.seed, 1, chunk]))
    session_ids = _uuid4_strings(rng, n)
    store = rng.choice(len(ctx.store_ids), size=n, p=ctx.store_weights)
    by_store = design.unit == "store"
    arm_idx = ctx.store_arm[store] if by_store else _assign(design, session_ids, rng)
    phone = rng.random(n) < ctx.store_phone[store]
    english = rng.random(n) < EN_SHARE
    day = rng.choice(len(ctx.days), size=n, p=ctx.day_p)
    hour = np.where(rng.random(n) < 0.45, rng.normal(13.0, 1.3, n), rng.normal(17.0, 1.3, n))
    hour = np.clip(hour, OPEN_HOUR, CLOSE_HOUR - 0.4)
    day_ms = np.array(
        [(d - date(1970, 1, 1)).days * 86_400_000 for d in ctx.days], dtype=np.float64
    )
    offset = ctx.day_offset[day]
    clock = day_ms[day] + hour * 3_600_000 - offset  # UTC ms

    buf = _Buffer()
    v = ctx.vocab
    props_start = {
        (dev, loc): v.code(json.dumps({"locale": loc, "entry": "qr" if dev else "kiosk"}))
        for dev in (False, True)
        for loc in ("de", "en")
    }
    p_granted, p_declined = v.code('{"granted": true}'), v.code('{"granted": false}')
    p_reason = [v.code(json.dumps({"reason": r})) for r in ("completed", "idle_timeout",
                                                               "abandoned")]  # fmt: skip
    p_empty = v.code("{}")
    q_comment = v.code("comment")
    el_back = v.code("back")

    for a, name in enumerate(arm_names):
        idx = np.flatnonzero(arm_idx == a)
        if len(idx) == 0:
            continue
        arm = design.arms[name]
        out = _outcomes(
            arm,
            ctx.params[name],
            ctx.base_p[name],
            ctx.seed,
            (2, chunk, a),
            ctx.store_b[store[idx]],
            ctx.store_a[store[idx]],
            phone[idx],
        )
        codes = ctx.codes[name]
        consent_props = (p_granted, p_declined)
        _walk_arm(buf, ctx, arm, codes, out, idx, clock, phone, english, rng, props_start,
                  consent_props, p_reason, q_comment, el_back)  # fmt: skip

    cols = buf.arrays()
    # by session, then time; emission order breaks ties (stable sort)
    key = cols["sess"].astype(np.int64) << 36 | (cols["t"] - cols["t"].min()).astype(np.int64)
    order = np.argsort(key, kind="stable")
    cols = {c: a[order] for c, a in cols.items()}
    m = len(order)
    sess = cols["sess"]

    def dict_col(codes_: np.ndarray, items: Sequence[str]) -> pa.Array:
        ind = pa.array(codes_.astype(np.int32), mask=codes_ < 0)
        return pa.DictionaryArray.from_arrays(ind, pa.array(items, pa.string()))

    def per_session(values: Sequence[str], codes_: np.ndarray) -> pa.Array:
        return dict_col(codes_[sess], values)

    ts = _iso_strings(np.rint(cols["t"] + offset[sess]).astype(np.int64), offset[sess])
    versions = np.array([design.arms[a].version for a in arm_names], np.int32)
    columns = {
        "event_id": _uuid4_strings(rng, m),
        "ts": ts,
        "session_id": session_ids.take(pa.array(sess)),
        "experiment_id": per_session([design.experiment_id or ""], np.zeros(n, np.int32))
        if design.experiment_id
        else pa.nulls(m, pa.string()),
        "prototype_id": per_session([design.prototype_id], np.zeros(n, np.int32)),
        "prototype_version": pa.array(versions[arm_idx][sess]),
        "variant": per_session(arm_names, arm_idx.astype(np.int32)),
        "store_id": per_session(ctx.store_ids, store.astype(np.int32)),
        "device": per_session(["kiosk", "phone"], phone.astype(np.int32)),
        "type": dict_col(cols["type"].astype(np.int32), list(_TYPE_CODE)),
        "screen": dict_col(cols["screen"], v.items),
        "element": dict_col(cols["element"], v.items),
        "task": dict_col(cols["task"], v.items),
        "question": dict_col(cols["question"], v.items),
        "x": _floats(np.round(cols["x"], 4)),
        "y": _floats(np.round(cols["y"], 4)),
        "value": _floats(cols["value"]),
        "text": dict_col(cols["text"], v.items),
        "props": dict_col(np.where(cols["props"] < 0, p_empty, cols["props"]), v.items),
    }
    return pa.table([columns[f] for f in FIELDS], names=list(FIELDS))


def _floats(values: np.ndarray) -> pa.Array:
    import numpy as np
    import pyarrow as pa

    return pa.array(values, mask=np.isnan(values))


def _assign(design: PilotDesign, session_ids: pa.Array, rng: np.random.Generator) -> np.ndarray:
    """unit=session: the experiment's hash assignment (as the runtime does it)."""
    import numpy as np

    names = list(design.arms)
    try:
        from experiments.assignment import assign_many
    except ImportError:  # pragma: no cover - experiments is part of the distribution
        edges = np.cumsum([design.allocation[a] for a in names])
        return np.minimum(np.searchsorted(edges, rng.random(len(session_ids))), len(names) - 1)
    chosen = assign_many(design.experiment_id or "", session_ids.to_pylist(), design.allocation)
    lookup = {a: i for i, a in enumerate(names)}
    return np.array([lookup[c] for c in chosen], dtype=np.int64)


def _walk_arm(buf, ctx, arm, codes, out, idx, clock, phone, english, rng, props_start,
              consent_props, p_reason, q_comment, el_back) -> None:  # fmt: skip
    """Emit the events of one arm's sessions (``idx`` into the chunk) step by step."""
    import numpy as np

    v = ctx.vocab
    n = len(idx)
    t = clock[idx].copy()
    ph = phone[idx]
    en = english[idx]
    start_props = np.array([props_start[(bool(p), "en" if e else "de")]
                            for p, e in ((False, False), (False, True), (True, False),
                                         (True, True))], np.int32)  # fmt: skip
    buf.add(idx, "session_start", t.copy(), props=start_props[ph * 2 + en])
    t += rng.uniform(2_000, 6_000, n)
    consent = out["consent"]
    granted = np.where(consent, consent_props[0], consent_props[1]).astype(np.int32)
    buf.add(idx, "consent", t.copy(), value=consent.astype(float), props=granted)
    after_by_task: dict[int, list] = {}
    for ti, q, answered, value in out["seq_answers"]:
        after_by_task.setdefault(ti, []).append((q, answered, value))

    for ti in range(len(arm.tasks)):
        on = np.flatnonzero(out["reached"][:, ti])
        if len(on) == 0:
            continue
        t[on] += rng.uniform(3_000, 8_000, len(on))
        t0 = t[on].copy()
        dur = out["duration"][on, ti] * 1000
        nev = out["n_events"][on, ti].astype(float)
        j = np.zeros(len(on))
        steps = out["steps"][on, ti]
        task_code = codes.task[ti]
        path = codes.paths[ti]
        sess = idx[on]

        def when(mask, j=j, t0=t0, dur=dur, nev=nev, on=on):
            j[mask] += 1
            jit = rng.random(int(mask.sum())) * 0.4
            return t0[mask] + dur[mask] * (j[mask] - jit) / nev[mask]

        buf.add(sess, "task_start", t0.copy(), screen=codes.start[ti], task=task_code)
        all_on = np.ones(len(on), bool)
        buf.add(sess, "screen_view", when(all_on), screen=path[0], task=task_code)
        for k, screen in enumerate(path):
            here = steps >= k
            if not here.any():
                break
            mis_k = out["mis"][on, ti, k] if k < out["mis"].shape[2] else np.zeros(len(on))
            for r in range(int(mis_k.max(initial=0))):
                mm = here & (mis_k > r)
                c = int(mm.sum())
                if c:
                    buf.add(sess[mm], "misclick", when(mm), screen=screen, task=task_code,
                            x=rng.uniform(0.02, 0.98, c), y=rng.uniform(0.02, 0.98, c))  # fmt: skip
            dd = here & out["detour"][on, ti, k]
            c = int(dd.sum())
            if c:
                alt_el, alt_tg = codes.alt_el[ti][k], codes.alt_tg[ti][k]
                pick = rng.integers(0, len(alt_el), c)
                el, tg = alt_el[pick], alt_tg[pick]
                x, y = _xy(ctx, el, rng)
                buf.add(sess[dd], "tap", when(dd), screen=screen, element=el, task=task_code,
                        x=x, y=y)  # fmt: skip
                buf.add(sess[dd], "screen_view", when(dd), screen=tg, task=task_code)
                bx, by = _xy(ctx, np.full(c, el_back, np.int32), rng)
                buf.add(sess[dd], "tap", when(dd), screen=tg, element=el_back, task=task_code,
                        x=bx, y=by)  # fmt: skip
                buf.add(sess[dd], "screen_view", when(dd), screen=screen, task=task_code)
            fw = here & (steps > k)
            c = int(fw.sum())
            if c:
                el = codes.forward[ti][k]
                x, y = _xy(ctx, np.full(c, el, np.int32), rng)
                buf.add(sess[fw], "tap", when(fw), screen=screen, element=el, task=task_code,
                        x=x, y=y)  # fmt: skip
                buf.add(sess[fw], "screen_view", when(fw), screen=path[k + 1], task=task_code)
        kind = out["outcome"][on, ti]
        end_screen = np.asarray(path, np.int32)[steps]
        t_end = t0 + dur
        for code, type_ in ((1, "task_success"), (2, "task_fail"), (3, "task_abandon")):
            mk = kind == code
            if mk.any():
                buf.add(sess[mk], type_, t_end[mk], screen=end_screen[mk], task=task_code,
                        value=np.round(dur[mk] / 1000, 3))  # fmt: skip
        t[on] = t_end
        for q, answered, value in after_by_task.get(ti, []):
            aa = np.flatnonzero(answered[on])
            if len(aa):
                pos = on[aa]
                t[pos] += rng.uniform(3_000, 8_000, len(aa))
                buf.add(idx[pos], "answer", t[pos].copy(), task=task_code, question=v.code(q),
                        value=value[pos])  # fmt: skip

    for q in arm.end_questions:
        answered, value = out["answers"][q]
        aa = np.flatnonzero(answered)
        if len(aa):
            lo, hi = (1_500, 4_000) if q.startswith("sus.") else (2_500, 6_000)
            t[aa] += rng.uniform(lo, hi, len(aa))
            buf.add(idx[aa], "answer", t[aa].copy(), question=v.code(q), value=value[aa])
    cc = np.flatnonzero(out["comment"])
    if len(cc):
        t[cc] += rng.uniform(15_000, 45_000, len(cc))
        z = out["z"][cc]
        mood = np.where(z < -0.5, "negative", np.where(z > 0.5, "positive", "neutral"))
        text = np.empty(len(cc), np.int32)
        u = out["comment_u"][cc]
        for (loc, md), pool in ctx.comment_codes.items():
            mk = (mood == md) & (en[cc] == (loc == "en"))
            if mk.any():
                text[mk] = pool[np.minimum((u[mk] * len(pool)).astype(int), len(pool) - 1)]
        buf.add(idx[cc], "comment", t[cc].copy(), question=q_comment, text=text)
    reason = out["reason"]
    gap = np.select([reason == 0, reason == 1], [1_000.0, 60_000.0], 2_000.0) + rng.uniform(
        0, 1_000, n
    )
    t += gap
    buf.add(idx, "session_end", t.copy(), props=np.asarray(p_reason, np.int32)[reason])


def _xy(ctx: _Context, el: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    import numpy as np

    cx, cy = ctx.element_x, ctx.element_y
    if len(cx) < len(ctx.vocab.items):  # positions for codes added since the last call
        extra = [_element_xy(s) for s in ctx.vocab.items[len(cx) :]]
        ctx.element_x = cx = np.concatenate([cx, [e[0] for e in extra]])
        ctx.element_y = cy = np.concatenate([cy, [e[1] for e in extra]])
    c = len(el)
    x = np.clip(cx[el] + rng.normal(0, 0.02, c), 0, 1)
    y = np.clip(cy[el] + rng.normal(0, 0.015, c), 0, 1)
    return x, y


# --- the public entry point -------------------------------------------------------------------


def simulate_pilot(
    target: Any,
    experiment: Any,
    sessions: int = 2_000,
    seed: int = 7,
    effects: Mapping[str, float] | None = None,
    progress: Callable[[int, int], None] | None = None,
    *,
    icc: float = 0.03,
    chunk_sessions: int = CHUNK_SESSIONS,
    truth_path: Path | str | None = None,
    mc_sessions: int = MC_SESSIONS,
) -> SimResult:
    """Simulate ``sessions`` pilot sessions and write them as spool files plus the truth.

    ``target``: a ``Lab`` (spool into ``lab.spool_dir``, truth to ``lab.truth_path``) or a
    spool folder (truth to ``truth_path`` if given). ``experiment``: an ``ExperimentSpec`` (needs
    a lab), a ``PilotDesign``, or a tuple ``(views, variants, stores, unit)`` for
    ``make_design``. ``effects``: true differences of every non-baseline variant to the
    baseline, in each metric's own units (``task_success_rate=0.05``, ``sus=4``,
    ``time_on_task_s=-3``); metrics not named get no planted effect. ``progress(done, total)``
    is called after each chunk. Never opens the database.
    """
    import time as _time

    import numpy as np

    from feedback.events import EVENT_TYPES
    from feedback.sink import write_batch
    from lab import Lab

    started = _time.perf_counter()
    if sessions < 1:
        raise InvalidInputError(f"sessions must be at least 1, not {sessions}")
    effects_ = validate_effects(effects)
    if isinstance(target, Lab):
        spool_dir, truth_file = target.spool_dir, Path(truth_path or target.truth_path)
    else:
        spool_dir, truth_file = Path(target), Path(truth_path) if truth_path else None
    if isinstance(experiment, PilotDesign):
        design = experiment
    elif isinstance(experiment, tuple):
        design = make_design(*experiment)
    else:
        if not isinstance(target, Lab):
            raise InvalidInputError("an experiment spec needs a lab to find its prototype")
        design = design_from_spec(target, experiment)
    for name, arm in design.arms.items():
        if not arm.tasks:
            raise InvalidInputError(f"variant {name}: the prototype has no tasks to simulate")
    missing = [s for s in design.stores if design.unit == "store" and s not in design.store_variant]
    if not design.stores or missing:
        raise InvalidInputError("the design lists no stores (or stores without a variant)")

    if not _TYPE_CODE:
        _TYPE_CODE.update({t: i for i, t in enumerate(EVENT_TYPES)})
    sd_b, sd_a = _icc_sds(icc)
    arm_names = list(design.arms)

    # stores: effects, traffic, device mix
    srng = np.random.default_rng(np.random.SeedSequence([seed, 3]))
    store_ids = list(design.stores)
    k = len(store_ids)
    store_b = srng.normal(0, sd_b, k)
    store_a = srng.normal(0, sd_a, k)
    fmts = [design.store_formats.get(s, "city") for s in store_ids]
    sizes = np.array([design.store_sizes.get(s, 1200) for s in store_ids], float)
    traffic = np.sqrt(sizes) * np.array([FORMAT_TRAFFIC.get(f, 1.0) for f in fmts])
    traffic *= srng.lognormal(0, 0.3, k)
    store_weights = traffic / traffic.sum()
    store_phone = np.array([PHONE_SHARE.get(f, 0.5) for f in fmts])
    store_arm = np.array(
        [arm_names.index(design.store_variant[s]) if s in design.store_variant else -1
         for s in store_ids]
    )  # fmt: skip

    # truth: population (store effects integrated out), then conditional on these stores
    mrng = np.random.default_rng(np.random.SeedSequence([seed, 4]))
    pop_store = mrng.choice(k, size=mc_sessions, p=store_weights)
    pop = _Population(
        store_b=mrng.normal(0, sd_b, mc_sessions),
        store_a=mrng.normal(0, sd_a, mc_sessions),
        phone=mrng.random(mc_sessions) < store_phone[pop_store],
    )
    params, true_means = _calibrate(design, effects_, pop, seed)
    base_p = {a: _base_success(design.arms[design.baseline]) for a in arm_names}
    for a in arm_names:
        if len(design.arms[a].tasks) != len(base_p[a]):
            base_p[a] = np.resize(base_p[a], len(design.arms[a].tasks))
    conditional: dict[str, dict[str, float]] = {}
    for a_i, a in enumerate(arm_names):
        if design.unit == "store":
            own = store_arm == a_i
            w = np.where(own, store_weights, 0)
            w = w / w.sum()
        else:
            w = store_weights
        cs = mrng.choice(k, size=mc_sessions, p=w)
        out = _outcomes(design.arms[a], params[a], base_p[a], seed, (901,), store_b[cs],
                        store_a[cs], mrng.random(mc_sessions) < store_phone[cs])  # fmt: skip
        conditional[a] = _means(out)

    # events
    from sample_data.comments import flat_bank

    vocab = _Vocab()
    texts, slices = flat_bank()
    text_codes = np.array([vocab.code(s) for s in texts], np.int32)
    comment_codes = {key: text_codes[s0:s1] for key, (s0, s1) in slices.items()}
    codes = {a: _encode_arm(design.arms[a], vocab) for a in arm_names}
    days, day_p, day_offset = _open_days(design.start, design.end)
    ctx = _Context(
        design, params, base_p, vocab, codes, store_ids, store_weights, store_b, store_a,
        store_phone, store_arm, days, day_p, day_offset, comment_codes, seed,
    )  # fmt: skip
    ctx.element_x, ctx.element_y = np.zeros(0), np.zeros(0)

    files: list[Path] = []
    events = 0
    done = 0
    chunk = 0
    tag = f"sim-{design.experiment_id or design.prototype_id}-s{seed}"
    while done < sessions:
        n = min(chunk_sessions, sessions - done)
        table = _chunk_table(ctx, chunk, n)
        files.append(write_batch(spool_dir, table, name=f"{tag}-{chunk:04d}"))
        events += table.num_rows
        done += n
        chunk += 1
        if progress:
            progress(done, sessions)

    truth = _truth(design, seed, sessions, effects_, icc, params, true_means, conditional,
                   store_ids, store_b, store_a, store_weights, mc_sessions)  # fmt: skip
    truth["events"] = events
    truth["files"] = [f.name for f in files]
    if truth_file is not None:
        truth_file.parent.mkdir(parents=True, exist_ok=True)
        truth_file.write_text(json.dumps(truth, indent=2, ensure_ascii=False), encoding="utf-8")
    return SimResult(files, sessions, events, truth, _time.perf_counter() - started, truth_file)


def _truth(design, seed, sessions, effects, icc, params, true_means, conditional, store_ids,
           store_b, store_a, store_weights, mc_sessions) -> dict[str, Any]:  # fmt: skip
    base = design.baseline
    metrics = [m for m in METRICS if all(m in true_means[a] for a in design.arms)]

    def r(x: float) -> float:
        return round(float(x), 6)

    return {
        "seed": seed,
        "sessions": sessions,
        "experiment_id": design.experiment_id,
        "prototype_id": design.prototype_id,
        "unit": design.unit,
        "baseline": base,
        "variants": {a: {"version": arm.version} for a, arm in design.arms.items()},
        "allocation": design.allocation,
        "stores": (
            {a: [s for s in store_ids if design.store_variant.get(s) == a] for a in design.arms}
            if design.unit == "store"
            else list(store_ids)
        ),
        "period": {"start": design.start.isoformat(), "end": design.end.isoformat(), "tz": TZ},
        "effects_requested": effects,
        "icc": {"success_logit": icc, "satisfaction": icc},
        "store_effects": {
            s: {"success_logit": r(b), "satisfaction": r(a), "traffic_share": r(w)}
            for s, b, a, w in zip(store_ids, store_b, store_a, store_weights, strict=True)
        },
        "parameters": {
            a: {
                "success_delta": r(p.success_delta),
                "time_factor": r(math.exp(p.log_time)),
                "misclick_factor": r(math.exp(p.misclick_log)),
                "satisfaction_shift": {k: r(v) for k, v in sorted(p.sat_shift.items())},
            }
            for a, p in params.items()
        },
        "measured_metrics": [
            m for m in METRICS if all(m in measured_metrics(arm) for arm in design.arms.values())
        ],
        "true_means": {m: {a: r(true_means[a][m]) for a in design.arms} for m in metrics},
        "true_effects": {
            m: {a: r(true_means[a][m] - true_means[base][m]) for a in design.arms if a != base}
            for m in metrics
        },
        "conditional_means": {
            m: {a: r(conditional[a][m]) for a in design.arms}
            for m in metrics
            if all(m in conditional[a] for a in design.arms)
        },
        "truth_method": (
            f"Monte Carlo over {mc_sessions} sessions per variant with common random numbers; "
            "true_means integrate the store effects out (population), conditional_means use "
            "the drawn store effects and this design's store mix. Metric definitions as in "
            "experiments.metrics (per-session values, mean over sessions with a value)."
        ),
    }
