"""Calibration and truth: variant parameters that plant the effects asked for, and the truth file.

The model (``sample_data.model``), run on a large Monte-Carlo sample with the store effects
integrated out, gives the *true* per-variant metric means. The variant parameters are solved
(secant steps, then regula falsi, on common random numbers) so that the true differences to
the baseline equal the effects asked for, in each metric's own units.

What can be planted: the behavioural metrics with a lever in the model (task success, time on
task, misclicks) and every scored instrument of the catalogue (through the variant's shift of
latent satisfaction for that instrument). Completion follows from success and abandonment;
a behavioural metric the model does not know (a new events metric) cannot be planted.

The truth file (``lab.truth_path``) holds the seed, sessions, design, the effects asked for,
the solved variant parameters, the ICC, each store's drawn effects, and per metric and variant
the population ``true_means`` and ``true_effects`` (difference to the baseline) under the
metric definitions of ``experiments.metrics`` — and ``conditional_means``: the expected means
given the stores' drawn effects and the store mix of this very design.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from errors import InvalidInputError
from feedback.catalogue import CATALOGUE, Catalogue
from sample_data.answers import unasked_items
from sample_data.design import TZ, Arm, PilotDesign
from sample_data.model import (
    ArmParams,
    SessionMix,
    StoreEffects,
    base_success,
    draw_noise,
    means,
    measured_metrics,
    outcomes,
    reported_metrics,
)

LEVERS: tuple[str, ...] = ("task_success_rate", "time_on_task_s", "misclick_rate")
"""Behavioural metrics with a lever in the model; always solved (0 when no effect is asked)."""

# Bracket of each hand-set lever and the tolerance on the metric's own scale.
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
# Any other instrument: its lever is a latent shift, and ±5 latent sds carry a score across its
# whole range; the tolerance is this share of the range (a proportion's range is 0..1).
_GENERIC_SHIFT = 5.0
_GENERIC_TOL = 2e-5


def plantable_metrics(catalogue: Catalogue = CATALOGUE) -> list[str]:
    """Metrics an effect can be planted on, in catalogue order."""
    return [m.id for m in catalogue.metrics.values() if m.id in LEVERS or m.source == "instrument"]


def param_range(metric_id: str, catalogue: Catalogue = CATALOGUE) -> tuple[float, float, float]:
    """(low, high) of the metric's lever and the tolerance on the metric's own scale."""
    if metric_id in _PARAM_RANGE:
        return _PARAM_RANGE[metric_id]
    metric = catalogue.metric(metric_id)
    low, high = catalogue.instrument(metric_id).range
    width = high - low if high > low else 1.0
    if metric.kind == "proportion":
        width = min(width, 1.0)
    return -_GENERIC_SHIFT, _GENERIC_SHIFT, _GENERIC_TOL * width


def validate_effects(
    effects: Mapping[str, float] | None, catalogue: Catalogue = CATALOGUE
) -> dict[str, float]:
    """Check effect names and values; a name that cannot be planted raises ``InvalidInputError``."""
    plantable = plantable_metrics(catalogue)
    out: dict[str, float] = {}
    for name, value in (effects or {}).items():
        if name not in plantable:
            what = (
                f"the simulator cannot plant an effect on {name!r} in --effect"
                if name in catalogue.metrics
                else f"unknown metric {name!r} in --effect"
            )
            raise InvalidInputError(f"{what}; valid: {', '.join(plantable)}")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise InvalidInputError(f"--effect {name}={value!r}: not a number") from None
        if not math.isfinite(number):
            raise InvalidInputError(f"--effect {name}={value!r}: must be finite")
        out[name] = number
    return out


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
    return _regula_falsi(f, lo, hi, f_lo, f_hi, tol)


def _regula_falsi(f, lo: float, hi: float, f_lo: float, f_hi: float, tol: float) -> float:
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


def with_all_instruments(arm: Arm) -> Arm:
    """The arm with every scored instrument asked at the end, for the truth only.

    An effect on an instrument the prototype does not ask (``--effect sus=4`` on a prototype
    without SUS) still has a meaning: the latent satisfaction shift that would move SUS by 4.
    Appended questions do not change the answers to the real ones (drop-out is cumulative).
    """
    extra = unasked_items(arm.asked)
    return dataclasses.replace(arm, end_questions=[*arm.end_questions, *extra])


RunArm = Callable[[str, ArmParams], dict[str, float]]
"""Runs the Monte-Carlo population of a variant with given parameters; the metric means."""


def _solve_arm(run: RunArm, name: str, base_means: dict[str, float], effects: dict) -> ArmParams:
    """The parameters of variant ``name`` whose true differences to the baseline are ``effects``."""
    p = ArmParams()
    # the levers first, then the instruments asked for, one by one
    instruments = [m for m in plantable_metrics() if m not in LEVERS]
    asked = [m for m in instruments if m in effects]
    for metric in [*LEVERS, *asked]:
        target = effects.get(metric, 0.0)
        lo, hi, tol = param_range(metric)
        if metric == "time_on_task_s":
            tol = max(tol, 1e-4 * base_means[metric])

        def f(x, metric=metric, target=target, p=p):
            return run(name, p.with_(metric, x))[metric] - base_means[metric] - target

        p = p.with_(metric, _solve(f, lo, hi, tol, f"{metric}={target:g}"))
    # instruments not asked for share the mean latent shift of those that were
    shared = sum(p.sat_shift.values()) / len(asked) if asked else 0.0
    for metric in instruments:
        p.sat_shift.setdefault(metric, shared)
    return p


def _solve_params(
    design: PilotDesign, effects: dict[str, float], pop: SessionMix, seed: int
) -> tuple[dict[str, ArmParams], dict[str, dict[str, float]]]:
    """Variant parameters that make the true differences equal ``effects``; and the true means.

    The parameters are solved without a planted problem (``sample_data.problem``); the true
    means are those with it, so the truth stays true when a problem comes on top."""
    base = design.baseline
    arms = {name: with_all_instruments(arm) for name, arm in design.arms.items()}
    plain = {name: dataclasses.replace(arm, problem=None) for name, arm in arms.items()}
    base_p = base_success(design)
    key = (900,)
    noises = {name: draw_noise(arm, seed, key, len(pop)) for name, arm in arms.items()}

    def run(name: str, params: ArmParams, planted: bool = False) -> dict[str, float]:
        arm = arms[name] if planted else plain[name]
        return means(outcomes(arm, params, base_p[name], pop, noises[name]))

    params: dict[str, ArmParams] = {base: ArmParams()}
    base_means = run(base, params[base])
    for name in arms:
        if name != base:
            params[name] = _solve_arm(run, name, base_means, effects)
    return params, {name: run(name, params[name], planted=True) for name in arms}


@dataclass(frozen=True)
class Calibration:
    """The solved parameters and the truth of one simulation."""

    params: dict[str, ArmParams]
    true_means: dict[str, dict[str, float]]  # variant -> metric -> mean (population)
    conditional: dict[str, dict[str, float]]  # the same, given these stores
    base_p: dict[str, np.ndarray]  # variant -> task success probabilities before the effect
    mc_sessions: int


def calibrate(
    design: PilotDesign,
    effects: dict[str, float],
    stores: StoreEffects,
    seed: int,
    mc_sessions: int,
) -> Calibration:
    """Solve the variant parameters and compute the true and the conditional means."""
    mrng = np.random.default_rng(np.random.SeedSequence([seed, 4]))
    k = len(stores.ids)
    sd_b, sd_a = stores.sds
    # the population: store effects integrated out
    pop_store = mrng.choice(k, size=mc_sessions, p=stores.weights)
    pop = SessionMix(
        store_b=mrng.normal(0, sd_b, mc_sessions),
        store_a=mrng.normal(0, sd_a, mc_sessions),
        phone=mrng.random(mc_sessions) < stores.phone[pop_store],
    )
    params, true_means = _solve_params(design, effects, pop, seed)
    base_p = base_success(design)
    # conditional on the drawn stores and this design's store mix
    conditional: dict[str, dict[str, float]] = {}
    for a_i, (name, arm) in enumerate(design.arms.items()):
        w = stores.weights
        if design.unit == "store":
            w = np.where(stores.arm == a_i, stores.weights, 0)
            w = w / w.sum()
        cs = mrng.choice(k, size=mc_sessions, p=w)
        mix = stores.mix(cs, mrng.random(mc_sessions) < stores.phone[cs])
        nz = draw_noise(arm, seed, (901,), mc_sessions)
        conditional[name] = means(outcomes(arm, params[name], base_p[name], mix, nz))
    return Calibration(params, true_means, conditional, base_p, mc_sessions)


@dataclass(frozen=True)
class RunSettings:
    """What a simulation was asked for."""

    seed: int
    sessions: int
    effects: dict[str, float]
    icc: float


def _r(x: float) -> float:
    return round(float(x), 6)


def _parameters(params: dict[str, ArmParams]) -> dict[str, Any]:
    return {
        a: {
            "success_delta": _r(p.success_delta),
            "time_factor": _r(math.exp(p.log_time)),
            "misclick_factor": _r(math.exp(p.misclick_log)),
            "satisfaction_shift": {k: _r(v) for k, v in sorted(p.sat_shift.items())},
        }
        for a, p in params.items()
    }


def _truth_means(design: PilotDesign, cal: Calibration) -> dict[str, Any]:
    base, arms = design.baseline, list(design.arms)
    true_means, conditional = cal.true_means, cal.conditional
    metrics = [m for m in reported_metrics() if all(m in true_means[a] for a in arms)]
    return {
        "measured_metrics": [
            m
            for m in reported_metrics()
            if all(m in measured_metrics(arm) for arm in design.arms.values())
        ],
        "true_means": {m: {a: _r(true_means[a][m]) for a in arms} for m in metrics},
        "true_effects": {
            m: {a: _r(true_means[a][m] - true_means[base][m]) for a in arms if a != base}
            for m in metrics
        },
        "conditional_means": {
            m: {a: _r(conditional[a][m]) for a in arms}
            for m in metrics
            if all(m in conditional[a] for a in arms)
        },
    }


def truth_record(
    design: PilotDesign, run: RunSettings, stores: StoreEffects, cal: Calibration
) -> dict[str, Any]:
    """The truth file's content (without the events and files it was written to)."""
    return {
        "seed": run.seed,
        "sessions": run.sessions,
        "experiment_id": design.experiment_id,
        "prototype_id": design.prototype_id,
        "unit": design.unit,
        "baseline": design.baseline,
        "variants": {a: {"version": arm.version} for a, arm in design.arms.items()},
        "allocation": design.allocation,
        "stores": (
            {a: [s for s in stores.ids if design.store_variant.get(s) == a] for a in design.arms}
            if design.unit == "store"
            else list(stores.ids)
        ),
        "period": {"start": design.start.isoformat(), "end": design.end.isoformat(), "tz": TZ},
        "effects_requested": run.effects,
        "icc": {"success_logit": run.icc, "satisfaction": run.icc},
        "store_effects": {
            s: {"success_logit": _r(b), "satisfaction": _r(a), "traffic_share": _r(w)}
            for s, b, a, w in zip(
                stores.ids, stores.success_logit, stores.satisfaction, stores.weights, strict=True
            )
        },
        "parameters": _parameters(cal.params),
        **_truth_means(design, cal),
        "truth_method": (
            f"Monte Carlo over {cal.mc_sessions} sessions per variant with common random "
            "numbers; true_means integrate the store effects out (population), "
            "conditional_means use the drawn store effects and this design's store mix. Metric "
            "definitions as in experiments.metrics (per-session values, mean over sessions with "
            "a value)."
        ),
    }
