"""The CI of a store-randomised comparison (unit=store): CR2 variance, Bell–McCaffrey dof.

Estimand (unchanged): the difference of the variants' **session-weighted means**, each the
ratio of sums ``Σmᵢ / Σdᵢ`` over the variant's stores, where store ``i`` contributes ``mᵢ`` (Σ of
its sessions' values; for a ratio metric Σ numerators) and ``dᵢ`` (its sessions with a value;
for a ratio metric Σ denominators). It is the same statistic the exact permutation p-value
(``frequentist.permutation_p_value``) tests, so the CI and the p-value judge one number.

Variance: CR2 (Bell & McCaffrey 2002), the cluster-robust variance of each variant's ratio with
the store's leverage ``hᵢ = dᵢ / Σd`` of its own arm::

    Var(R) = Σᵢ (mᵢ − R·dᵢ)² / (1 − hᵢ)  /  (Σd)²

With equal store sizes it is unbiased (the textbook ``s²/n`` of the store means); with unequal
sizes it stays close to unbiased, but a few big stores carry most of the information, so the
interval takes its t degrees of freedom from the Bell–McCaffrey (Satterthwaite) approximation
instead of ``stores − 2``. That needs a working model of how store means vary: a store's mean
has variance ``τ² + σ²/dᵢ`` (store effects plus its sessions' noise), with ``τ²`` and ``σ²``
estimated by moments from the stores themselves (``StoreValues.variances`` are each store's
sampling variance; without them the working model is ``τ² = 1, σ² = 0``, the textbook BM).
Only the dof depend on the working model; the variance is robust either way.

Why (3 to 20 stores per arm of about 150 sessions, a proportion around 40% with store effects
of sd 0 to 15 points; coverage of the true effect by the 95% CI over 3,000–20,000 simulated
pilots each; ``make validate`` confirms it for every metric kind):

==============================================  ==========  ==========  ==========
method                                          sizes sd 0  sd 0.8      sd 1.2
==============================================  ==========  ==========  ==========
delta (CR1), Welch dof (the first version)      0.95        0.91-0.92   0.85-0.86
CR2, t(G − 2)                                   0.95        0.92        0.89-0.90
CR3 (jackknife), t(G − 2) (the previous one)    0.96-0.97   0.95        0.94-0.95
CR2, Bell–McCaffrey dof, estimated ICC (this)   0.95        0.95-0.96   0.95-0.97
==============================================  ==========  ==========  ==========

CR3 inflates the variance by ``n/(n − 1)`` when the stores are equal, so its A/A CI excluded
zero in only 2.6–3.6% of runs; CR2 with BM dof is exact there and holds 93–97% with very
unequal stores, also with 3 or 4 stores per arm (dof then fall to 3–4).

Chance to win comes from the same estimate, se and dof (``bayesian.chance_to_win``), so it is
outside [2.5%, 97.5%] exactly when the CI excludes zero (for the relative effect: when the
relative CI does). The p-value stays the exact permutation p-value.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from experiments.frequentist import TestResult, t_test_result

METHOD = "store_cr2"


@dataclass(frozen=True)
class StoreValues:
    """One variant's stores: per store the numerator ``Σ m``, denominator ``Σ d`` and, when
    known, the sampling variance of its own mean ``m / d`` (empty when unknown)."""

    numerators: tuple[float, ...]
    denominators: tuple[float, ...]
    variances: tuple[float, ...] = ()

    @classmethod
    def of(
        cls,
        numerators: Sequence[float],
        denominators: Sequence[float],
        variances: Sequence[float] = (),
    ) -> StoreValues:
        if len(numerators) != len(denominators):
            raise ValueError("numerators and denominators differ in length")
        if variances and len(variances) != len(numerators):
            raise ValueError("variances and numerators differ in length")
        return cls(
            tuple(map(float, numerators)),
            tuple(map(float, denominators)),
            tuple(map(float, variances)),
        )

    @property
    def n(self) -> int:
        return len(self.numerators)

    @property
    def ratio(self) -> float:
        """The session-weighted mean ``Σm / Σd`` (0 without any denominator)."""
        total = sum(self.denominators)
        return sum(self.numerators) / total if total else 0.0

    def weights(self) -> np.ndarray:
        """Each store's share ``hᵢ = dᵢ / Σd`` of its variant (its leverage)."""
        d = np.asarray(self.denominators)
        return d / d.sum()


def cr2_variance(values: StoreValues) -> float:
    """CR2 variance of ``Σm / Σd`` with stores as the units.

    0 for fewer than two stores or when a store holds every denominator (no second store to
    learn the spread from).
    """
    total = sum(values.denominators)
    if values.n < 2 or total <= 0:
        return 0.0
    r = values.ratio
    acc = 0.0
    for m, d in zip(values.numerators, values.denominators, strict=True):
        leverage = d / total
        if leverage >= 1.0:
            return 0.0
        acc += (m - r * d) ** 2 / (1.0 - leverage)
    return acc / total**2


def working_variances(arms: Sequence[StoreValues]) -> list[np.ndarray]:
    """Per arm, the working model's variance of each store's mean: ``τ² + σ²/dᵢ``.

    ``τ²`` (between stores) by moments: the spread of the store means around their arm's
    unweighted mean, less the average sampling variance; ``σ²`` from the stores' sampling
    variances ``vᵢ ≈ σ²/dᵢ``. Without sampling variances: ``τ² = 1, σ² = 0``.
    """
    if not all(arm.variances for arm in arms):
        return [np.ones(arm.n) for arm in arms]
    means = [np.asarray(a.numerators) / np.asarray(a.denominators) for a in arms]
    v = np.concatenate([np.asarray(a.variances) for a in arms])
    d = np.concatenate([np.asarray(a.denominators) for a in arms])
    stores = sum(a.n for a in arms)
    between = sum(float(((y - y.mean()) ** 2).sum()) for y in means) / max(stores - len(arms), 1)
    tau2 = max(0.0, between - float(v.mean()))
    sigma2 = float((v * d).mean())
    if tau2 == 0.0 and sigma2 == 0.0:
        return [np.ones(arm.n) for arm in arms]
    return [tau2 + sigma2 / np.asarray(a.denominators) for a in arms]


def bell_mccaffrey_dof(arms: Sequence[StoreValues]) -> float:
    """Satterthwaite degrees of freedom of ``Σ_arms cr2_variance`` under the working model.

    The CR2 variance is a quadratic form ``Σᵢ cᵢ eᵢ²`` in each arm's residuals ``e = M y``
    (``M = I − 1 hᵀ``, ``cᵢ = hᵢ² / (1 − hᵢ)``); with ``y ~ (μ, Ω)`` its dof are
    ``tr(AΩ)² / tr((AΩ)²)`` for ``A = Mᵀ diag(c) M``, summed over the independent arms.
    """
    traces, squares = 0.0, 0.0
    for arm, omega in zip(arms, working_variances(arms), strict=True):
        h = arm.weights()
        residual_maker = np.eye(arm.n) - np.outer(np.ones(arm.n), h)
        c = h**2 / (1.0 - h)
        a_omega = (residual_maker.T * c) @ residual_maker * omega
        traces += float(np.trace(a_omega))
        squares += float(np.sum(a_omega * a_omega.T))
    return traces**2 / squares if squares > 0 else float(sum(a.n for a in arms) - len(arms))


def store_ratio_test(a: StoreValues, b: StoreValues, alpha: float = 0.05) -> TestResult:
    """``b − a`` of the session-weighted means: CR2 variance, t with Bell–McCaffrey dof.

    ``p_value`` here is the t-test's; the analysis replaces it by the exact permutation
    p-value and keeps CI, se and dof (chance to win uses the same se and dof).
    """
    if a.n < 2 or b.n < 2 or max(a.weights().max(), b.weights().max()) >= 1.0:
        effect = b.ratio - a.ratio if a.n and b.n else None
        return TestResult.empty(METHOD, effect)
    dof = bell_mccaffrey_dof((a, b))
    return t_test_result(a.ratio, cr2_variance(a), b.ratio, cr2_variance(b), dof, alpha, METHOD)
