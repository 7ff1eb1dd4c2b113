"""Per-session data with a known truth for the validation study (``bench/validation.py``).

Each catalogue metric kind gets a small generative model, vectorised with numpy, whose true mean
is known in closed form. A model is driven by a *location* per session: the arm's location plus
a store random effect (sd ``store_sd``, giving an intra-store correlation of a few per cent, as
the sample simulator's default ICC of 0.03). The true mean of a session's value, averaged over
store effects, is ``truth(loc)``; store effects do not depend on store size, so the
session-weighted (ratio of sums) mean the analysis estimates has exactly this expectation.

    task_success_rate  1–2 tasks, success probability per session ~ Beta(mean p, κ 4); the
                       session's value is its share of successful tasks. Truth p.
    sus                2.5 · Binomial(40, π), π ~ Beta(mean loc, κ 6): the 0–100 SUS score on
                       its 2.5-point grid, skewed and bounded. Truth 100·loc.
    time_on_task_s     lognormal, log-sd 0.6. Truth exp(loc + 0.6²/2 + store_sd²/2).
    nps                −100 / 0 / +100 with promoters 0.30 + loc, detractors 0.30 − loc, passives
                       0.40; the baseline sits at 0, so it crosses zero. Truth 200·loc.
    misclick_rate      1 + Poisson(10) touches (the denominator), each a misclick (the
                       numerator) with the session's probability ~ Beta(mean q, κ 15). Truth q,
                       both as the mean of per-session ratios and as the ratio of totals
                       (touches do not depend on q).

``answer_rate`` is the share of sessions with a value (questionnaires are answered by some).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

TIME_LOG_SD = 0.6
Parts = tuple[np.ndarray, np.ndarray | float]
"""A session's (numerator, denominator): its value is numerator / denominator; the
denominator is 1 except for a ratio metric (misclicks / touches)."""


@dataclass(frozen=True)
class MetricModel:
    """A metric's generative model: arm locations, store effect, answer rate and truth."""

    metric: str
    loc_control: float
    loc_treatment: float
    store_sd: float
    answer_rate: float
    draw: Callable[[np.random.Generator, np.ndarray], Parts]
    mean: Callable[[float, float], float]  # (arm location, store sd) -> true mean

    def truth(self, treated: bool) -> float:
        """The true mean of a session's value in one arm."""
        return self.mean(self.loc_treatment if treated else self.loc_control, self.store_sd)

    @property
    def effect(self) -> float:
        """The true absolute effect (treatment − control)."""
        return self.truth(True) - self.truth(False)

    @property
    def rel_effect(self) -> float:
        """The true relative effect (treatment − control) / |control|."""
        base = self.truth(False)
        return self.effect / abs(base) if base else math.nan

    def null(self) -> MetricModel:
        """The same model with the treatment equal to the control (an A/A test)."""
        return MetricModel(
            self.metric,
            self.loc_control,
            self.loc_control,
            self.store_sd,
            self.answer_rate,
            self.draw,
            self.mean,
        )


ONE = 1.0  # the denominator of every session of a mean or proportion metric


def _success(rng: np.random.Generator, p: np.ndarray) -> Parts:
    p = np.clip(p, 0.01, 0.99)
    tasks = 1 + (rng.random(p.size) < 0.5)
    return rng.binomial(tasks, rng.beta(4 * p, 4 * (1 - p))) / tasks, ONE


def _sus(rng: np.random.Generator, loc: np.ndarray) -> Parts:
    mu = np.clip(loc, 0.02, 0.98)
    return 2.5 * rng.binomial(40, rng.beta(6 * mu, 6 * (1 - mu))), ONE


def _time(rng: np.random.Generator, loc: np.ndarray) -> Parts:
    return np.exp(loc + TIME_LOG_SD * rng.standard_normal(loc.size)), ONE


def _nps(rng: np.random.Generator, loc: np.ndarray) -> Parts:
    loc = np.clip(loc, -0.29, 0.29)
    u = rng.random(loc.size)
    promoter, detractor = 0.30 + loc, 0.30 - loc
    return np.where(u < promoter, 100.0, np.where(u < 1 - detractor, 0.0, -100.0)), ONE


def _misclicks(rng: np.random.Generator, q: np.ndarray) -> Parts:
    q = np.clip(q, 0.005, 0.9)
    touches = 1 + rng.poisson(10, q.size)
    return rng.binomial(touches, rng.beta(15 * q, 15 * (1 - q))).astype(float), touches


MODELS: dict[str, MetricModel] = {
    m.metric: m
    for m in (
        MetricModel("task_success_rate", 0.60, 0.65, 0.06, 1.0, _success, lambda loc, s: loc),
        MetricModel("sus", 0.68, 0.72, 0.03, 0.4, _sus, lambda loc, s: 100 * loc),
        MetricModel(
            "time_on_task_s",
            math.log(40.0),
            math.log(36.0),
            0.12,
            0.9,
            _time,
            lambda loc, s: math.exp(loc + TIME_LOG_SD**2 / 2 + s**2 / 2),
        ),
        MetricModel("nps", 0.0, 0.04, 0.05, 0.4, _nps, lambda loc, s: 200 * loc),
        MetricModel("misclick_rate", 0.10, 0.08, 0.02, 1.0, _misclicks, lambda loc, s: loc),
    )
}
"""One model per metric kind: proportion, two means (bounded; skewed), NPS (crosses zero), and
the misclick ratio."""


@dataclass(frozen=True)
class UnitSums:
    """Per unit (runs × units) sums over its sessions with a value, as the metric SQL returns
    them: ``n``, Σ value, Σ value² (value = the session's own numerator / denominator), and
    for a ratio metric Σ numerator (``num``), Σ numerator², Σ denominator, Σ denominator²,
    Σ numerator·denominator."""

    n: np.ndarray
    total: np.ndarray
    squares: np.ndarray
    num: np.ndarray
    num_squares: np.ndarray
    den: np.ndarray
    den_squares: np.ndarray
    products: np.ndarray


def unit_statistics(
    rng: np.random.Generator,
    model: MetricModel,
    sizes: np.ndarray,
    treated: np.ndarray,
    *,
    clustered: bool,
) -> UnitSums:
    """Draw every session of every unit and sum per unit.

    ``sizes`` (runs × units) counts the sessions of each unit (a store, or an arm of a session
    design); ``treated`` (units) says which units are treatment. ``clustered``: one store
    effect per unit (store design), else one per session (sessions from many stores).
    """
    runs, units = sizes.shape
    flat = sizes.ravel()
    unit = np.repeat(np.arange(runs * units), flat)
    arm_loc = np.where(treated, model.loc_treatment, model.loc_control)
    loc = np.repeat(np.tile(arm_loc, runs), flat)
    if clustered:
        loc = loc + np.repeat(model.store_sd * rng.standard_normal(runs * units), flat)
    else:
        loc = loc + model.store_sd * rng.standard_normal(loc.size)
    num, den = model.draw(rng, loc)
    den = np.broadcast_to(np.asarray(den, dtype=float), num.shape)
    answered = (rng.random(num.size) < model.answer_rate).astype(float)
    value = num / den

    def per_unit(x) -> np.ndarray:
        summed = np.bincount(unit, weights=answered * x, minlength=runs * units)
        return summed.reshape(sizes.shape)

    return UnitSums(
        per_unit(1.0),
        per_unit(value),
        per_unit(value**2),
        per_unit(num),
        per_unit(num**2),
        per_unit(den),
        per_unit(den**2),
        per_unit(num * den),
    )


def store_sizes(
    rng: np.random.Generator, runs: int, stores: int, mean: float, size_sd: float
) -> np.ndarray:
    """Sessions per store (runs × stores): ``mean`` each, or lognormal with log-sd ``size_sd``
    around the same mean (at least 5 sessions: a store that ran the pilot at all)."""
    if size_sd == 0:
        return np.full((runs, stores), int(mean))
    factor = np.exp(size_sd * rng.standard_normal((runs, stores)) - size_sd**2 / 2)
    return np.maximum(np.rint(mean * factor), 5).astype(int)
