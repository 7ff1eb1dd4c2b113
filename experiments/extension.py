"""How long an inconclusive experiment must go on: "extend" with a number.

When the recommendation is ``extend`` and the spec has a ``min_effect``, ``extension`` plans the
experiment again with ``experiments.power``, this time at what the pilot observed, and says how
much more reaches the planned power for that minimum effect on the primary metric:

- unit=session: the sessions per variant ``power.sessions_needed`` asks for, at the observed
  baseline rate (a proportion) or the observed per-session sd (a mean metric, from the
  comparison's standard error: sd = se / √(1/n₁ + 1/n₂)). The pilot's traffic so far, sessions
  per day over its planned days, says how many more days and weeks that takes. All variants
  grow with time in their planned shares, so the variant with the fewest sessions decides.
- unit=store: the stores per variant ``power.stores_needed`` asks for over the same period,
  at the observed sessions per store, the coefficient of variation of the store sizes and, for
  a proportion, the observed baseline and ICC. The ICC comes from the observed design effect
  (the store test's variance over the variance of independent sessions, DE = se² / (σ₁²/n₁ +
  σ₂²/n₂)) through DE = 1 + ((1 + CV²)·m − 1)·ICC. For a mean metric (no per-session sd at the
  store level) the plan uses the sd of the store means with ICC 1 (each store one unit): the
  same formula then reads k = (t + t)²·2·sd²/δ².

Several challengers: each is planned, the largest need wins. Store KPIs (``kpi:<name>``) are
planned with ``experiment power --kpi`` and get no number here.
"""

from __future__ import annotations

import math
from datetime import date
from typing import TYPE_CHECKING

from experiments import power as pw
from experiments.results import Comparison, Extension, MetricResult

if TYPE_CHECKING:
    from experiments.spec import ExperimentSpec


def extension(spec: ExperimentSpec, primary: MetricResult) -> Extension | None:
    """How many more stores or weeks reach ``spec.power`` for ``spec.min_effect`` (None when
    it cannot be said: no min_effect, a store KPI, no baseline or no standard error)."""
    base = primary.variant(spec.baseline)
    comps = [c for c in primary.comparisons if c.se is not None and c.se > 0]
    if spec.min_effect is None or primary.metric.startswith("kpi:") or not comps:
        return None
    if base is None or base.mean is None or base.units < 2:
        return None
    if primary.is_proportion and not 0 < base.mean < 1:
        return None
    plan = _stores if spec.unit == "store" else _sessions
    options = [e for e in (plan(spec, primary, c) for c in comps) if e is not None]
    return max(options, key=lambda e: e.more_per_variant, default=None)


def _inputs(spec: ExperimentSpec, baseline: float, sd: float | None) -> pw.PowerInputs:
    return pw.PowerInputs(baseline=baseline, sd=sd, alpha=spec.alpha, power=spec.power,
                          challengers=max(len(spec.variants) - 1, 1))  # fmt: skip


def _sessions(spec: ExperimentSpec, primary: MetricResult, c: Comparison) -> Extension | None:
    base, other = primary.variant(c.baseline), primary.variant(c.variant)
    if base is None or other is None or other.sessions < 2:
        return None
    sd = None if primary.is_proportion else c.se / math.sqrt(1 / base.sessions + 1 / other.sessions)
    plan = pw.sessions_needed(spec.min_effect, _inputs(spec, base.mean, sd))
    needed = plan["per_variant"]
    now = min(v.sessions for v in primary.variants)
    days_so_far = _days(spec.start, spec.end)
    per_day = sum(v.sessions for v in primary.variants) / days_so_far
    more_days = math.ceil(days_so_far * (needed / now - 1) - 1e-9) if needed > now else 0
    return Extension(
        unit="session", metric=primary.metric, min_effect=spec.min_effect, power=spec.power,
        baseline=base.mean, sd=sd, icc=None, needed_per_variant=needed, now_per_variant=now,
        more_per_variant=max(needed - now, 0), sessions_per_day=per_day, days=more_days,
        weeks=math.ceil(more_days / 7),
    )  # fmt: skip


def _stores(spec: ExperimentSpec, primary: MetricResult, c: Comparison) -> Extension | None:
    base, other = primary.variant(c.baseline), primary.variant(c.variant)
    if base is None or other is None or other.units < 2:
        return None
    m = sum(v.sessions for v in primary.variants) / sum(v.units for v in primary.variants)
    if m < 1:
        return None
    if primary.is_proportion:
        var_b = base.mean * (1 - base.mean)
        p_c = min(max(other.mean if other.mean is not None else base.mean, 1e-6), 1 - 1e-6)
        design_effect = c.se**2 / (var_b / base.sessions + p_c * (1 - p_c) / other.sessions)
        cv = _size_cv(primary)
        icc = min(max((design_effect - 1) / max((1 + cv**2) * m - 1, 1e-9), 0.0), 1.0)
        sd, design = None, pw.StoreDesign(m, icc, cv)
    else:
        sd = c.se / math.sqrt(1 / base.units + 1 / other.units)  # between store means
        icc, design = None, pw.StoreDesign(m, 1.0, 0.0)
    plan = pw.stores_needed(spec.min_effect, _inputs(spec, base.mean, sd), design)
    needed = plan["stores_per_variant"]
    now = min(v.units for v in primary.variants)
    return Extension(
        unit="store", metric=primary.metric, min_effect=spec.min_effect, power=spec.power,
        baseline=base.mean, sd=sd, icc=icc, needed_per_variant=needed, now_per_variant=now,
        more_per_variant=max(needed - now, 0),
    )  # fmt: skip


def _size_cv(primary: MetricResult) -> float:
    """Coefficient of variation of the stores' sessions (0 without the per-store table)."""
    sizes = [s.sessions for s in primary.stores or () if s.sessions > 0]
    if len(sizes) < 2:
        return 0.0
    mean = sum(sizes) / len(sizes)
    var = sum((x - mean) ** 2 for x in sizes) / len(sizes)
    return min(math.sqrt(var) / mean, 9.99)


def _days(start: date, end: date) -> int:
    return max((end - start).days + 1, 1)


def describe(ext: Extension, is_proportion: bool) -> str:
    """The extension as the decision's reason says it, after "Extend the pilot: "."""
    effect = f"{ext.min_effect * 100:g} pp" if is_proportion else f"{ext.min_effect:g}"
    at = f"at the observed baseline {_num(ext.baseline, is_proportion)}"
    if ext.icc is not None:
        at += f" and ICC {ext.icc:.2g}"
    elif ext.sd is not None:
        at += f" and sd {ext.sd:.3g}" + (" of the store means" if ext.unit == "store" else "")
    goal = f"{ext.power:.0%} power for the minimum effect of {effect} ({ext.metric}, {at})"
    unit = ext.unit + "s"
    if ext.more_per_variant == 0:
        return (
            f"only if effects below the minimum matter. It already has the "
            f"{ext.needed_per_variant:,} {unit} per variant that give {goal}: the true effect is "
            "probably smaller than that, and more data only narrows the CI around it."
        )
    if ext.unit == "store":
        return (
            f"about {ext.more_per_variant} more stores per variant ({ext.needed_per_variant} "
            f"instead of {ext.now_per_variant}, over a period as long as this one) reach {goal}."
        )
    weeks = "1 more week" if ext.weeks == 1 else f"{ext.weeks} more weeks"
    return (
        f"about {weeks} ({ext.days} days) at today's {ext.sessions_per_day:,.0f} sessions a day "
        f"reach {goal}: {ext.needed_per_variant:,} sessions per variant instead of "
        f"{ext.now_per_variant:,}."
    )


def _num(x: float | None, is_proportion: bool) -> str:
    if x is None:
        return "n/a"
    return f"{x:.1%}" if is_proportion else f"{x:.3g}"
