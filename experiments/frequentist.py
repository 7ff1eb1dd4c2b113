"""Frequentist comparisons of two variants from sufficient statistics, and p-value adjustment.

- ``welch_test``: two-sided Welch t-test on per-unit values with the Welch–Satterthwaite degrees
  of freedom. Its p-value and CI equal ``scipy.stats.ttest_ind(equal_var=False)``; without
  any variance p is 0 for different means (as scipy) and None for equal ones (scipy: NaN).
- ``ratio_test``: the same for ratio metrics (gbstats' ``RatioStatistic``): effect =
  difference of the ratios of sums ``Σm/Σd``, variance by the delta method with the units
  (sessions) as independent, Welch–Satterthwaite degrees of freedom over the unit counts.
  ``misclick_rate`` (misclicks / (taps + misclicks) over a variant's sessions) is one. The
  store-level CI of unit=store experiments is ``experiments.store_inference`` (CR2,
  Bell–McCaffrey dof): the delta method with stores as units covers too little when store sizes
  differ.
- ``permutation_p_value``: exact (all store assignments, ``itertools.combinations``) or, when
  there are too many, Monte-Carlo with a fixed seed. The sharp null "the variant changes nothing
  in any store" makes it exact whatever the distribution of the store values. With ``blocks``
  (strata or matched pairs of a stratified or matched design) treatment is permuted only
  within blocks, as it was randomised. ``randomisation_p_value`` does the same for any
  estimator (the store-KPI analysis re-runs ANCOVA on every assignment).
- Relative effects ``(μb − μa)/|μa|`` and their CI by the delta method, as gbstats does:
  ``Var(μb/μa) ≈ Var(μb)/μa² + μb²·Var(μa)/μa⁴`` (independent arms), same t quantile.
- ``holm`` / ``benjamini_hochberg`` / ``adjust_p_values`` for many metrics × variants.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from experiments.distributions import t_ppf, t_sf
from experiments.statistics import RatioStatistic, SampleMeanStatistic, variance_of_ratio

MAX_EXACT_PERMUTATIONS = 200_000
MONTE_CARLO_RESAMPLES = 10_000
PERMUTATION_SEED = 20261102


@dataclass(frozen=True)
class TestResult:
    """One comparison of variant b against baseline a; ``None`` where it cannot be computed."""

    __test__ = False  # not a pytest class

    abs_effect: float | None
    se: float | None
    dof: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    rel_effect: float | None
    rel_se: float | None
    rel_ci_low: float | None
    rel_ci_high: float | None
    method: str

    @classmethod
    def empty(cls, method: str, abs_effect: float | None = None) -> TestResult:
        return cls(abs_effect, None, None, None, None, None, None, None, None, None, method)


def welch_dof(var_mean_a: float, n_a: float, var_mean_b: float, n_b: float) -> float:
    """Welch–Satterthwaite degrees of freedom from the variances of the two means."""
    num = (var_mean_a + var_mean_b) ** 2
    den = 0.0
    if n_a > 1:
        den += var_mean_a**2 / (n_a - 1)
    if n_b > 1:
        den += var_mean_b**2 / (n_b - 1)
    return num / den if den > 0 else math.inf


def t_test_result(
    mean_a: float,
    var_mean_a: float,
    mean_b: float,
    var_mean_b: float,
    dof: float,
    alpha: float,
    method: str,
) -> TestResult:
    """``b − a`` with its t interval and p from the two means and the variances of the means;
    the relative effect ``(μb − μa)/|μa|`` by the delta method with the same t quantile."""
    effect = mean_b - mean_a
    variance = var_mean_a + var_mean_b
    if variance == 0 and effect != 0:
        # no variance yet different means: certain, as scipy's ttest_ind (t = ±inf, p = 0);
        # no CI (it has no width) and no relative effect to build one from
        return replace(TestResult.empty(method, effect), p_value=0.0)
    if not variance > 0 or not math.isfinite(variance):
        return TestResult.empty(method, effect)
    se = math.sqrt(variance)
    q = t_ppf(1 - alpha / 2, dof)
    p = 2 * t_sf(abs(effect) / se, dof)
    rel = rel_se = rel_lo = rel_hi = None
    if mean_a != 0:
        rel = effect / abs(mean_a)
        rel_var = variance_of_ratio(mean_b, var_mean_b, mean_a, var_mean_a, 0.0)
        if rel_var > 0:
            rel_se = math.sqrt(rel_var)
            rel_lo, rel_hi = rel - q * rel_se, rel + q * rel_se
    return TestResult(
        abs_effect=effect,
        se=se,
        dof=dof,
        ci_low=effect - q * se,
        ci_high=effect + q * se,
        p_value=min(p, 1.0),
        rel_effect=rel,
        rel_se=rel_se,
        rel_ci_low=rel_lo,
        rel_ci_high=rel_hi,
        method=method,
    )


def welch_test(a: SampleMeanStatistic, b: SampleMeanStatistic, alpha: float = 0.05) -> TestResult:
    """Two-sided Welch t-test of ``b − a`` on per-unit values (0/1 for proportions)."""
    if a.n < 2 or b.n < 2:
        return TestResult.empty("welch", b.mean - a.mean if a.n and b.n else None)
    dof = welch_dof(a.mean_variance, a.n, b.mean_variance, b.n)
    return t_test_result(a.mean, a.mean_variance, b.mean, b.mean_variance, dof, alpha, "welch")


def ratio_test(
    a: RatioStatistic, b: RatioStatistic, alpha: float = 0.05, method: str = "delta"
) -> TestResult:
    """Test of a ratio-of-sums metric: delta-method variance, Welch dof over the units."""
    if a.n < 2 or b.n < 2:
        effect = b.mean - a.mean if a.n and b.n else None
        return TestResult.empty(method, effect)
    dof = welch_dof(a.mean_variance, a.n, b.mean_variance, b.n)
    return t_test_result(a.mean, a.mean_variance, b.mean, b.mean_variance, dof, alpha, method)


def assignment_masks(
    treated: Sequence[bool],
    blocks: Sequence[object] | None = None,
    *,
    max_exact: int = MAX_EXACT_PERMUTATIONS,
    resamples: int = MONTE_CARLO_RESAMPLES,
    seed: int = PERMUTATION_SEED,
):
    """Every assignment the design could have drawn (or ``resamples`` random ones): a 0/1
    matrix, one row an assignment, one column a store, and ``"exact"``/``"monte_carlo"``.

    Without ``blocks`` every way of choosing as many treated stores as ``treated`` has; with
    ``blocks`` (a block label per store: stratum or pair) only those that keep the number of
    treated stores in every block, i.e. treatment permuted within blocks. Exact when there are
    at most ``max_exact`` assignments, else Monte-Carlo with a fixed ``seed`` (the observed
    assignment is then not among the rows).
    The matrix is shared between calls with the same arguments (read-only): the read-out
    tests the same stores again for every day and segment.
    """
    labels = (0,) * len(treated) if blocks is None else tuple(blocks)
    flags = tuple(bool(x) for x in treated)
    return _assignment_masks(flags, labels, max_exact, resamples, seed)


@functools.lru_cache(maxsize=16)
def _assignment_masks(
    treated: tuple[bool, ...], labels: tuple, max_exact: int, resamples: int, seed: int
):
    import numpy as np

    t = np.asarray(treated, dtype=bool)
    groups: dict[object, list[int]] = {}
    for i, label in enumerate(labels):
        groups.setdefault(label, []).append(i)
    parts = [(np.array(idx), int(t[idx].sum())) for idx in groups.values()]
    total = math.prod(math.comb(len(idx), k) for idx, k in parts)
    if total <= max_exact:
        masks = np.zeros((total, len(t)))
        choices = [list(itertools.combinations(idx.tolist(), k)) for idx, k in parts]
        for row, combo in enumerate(itertools.product(*choices)):
            masks[row, [i for chosen in combo for i in chosen]] = 1.0
        masks.setflags(write=False)
        return masks, "exact"
    rng = np.random.default_rng(seed)
    masks = np.zeros((resamples, len(t)))
    for idx, k in parts:
        if k == 0:
            continue
        order = rng.random((resamples, len(idx))).argsort(axis=1)[:, :k]
        np.put_along_axis(masks, idx[order], 1.0, axis=1)
    masks.setflags(write=False)
    return masks, "monte_carlo"


def randomisation_p_value(
    statistic,
    treated: Sequence[bool],
    blocks: Sequence[object] | None = None,
    *,
    max_exact: int = MAX_EXACT_PERMUTATIONS,
    resamples: int = MONTE_CARLO_RESAMPLES,
    seed: int = PERMUTATION_SEED,
) -> tuple[float | None, str, int]:
    """Two-sided randomisation p-value of any estimator under the sharp null.

    ``statistic(masks)`` returns the estimate for each row of a 0/1 assignment matrix (see
    ``assignment_masks``, which also says how ``blocks`` restrict the assignments). Returns
    ``(p, "exact"|"monte_carlo", assignments)``; exact: hits / all, Monte-Carlo:
    (1 + hits) / (1 + resamples).
    """
    import numpy as np

    t = np.asarray(treated, dtype=bool)
    if not 1 <= int(t.sum()) < len(t):
        return None, "none", 0
    observed = float(statistic(t[None, :].astype(float))[0])
    if not math.isfinite(observed):
        return None, "none", 0
    masks, how = assignment_masks(t, blocks, max_exact=max_exact, resamples=resamples, seed=seed)
    tol = 1e-9 * max(1.0, abs(observed))
    hits = int(np.sum(np.abs(statistic(masks)) >= abs(observed) - tol))
    if how == "exact":
        return hits / len(masks), how, len(masks)
    return (1 + hits) / (1 + len(masks)), how, len(masks)


def permutation_p_value(
    numerators: Sequence[float],
    denominators: Sequence[float],
    treated: Sequence[bool],
    *,
    blocks: Sequence[object] | None = None,
    max_exact: int = MAX_EXACT_PERMUTATIONS,
    resamples: int = MONTE_CARLO_RESAMPLES,
    seed: int = PERMUTATION_SEED,
) -> tuple[float | None, str, int]:
    """Two-sided permutation p-value of ``ratio(treated) − ratio(control)`` over store labels.

    Each store contributes numerator ``mᵢ`` (sum of its session values) and denominator ``dᵢ``
    (its sessions); the statistic is the difference of ratios of sums. Every way of choosing
    which stores are "treated" (keeping the group sizes, and with ``blocks`` the number treated
    in every stratum or pair) is enumerated when there are at most ``max_exact`` ways (about
    20 stores), else ``resamples`` random ones with a fixed ``seed``
    (p = (1 + hits)/(1 + resamples)). Returns ``(p, "exact"|"monte_carlo", permutations)``.
    """
    import numpy as np

    m = np.asarray(numerators, dtype=float)
    d = np.asarray(denominators, dtype=float)
    if np.any(d <= 0):
        return None, "none", 0

    def stat(masks: np.ndarray) -> np.ndarray:
        mb, db = masks @ m, masks @ d
        ma, da = m.sum() - mb, d.sum() - db
        with np.errstate(divide="ignore", invalid="ignore"):
            return mb / db - ma / da

    return randomisation_p_value(
        stat, treated, blocks, max_exact=max_exact, resamples=resamples, seed=seed
    )


def min_permutation_p_value(n_a: int, n_b: int) -> float:
    """The smallest two-sided p-value an exact permutation test over stores can reach."""
    total = math.comb(n_a + n_b, n_b)
    # the observed split and (for equal groups) its mirror image are always as extreme
    return min(1.0, (2 if n_a == n_b else 1) / total)


# --- multiple comparisons -------------------------------------------------------------------


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment (family-wise error rate); order of the input is kept."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini–Hochberg step-up adjustment (false discovery rate); input order kept."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i], reverse=True)
    adjusted = [0.0] * m
    running = 1.0
    for pos, i in enumerate(order):
        rank = m - pos
        running = min(running, p_values[i] * m / rank)
        adjusted[i] = min(1.0, running)
    return adjusted


CORRECTIONS = {"holm": holm, "bh": benjamini_hochberg, "none": lambda p: list(p)}


def adjust_p_values(p_values: Sequence[float | None], method: str = "holm") -> list[float | None]:
    """Adjust the p-values that exist; ``None`` stays ``None`` and does not count."""
    if method not in CORRECTIONS:
        raise ValueError(f"unknown correction {method!r}; use one of {sorted(CORRECTIONS)}")
    present = [i for i, p in enumerate(p_values) if p is not None]
    adjusted = CORRECTIONS[method]([p_values[i] for i in present])
    out: list[float | None] = [None] * len(p_values)
    for i, p in zip(present, adjusted, strict=True):
        out[i] = p
    return out
