"""The behaviour model: what happens in each simulated session, vectorised with numpy.

``outcomes`` draws, for many sessions of one variant at once, consent, which tasks each session
reaches, success / fail / abandon, steps walked, detours, misclicks, time on task, latent
satisfaction and the questionnaire answers (``sample_data.answers``). Loops run per task and
screen step, never per session. Every random number comes from ``draw_noise``: one independent
stream per quantity, so calibration can rerun the model on the same numbers.

The model, in brief
    * Stores have random intercepts on the task-success logit and on latent satisfaction, with
      variances from the configured ICC (latent scale; default 0.03). Sessions go to stores by
      traffic (floor space, format, a seeded lognormal factor); the device (kiosk or phone)
      depends on the store format.
    * Task t succeeds with ``expit(logit(p_t + δ_v) + b_store − 0.15·phone)``; p_t falls with the
      length of the task's expected path. A failed task ends at its time limit (task_fail) or
      is abandoned, in 30 % (kiosk) or 40 % (phone) of cases (always when it has no time
      limit: only the runtime's timer ends a run with task_fail). Half of the abandons tap
      "I give up" and go on to the task's questions and the next task (as the runtime does);
      the other half walk away, which ends the session (a kiosk then times out: the task ends
      as ``task_abandon`` with reason ``idle``; a phone page that was closed writes nothing
      more). Between tasks some sessions just leave.
    * Time on task ∝ steps, detours and misclicks, times lognormal session and task noise, times
      ``exp(τ_v)``. Misclicks per screen are Poisson with rate ``λ_device · exp(μ_v)``.
    * Latent satisfaction ``z = a_store + 0.7·(success share − 0.65) + ε``; each instrument
      reads ``z + shift_v[instrument]`` through its items (``sample_data.answers``).
    * Only completed sessions answer the end questionnaire; they start it with some
      probability and may drop out item by item (so incomplete SUS happens).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from errors import InvalidInputError
from feedback.catalogue import CATALOGUE, Catalogue
from sample_data.answers import (
    Answers,
    Satisfaction,
    TaskAnswers,
    end_answers,
    instrument_scores,
    task_answers,
)
from sample_data.design import Arm, ArmProblem, PilotDesign, TaskShape

CONSENT_DECLINE = 0.04
DROP_BETWEEN_TASKS = 0.06
PHONE_SUCCESS_LOGIT = -0.15
ABANDON_SHARE = {"kiosk": 0.30, "phone": 0.40}
GIVE_UP_SHARE = 0.5  # of abandoned tasks: "I give up" tapped (the session goes on), else left
# Of sessions that end early: the page timed out (idle) rather than closed. A kiosk always
# times out (the runtime's idle timer); a phone's page may be closed, which writes nothing.
IDLE_SHARE = {"kiosk": 1.0, "phone": 0.30}
DETOUR_P = {"success": 0.07, "fail": 0.30}
MISCLICK_LAMBDA = {"kiosk": 0.10, "phone": 0.16}  # per screen
STEP_SECONDS = 3.0
SUCCESS_SAT_LOADING = 0.7
COMMENT_P = 0.12
PHONE_SHARE = {"flagship": 0.35, "city": 0.45, "mall": 0.55, "outlet": 0.60}
FORMAT_TRAFFIC = {"flagship": 1.6, "city": 1.0, "mall": 1.2, "outlet": 0.8}

BEHAVIOUR_METRICS: tuple[str, ...] = (
    "task_success_rate",
    "time_on_task_s",
    "misclick_rate",
    "completion_rate",
)
"""The catalogue's behavioural metrics this model computes per session (``session_metrics``)."""


@dataclass
class ArmParams:
    """The variant's deviation from the baseline in model units (0 = same as baseline)."""

    success_delta: float = 0.0  # added to each task's success probability
    log_time: float = 0.0  # time on task × exp(log_time)
    misclick_log: float = 0.0  # misclick rate × exp(misclick_log)
    sat_shift: dict[str, float] = field(default_factory=dict)  # instrument -> latent shift

    def with_(self, key: str, value: float) -> ArmParams:
        """A copy with the lever of metric ``key`` set to ``value`` (instruments: their shift)."""
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


@dataclass(frozen=True)
class SessionMix:
    """Per session: its store's intercepts and its device."""

    store_b: np.ndarray  # success-logit intercept
    store_a: np.ndarray  # latent-satisfaction intercept
    phone: np.ndarray  # bool

    def __len__(self) -> int:
        return len(self.phone)


@dataclass(frozen=True)
class StoreEffects:
    """The design's stores as drawn for one seed: intercepts, traffic, device mix, variant."""

    ids: list[str]
    success_logit: np.ndarray
    satisfaction: np.ndarray
    weights: np.ndarray  # share of the pilot's traffic
    phone: np.ndarray  # share of sessions on a phone
    arm: np.ndarray  # unit=store: index of the store's variant, else -1
    sds: tuple[float, float]  # between-store sd of (success logit, satisfaction)

    def mix(self, store: np.ndarray, phone: np.ndarray) -> SessionMix:
        """The ``SessionMix`` of sessions in stores ``store`` (indices) on devices ``phone``."""
        return SessionMix(self.success_logit[store], self.satisfaction[store], phone)


def icc_sds(icc: float) -> tuple[float, float]:
    """Between-store sds on the success logit and on latent satisfaction for an ICC."""
    if not 0 <= icc < 1:
        raise InvalidInputError(f"icc must be in [0, 1), not {icc}")
    ratio = icc / (1 - icc)
    return math.sqrt(ratio * math.pi**2 / 3), math.sqrt(ratio)


def draw_stores(design: PilotDesign, seed: int, icc: float) -> StoreEffects:
    """Each store's random effects and traffic, fixed per seed."""
    sd_b, sd_a = icc_sds(icc)
    arm_names = list(design.arms)
    srng = np.random.default_rng(np.random.SeedSequence([seed, 3]))
    ids = list(design.stores)
    k = len(ids)
    store_b = srng.normal(0, sd_b, k)
    store_a = srng.normal(0, sd_a, k)
    fmts = [design.store_formats.get(s, "city") for s in ids]
    sizes = np.array([design.store_sizes.get(s, 1200) for s in ids], float)
    traffic = np.sqrt(sizes) * np.array([FORMAT_TRAFFIC.get(f, 1.0) for f in fmts])
    traffic *= srng.lognormal(0, 0.3, k)
    arm = [arm_names.index(design.store_variant[s]) if s in design.store_variant else -1
           for s in ids]  # fmt: skip
    return StoreEffects(
        ids=ids,
        success_logit=store_b,
        satisfaction=store_a,
        weights=traffic / traffic.sum(),
        phone=np.array([PHONE_SHARE.get(f, 0.5) for f in fmts]),
        arm=np.array(arm),
        sds=(sd_b, sd_a),
    )


def base_success(design: PilotDesign) -> dict[str, np.ndarray]:
    """Each variant's task success probabilities before its effect: the baseline's tasks."""
    baseline = design.arms[design.baseline]
    lengths = np.array([len(t.path) for t in baseline.tasks], dtype=float)
    order = np.arange(len(baseline.tasks))
    base_p = np.clip(0.80 - 0.04 * (lengths - 2) - 0.04 * order, 0.45, 0.85)
    return {
        name: base_p if len(arm.tasks) == len(base_p) else np.resize(base_p, len(arm.tasks))
        for name, arm in design.arms.items()
    }


# --- random numbers ---------------------------------------------------------------------------

_STREAMS = (
    "consent", "drop", "succ", "kind", "steps", "detour", "misclick", "time_s", "time_t",
    "sat", "answer", "item", "seq", "comment", "reason",
)  # fmt: skip


def draw_noise(arm: Arm, seed: int, key: tuple[int, ...], n: int) -> dict[str, np.ndarray]:
    """All random numbers ``outcomes`` uses, one independent stream per quantity."""
    ss = np.random.SeedSequence([seed, *key])
    rs = {name: np.random.default_rng(child)
          for name, child in zip(_STREAMS, ss.spawn(len(_STREAMS)), strict=True)}  # fmt: skip
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
        **_problem_noise(arm, seed, key, n),
    }


def _problem_noise(arm: Arm, seed: int, key: tuple[int, ...], n: int) -> dict[str, np.ndarray]:
    """The planted problem's random numbers: a stream of its own, drawn only when a problem is
    planted, so every other number (and a run without a problem) stays the same."""
    if arm.problem is None:
        return {}
    rng = np.random.default_rng(np.random.SeedSequence([seed, *key, 77]))
    t = len(arm.tasks)
    return {
        "p_drop": rng.random((n, t)),
        "p_hot": rng.poisson(arm.problem.misclicks, (n, t)).astype(np.int16),
        "p_comment": rng.random(n),
    }


# --- outcomes ---------------------------------------------------------------------------------


@dataclass
class Outcomes:
    """What happened in each session of one arm (arrays: session × task × screen step)."""

    consent: np.ndarray
    reached: np.ndarray
    outcome: np.ndarray  # 0 none (no end event), 1 success, 2 fail, 3 abandon
    walked: np.ndarray  # session × task: walked away inside the task (the session ended there)
    steps: np.ndarray
    detour: np.ndarray
    mis: np.ndarray
    duration: np.ndarray
    n_events: np.ndarray
    completed: np.ndarray
    dropped: np.ndarray
    z: np.ndarray  # latent satisfaction
    answers: Answers  # the end questionnaire
    task_answers: TaskAnswers  # questions asked right after a task
    comment: np.ndarray
    comment_u: np.ndarray  # picks the comment's text
    reason: np.ndarray  # 0 completed, 1 idle_timeout, 2 abandoned
    quit: np.ndarray  # session × task: left the task at the planted screen because of it
    hot: np.ndarray  # session × task: misclicks planted at the planted screen
    theme_comment: np.ndarray  # the session's comment is on the planted theme


@dataclass(frozen=True)
class _TaskDraw:
    """What every task of one ``outcomes`` call shares."""

    params: ArmParams
    base_p: np.ndarray
    mix: SessionMix
    nz: dict[str, np.ndarray]
    cdfs: tuple[np.ndarray, np.ndarray, np.ndarray]  # Poisson misclick CDF at 0, 1, 2
    problem: ArmProblem | None
    abandon_share: np.ndarray
    time_scale: np.ndarray


def _task_draw(
    params: ArmParams, base_p: np.ndarray, mix: SessionMix, nz: dict, problem: ArmProblem | None
) -> _TaskDraw:
    phone = mix.phone
    lam = np.where(phone, MISCLICK_LAMBDA["phone"], MISCLICK_LAMBDA["kiosk"]) * math.exp(
        params.misclick_log
    )
    # Poisson(λ) by inversion of one uniform (so counts move monotonically with λ), capped at 3.
    e = np.exp(-lam)
    cdf0, cdf1 = e, e * (1 + lam)
    cdf2 = cdf1 + e * lam**2 / 2
    return _TaskDraw(
        params=params,
        base_p=base_p,
        mix=mix,
        nz=nz,
        cdfs=(cdf0, cdf1, cdf2),
        problem=problem,
        abandon_share=np.where(phone, ABANDON_SHARE["phone"], ABANDON_SHARE["kiosk"]),
        time_scale=np.exp(params.log_time + 0.25 * nz["time_s"]),
    )


def _run_task(out: dict, draw: _TaskDraw, t: int, task: TaskShape, alive: np.ndarray) -> np.ndarray:
    """Fill task ``t`` of ``out`` for the sessions still ``alive``; those who walk away leave."""
    nz, mix = draw.nz, draw.mix
    k_idx = np.arange(out["detour"].shape[2])
    p = np.clip(draw.base_p[t] + draw.params.success_delta, 1e-4, 1 - 1e-4)
    logit = math.log(p / (1 - p)) + mix.store_b + PHONE_SUCCESS_LOGIT * mix.phone
    success = alive & (nz["succ"][:, t] < 1 / (1 + np.exp(-logit)))
    abandon = alive & ~success & (nz["kind"][:, t] < draw.abandon_share)
    if not task.timed:  # no time limit ends a run (task_fail): who fails gives up in the end
        abandon = alive & ~success
    # the same uniform splits the abandons: the upper part gives up and goes on
    walked = abandon & (nz["kind"][:, t] < draw.abandon_share * (1 - GIVE_UP_SHARE))
    failed = alive & ~success & ~abandon
    last = len(task.path) - 1
    walk = np.where(success, last, np.floor(nz["steps"][:, t] * last)).astype(np.int16)
    walk[~alive] = 0
    kp = draw.problem.steps[t] if draw.problem is not None else -1
    if kp >= 0:  # the planted screen: some who arrive leave the task there, more misclicks
        arrive = alive & (walk >= kp)
        leave = arrive & (nz["p_drop"][:, t] < draw.problem.drop) & (success | (walk > kp))
        success, failed, abandon = success & ~leave, failed & ~leave, abandon | leave
        walk[leave] = kp
        out["quit"][:, t] = leave
        out["hot"][:, t] = np.where(arrive, nz["p_hot"][:, t], 0)
    out["outcome"][:, t] = np.where(success, 1, np.where(abandon, 3, np.where(failed, 2, 0)))
    out["walked"][:, t] = walked
    out["steps"][:, t] = walk
    on_screen = alive[:, None] & (k_idx[None, :] <= walk[:, None])
    on_screen &= ~(success[:, None] & (k_idx[None, :] == last))  # nothing happens at the goal
    has_alt = np.array([k < len(task.path) and bool(task.alternatives[k]) for k in k_idx])
    p_det = np.where(success, DETOUR_P["success"], DETOUR_P["fail"])
    out["detour"][:, t] = on_screen & has_alt[None, :] & (nz["detour"][:, t] < p_det[:, None])
    u = nz["misclick"][:, t]
    cdf0, cdf1, cdf2 = draw.cdfs
    m = (u >= cdf0[:, None]).astype(np.int8) + (u >= cdf1[:, None]) + (u >= cdf2[:, None])
    out["mis"][:, t] = np.where(on_screen, m, 0)
    n_det = out["detour"][:, t].sum(1)
    n_mis = out["mis"][:, t].sum(1) + out["hot"][:, t]
    work = STEP_SECONDS * (1 + walk) + 1.2 * n_mis + 6.0 * n_det + 8.0 * ~success + 2.0
    noise = np.exp(0.35 * nz["time_t"][:, t])
    out["duration"][:, t] = np.where(alive, draw.time_scale * noise * work, 0.0)
    out["n_events"][:, t] = np.where(alive, 2 + n_mis + 4 * n_det + 2 * walk, 0)
    return alive & ~walked


def _walk_tasks(arm: Arm, draw: _TaskDraw) -> dict[str, np.ndarray]:
    """Consent and every task in order: who reaches it, how it ends, what it took."""
    nz = draw.nz
    n, n_tasks = len(draw.mix), len(arm.tasks)
    k_max = max((len(t.path) for t in arm.tasks), default=1)
    consent = nz["consent"] >= CONSENT_DECLINE
    out = {
        "consent": consent,
        "reached": np.zeros((n, n_tasks), bool),
        "outcome": np.zeros((n, n_tasks), np.int8),
        "walked": np.zeros((n, n_tasks), bool),
        "steps": np.zeros((n, n_tasks), np.int16),
        "detour": np.zeros((n, n_tasks, k_max), bool),
        "mis": np.zeros((n, n_tasks, k_max), np.int8),
        "duration": np.zeros((n, n_tasks)),
        "n_events": np.zeros((n, n_tasks), np.int32),
        "quit": np.zeros((n, n_tasks), bool),
        "hot": np.zeros((n, n_tasks), np.int16),
    }
    dropped = np.zeros(n, bool)
    alive = consent.copy()
    for t, task in enumerate(arm.tasks):
        if t > 0:
            leave = alive & (nz["drop"][:, t] < DROP_BETWEEN_TASKS)
            dropped |= leave
            alive &= ~leave
        out["reached"][:, t] = alive
        alive = _run_task(out, draw, t, task, alive)
    out["completed"], out["dropped"] = alive.copy(), dropped
    return out


def outcomes(
    arm: Arm, params: ArmParams, base_p: np.ndarray, mix: SessionMix, nz: dict[str, np.ndarray]
) -> Outcomes:
    """Outcomes of the ``len(mix)`` sessions of one arm, from the random numbers ``nz``.

    ``nz`` comes from ``draw_noise(arm, seed, key, len(mix))``: the same key, the same sessions.
    """
    walk = _walk_tasks(arm, _task_draw(params, base_p, mix, nz, arm.problem))
    consent, completed = walk["consent"], walk["completed"]
    idle_share = np.where(mix.phone, IDLE_SHARE["phone"], IDLE_SHARE["kiosk"])
    early = np.where(consent & (nz["reason"] < idle_share), 1, 2)
    # a task walked away from on a page that was then closed has no end event at all
    walk["outcome"] = np.where(walk["walked"] & (early == 2)[:, None], 0, walk["outcome"])
    outcome = walk["outcome"]
    started = walk["reached"].sum(1)
    succ_share = np.where(started > 0, (outcome == 1).sum(1) / np.maximum(started, 1), 0.0)
    z = mix.store_a + SUCCESS_SAT_LOADING * (succ_share - 0.65) + nz["sat"]
    sat = Satisfaction(z, params.sat_shift)
    after = [arm.after_task.get(task.id, []) for task in arm.tasks] if arm.after_task else []
    u_c = nz["comment"]
    # only a variant that asks for a comment gets one (the bank's texts fit any prototype);
    # the runtime asks for it at the end, so only a session that got there writes one
    comment = completed & (u_c[:, 0] < COMMENT_P)
    comment = comment if arm.comment else np.zeros_like(comment)
    theme = _theme_comments(arm, walk, nz)
    return Outcomes(
        **walk,
        z=z,
        answers=end_answers(arm.end_questions, sat, nz["answer"], nz["item"], mix.phone, completed),
        # asked after a task that ended and did not end the session (not after walking away)
        task_answers=task_answers(
            after, sat, np.where(walk["walked"], 0, outcome), nz["seq_u"], nz["seq_z"]
        ),
        comment=comment | theme,
        comment_u=u_c[:, 1],
        reason=np.where(completed, 0, early).astype(np.int8),
        theme_comment=theme,
    )


def _theme_comments(arm: Arm, walk: dict, nz: dict) -> np.ndarray:
    """Sessions that reached the planted screen and write a comment on the planted theme (only
    when the variant asks for a comment)."""
    problem = arm.problem
    n = len(walk["consent"])
    if problem is None or not arm.comment:
        return np.zeros(n, bool)
    kp = np.array(problem.steps)
    reached = walk["reached"] & (walk["steps"] >= kp[None, :]) & (kp[None, :] >= 0)
    return reached.any(1) & walk["completed"] & (nz["p_comment"] < problem.comment_share)


# --- per-session metrics ----------------------------------------------------------------------


def session_metrics(out: Outcomes) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per-session metric values and validity, as ``experiments.metrics`` defines them.

    A ratio metric's value is the session's own ratio; ``session_weights`` gives its
    denominator, so the weighted mean is the ratio of totals the analysis measures."""
    started = out.reached.sum(1)
    outcome = out.outcome
    res: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    res["task_success_rate"] = ((outcome == 1).sum(1) / np.maximum(started, 1), started > 0)
    fin = outcome > 0  # success, fail or abandon: every task that ended has a time on task
    n_fin = fin.sum(1)
    res["time_on_task_s"] = ((out.duration * fin).sum(1) / np.maximum(n_fin, 1), n_fin > 0)
    taps = out.steps.sum(1) + 2 * out.detour.sum((1, 2))
    mis = out.mis.sum((1, 2)) + out.hot.sum(1)
    res["misclick_rate"] = (mis / np.maximum(mis + taps, 1), mis + taps > 0)
    res["completion_rate"] = (out.completed.astype(float), np.ones(len(started), bool))
    res.update(instrument_scores(out.answers, out.task_answers, len(started)))
    return res


def session_weights(out: Outcomes) -> dict[str, np.ndarray]:
    """Per-session denominators of the ratio metrics (misclick rate: taps + misclicks)."""
    taps = out.steps.sum(1) + 2 * out.detour.sum((1, 2))
    return {"misclick_rate": (out.mis.sum((1, 2)) + out.hot.sum(1) + taps).astype(float)}


def means(out: Outcomes) -> dict[str, float]:
    """Every metric over the sessions that have a value: the mean, and for a ratio metric the
    ratio of totals (the mean weighted by the denominators)."""
    result = {}
    weights = session_weights(out)
    for name, (value, ok) in session_metrics(out).items():
        if not ok.any():
            result[name] = float("nan")
        elif name in weights:
            result[name] = float(np.average(value[ok], weights=weights[name][ok]))
        else:
            result[name] = float(np.mean(value[ok]))
    return result


def reported_metrics(catalogue: Catalogue = CATALOGUE) -> list[str]:
    """The catalogue's metrics this model knows the truth of, in catalogue order."""
    return [
        m.id
        for m in catalogue.metrics.values()
        if m.id in BEHAVIOUR_METRICS or m.source == "instrument"
    ]


def measured_metrics(arm: Arm, catalogue: Catalogue = CATALOGUE) -> list[str]:
    """The metrics a variant's prototype actually measures (others exist only in the truth)."""
    asked = arm.asked
    return [
        m
        for m in reported_metrics(catalogue)
        if m in BEHAVIOUR_METRICS or set(catalogue.instrument(m).item_ids) <= asked
    ]
