"""What a scorecard says, independent of where it is shown: labels, number formats, verdicts.

The HTML report, the terminal scorecard and the dashboard all read a typed analysis
(``experiments.results``) through these helpers, so the three never disagree on wording,
rounding or colour. Pure Python, no heavy imports.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from experiments.results import (
    Comparison,
    ExperimentResult,
    MetricResult,
    SrmCheck,
    VariantSummary,
)
from feedback.catalogue import CATALOGUE, Metric
from feedback.custom_measures import custom_metric, custom_name_problem, is_custom
from feedback.kpi_measures import is_kpi, kpi_metric

# --- colours: one palette for every output ---------------------------------------------------

BASELINE_COLOR = "#64748b"  # slate: the control / baseline variant everywhere
VARIANT_COLORS = ("#2563eb", "#d97706", "#7c3aed", "#0d9488", "#db2777")  # treatments in order
WIN_COLOR = "#15803d"
LOSS_COLOR = "#b91c1c"
FLAT_COLOR = "#475569"
MDE_COLOR = "rgba(37, 99, 235, 0.09)"

RECOMMENDATIONS: dict[str, tuple[str, str, str]] = {
    # key: (label, colour, one-line meaning)
    "roll_out": ("Roll out", "#15803d", "The treatment works and harms no guardrail."),
    "extend": (
        "Extend the pilot",
        "#b45309",
        "Promising but not conclusive yet: collect more data.",
    ),
    "iterate": ("Iterate", "#1d4ed8", "Mixed or weak result: change the prototype and test again."),
    "scrap": ("Scrap", "#b91c1c", "The idea does not help or hurts: drop it and try another."),
    "keep_running": (
        "Keep running",
        "#475569",
        "Too early to call: the experiment has not reached its planned sample yet.",
    ),
}

ROLE_ORDER = {"primary": 0, "secondary": 1, "guardrail": 2}
ROLE_LABELS = {"primary": "Primary", "secondary": "Secondary", "guardrail": "Guardrail"}

CORRECTIONS = {
    "holm": "Holm (family-wise error rate)",
    "bh": "Benjamini–Hochberg (false discovery rate)",
    "none": "none",
}


def recommendation(result: ExperimentResult) -> tuple[str, str, str, str]:
    """(key, label, colour, meaning) of the analysis' recommendation."""
    key = result.decision.recommendation
    label, colour, meaning = RECOMMENDATIONS[key]
    return key, label, colour, meaning


def rework_title(result: ExperimentResult) -> str | None:
    """The heading over a decision's screens to rework (None when it names none)."""
    screens = result.decision.rework_screens
    if not screens:
        return None
    return (
        f"Screens to rework first (variant {screens[0].variant}, version {screens[0].version};"
        " by their share of failures, drop-off and misclicks)"
    )


def measure(name: str) -> Metric | None:
    """The catalogue's definition of metric ``name`` (a store KPI's for ``kpi:<name>``; None
    for one it does not know)."""
    if is_kpi(name):
        return kpi_metric(name)
    if is_custom(name):
        return custom_metric(name) if custom_name_problem(name) is None else None
    return CATALOGUE.metrics.get(name)


def metric_label(name: str) -> str:
    """The metric's English label from the catalogue."""
    m = measure(name)
    return m.label_in("en") if m else name.replace("_", " ").capitalize()


def unit_suffix(metric: MetricResult) -> str:
    """ " s" for seconds and the like; empty for unitless scores."""
    m = measure(metric.metric)
    return f" {m.unit}" if m and m.unit else ""


def sorted_metrics(result: ExperimentResult) -> list[MetricResult]:
    """Metrics in report order: primary, secondary, guardrails (stable within a role)."""
    return sorted(result.metrics, key=lambda m: ROLE_ORDER[m.role])


def variant_colors(result: ExperimentResult) -> dict[str, str]:
    """Baseline slate, treatments blue, amber, violet … in the same order everywhere."""
    return {
        name: BASELINE_COLOR if i == 0 else VARIANT_COLORS[(i - 1) % len(VARIANT_COLORS)]
        for i, name in enumerate(result.variant_names)
    }


def correction_label(result: ExperimentResult) -> str:
    return CORRECTIONS.get(result.correction, result.correction)


def no_relative_note(result: ExperimentResult) -> str:
    """Why some rows have no relative effect ("" when every metric may have one)."""
    names = [
        metric_label(m.metric)
        for m in sorted_metrics(result)
        if (spec := measure(m.metric)) is not None and spec.crosses_zero
    ]
    if not names:
        return ""
    return (
        f"No relative effect (–) for {', '.join(names)}: its scale crosses zero, so a "
        "percentage of the baseline means nothing; read the absolute effect."
    )


def mislabelled_note(result: ExperimentResult) -> str:
    """A warning naming the stores that sent sessions under another variant than theirs
    ("" when there are none). Those sessions are in no metric and not in the SRM."""
    total = result.mislabelled_total
    if not total:
        return ""
    parts = [
        f"{store} sent {n} labelled “{label}”"
        for store, labels in result.mislabelled_sessions.items()
        for label, n in labels.items()
    ]
    sessions = "session" if total == 1 else "sessions"
    return (
        f"{total} {sessions} left out of every metric: {'; '.join(parts)}, which is not the "
        "variant this experiment assigns to that store. Check the variant set on the store's "
        "devices."
    )


def level(result: ExperimentResult) -> str:
    """The confidence level of the intervals in percent: "95" for alpha 0.05."""
    return f"{100 * (1 - result.alpha):.0f}"


# --- numbers ----------------------------------------------------------------------------------


def _finite(x: Any) -> bool:
    """A number that can be shown (the formatters below also take None)."""
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _decimals(magnitude: float) -> int:
    if magnitude >= 100:
        return 0
    if magnitude >= 10:
        return 1
    if magnitude >= 1:
        return 2
    return 3


def fmt_value(metric: MetricResult, value: float | None) -> str:
    """A variant's mean in the metric's units: 61.0 % for proportions, 48.2 s, 71.4."""
    if not _finite(value):
        return "–"
    if metric.is_proportion:
        return f"{value * 100:.1f}%"
    return f"{value:,.{metric_decimals(metric, value)}f}{unit_suffix(metric)}"


def metric_decimals(metric: MetricResult, fallback: float = 0.0) -> int:
    """Decimals for a mean metric, from the size of its baseline mean (71.4, 48.2 s, 3.42)."""
    scale = baseline_mean(metric)
    return _decimals(abs(scale if scale is not None else fallback))


def fmt_abs_effect(metric: MetricResult, value: float | None, *, sign: bool = True) -> str:
    """An absolute difference: +6.2 pp for proportions, −4.1 s, +3.5."""
    if not _finite(value):
        return "–"
    s = "+" if sign and value > 0 else ""
    if metric.is_proportion:
        return _minus(f"{s}{value * 100:.1f} pp")
    return _minus(f"{s}{value:,.{metric_decimals(metric, value)}f}{unit_suffix(metric)}")


def fmt_rel(value: Any, *, sign: bool = True) -> str:
    if not _finite(value):
        return "–"
    s = "+" if sign and value > 0 else ""
    return _minus(f"{s}{value * 100:.1f}%")


def fmt_ci(low: Any, high: Any, fmt) -> str:
    if not (_finite(low) and _finite(high)):
        return "–"
    return f"[{fmt(low)}, {fmt(high)}]"


def fmt_p(p: Any) -> str:
    if not _finite(p):
        return "–"
    if p < 0.001:
        return "<0.001"
    if p < 0.1:
        return f"{p:.3f}"
    return f"{p:.2f}"


def fmt_chance(p: Any) -> str:
    if not _finite(p):
        return "–"
    pct = p * 100
    if pct > 99.9:
        return ">99.9%"
    if pct < 0.1:
        return "<0.1%"
    return f"{pct:.1f}%"


def has_sequential(result: ExperimentResult) -> bool:
    """Does any comparison carry the always-valid (sequential) reading (unit=session)?"""
    return any(c.sequential is not None for m in result.metrics for c in m.comparisons)


def fmt_sequential_p(c: Comparison) -> str:
    """The sequential p, adjusted in the comparison's family (what may end it early)."""
    return fmt_p(c.sequential.p_adjusted if c.sequential else None)


def fmt_sequential_ci(metric: MetricResult, c: Comparison) -> str:
    """The sequential (always-valid) CI of the absolute effect."""
    s = c.sequential
    if s is None:
        return "–"
    return fmt_ci(s.ci_low, s.ci_high, lambda v: fmt_abs_effect(metric, v))


SEQUENTIAL_NOTE = (
    "Sequential p and CI stay valid however often the results are looked at (a mixture SPRT "
    "and its confidence sequence, as GrowthBook's sequential testing); the sequential p is "
    "adjusted like p adj. Before the planned end only they may end the experiment: a "
    "fixed-horizon p looked at every day finds a difference that is not there far more often "
    "than α."
)


def fmt_int(n: Any) -> str:
    return f"{n:,}" if isinstance(n, int) and not isinstance(n, bool) else "–"


def _minus(text: str) -> str:
    return text.replace("-", "−")


# --- verdicts -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One line of the metrics table: a metric's comparison of one variant with its baseline."""

    metric: MetricResult
    comparison: Comparison
    baseline: VariantSummary | None
    variant: VariantSummary | None

    @property
    def name(self) -> str:
        return self.metric.metric

    @property
    def label(self) -> str:
        return metric_label(self.name)

    @property
    def role(self) -> str:
        return self.metric.role

    @property
    def outcome(self) -> str:
        return outcome(self.metric, self.comparison)


def outcome(metric: MetricResult, comparison: Comparison) -> str:
    """``win``, ``loss`` or ``flat``: significant in the good or the bad direction, or neither."""
    effect = comparison.abs_effect
    if not comparison.significant or effect is None or effect == 0:
        return "flat"
    good = effect > 0 if metric.higher_is_better else effect < 0
    return "win" if good else "loss"


OUTCOME_COLORS = {"win": WIN_COLOR, "loss": LOSS_COLOR, "flat": FLAT_COLOR}
OUTCOME_LABELS = {"win": "better", "loss": "worse", "flat": "inconclusive"}


def rows(result: ExperimentResult) -> list[Row]:
    """Every (metric, comparison) pair in report order."""
    return [
        Row(metric, comp, metric.variant(comp.baseline), metric.variant(comp.variant))
        for metric in sorted_metrics(result)
        for comp in metric.comparisons
    ]


def baseline_mean(metric: MetricResult) -> float | None:
    """The mean of the metric's baseline (the first variant)."""
    return metric.variants[0].mean if metric.variants else None


def srm_summary(srm: SrmCheck) -> tuple[bool | None, str]:
    """(ok, sentence) about the sample ratio check; ``ok`` is None when it could not run.

    ``counts`` are the randomised units (stores for unit=store, sessions for unit=session).
    For stores the sentence compares them with the planned stores; for sessions with the
    counts the planned allocation leads one to expect.
    """
    units = f"{srm.unit}s"
    if srm.unit == "store":  # planned units per variant: "control 6/6 stores"
        split = (
            " · ".join(
                f"{name} {fmt_int(n)}/{fmt_int(int(srm.planned[name]))}"
                for name, n in srm.counts.items()
            )
            + f" planned {units} delivered data"
            + " ("
            + " vs ".join(fmt_int(n) for n in srm.sessions.values())
            + " sessions)"
        )
    else:
        split = " · ".join(f"{name} {fmt_int(n)}" for name, n in srm.counts.items()) + f" {units}"
        split += ", planned " + " / ".join(f"{100 * v:.0f}%" for v in srm.planned.values())
        if srm.p_value is not None:
            split += " (expected " + " · ".join(f"{v:,.0f}" for v in srm.expected.values()) + ")"
    if srm.p_value is None:
        return None, f"Sample ratio check not possible yet: {split}."
    rule = f"; a mismatch is p < {srm.threshold:g}"
    if srm.ok:
        return True, (
            f"Sample ratio OK: {split}. χ² p = {fmt_p(srm.p_value)}{rule}. "
            "The variants got their planned share."
        )
    return False, (
        f"Sample ratio mismatch: {split}. χ² p = {fmt_p(srm.p_value)}{rule}. The variants did "
        "not get their planned share (assignment, logging, a store offline?): find the cause "
        "before trusting any effect below."
    )


def families_note(result: ExperimentResult) -> str:
    """Which comparisons were adjusted together, and how (the analysis' ``families``)."""
    fam = result.families
    label = correction_label(result)
    decision, secondary = fam["decision"]["comparisons"], fam["secondary"]["comparisons"]
    text = (
        f"p-values are adjusted within each family with {label}: the decision family is the "
        f"primary metric × challengers ({decision} comparison{'s' if decision != 1 else ''}"
        + ("; with one challenger its adjusted p is its raw p" if decision == 1 else "")
        + ")"
    )
    if secondary:
        text += f", the secondary metrics form their own ({secondary})"
    return text[0].upper() + text[1:] + "."


def guardrails_unadjusted(result: ExperimentResult) -> bool:
    """True when guardrail p-values were left unadjusted (as experiments.analysis does)."""
    comps = [
        c
        for m in result.metrics
        if m.role == "guardrail"
        for c in m.comparisons
        if c.p_value is not None
    ]
    return bool(comps) and all(c.p_adjusted == c.p_value for c in comps)


def methods(result: ExperimentResult) -> list[str]:
    """Paragraphs that say which tests were used and why."""
    method_names = sorted({c.method for m in result.metrics for c in m.comparisons})
    paras = []
    if result.unit == "store":
        paras.append(
            "Store-randomised: every pilot store ran exactly one variant, so the store, not the "
            f"session, is the unit of inference{_units(result)}. Sessions in one store share "
            "staff, stock, footfall and layout, so they are not independent; a per-session test "
            "would overstate the evidence and give false positives far above α."
        )
        paras.append(
            "Each variant's value is the mean over its sessions (sum of session values over "
            "sessions with a value, pooled over its stores). Its confidence interval uses a "
            "small-sample cluster-robust variance with stores as the units (CR2) and Student's t "
            "with Bell–McCaffrey degrees of freedom (fewer than stores − 2 when a few big stores "
            "carry most sessions), which keeps 95% coverage with a handful of stores of very "
            "different size. The p-value is an exact (or "
            "Monte-Carlo) permutation p-value over all possible store assignments, which needs "
            "no distributional assumption."
        )
    else:
        paras.append(
            "Session-randomised: each session was assigned a variant independently, so the "
            "session is the unit. Effects are tested with Welch's two-sided t-test on per-session "
            "values (0/1 for proportions), which does not assume equal variances; confidence "
            "intervals use Welch–Satterthwaite degrees of freedom."
        )
    ratios = [
        metric_label(m.metric)
        for m in sorted_metrics(result)
        if (spec := measure(m.metric)) is not None and spec.is_ratio
    ]
    if ratios:
        paras.append(
            f"{', '.join(ratios)}: a ratio of totals (the sum of the numerator over the sum of "
            "the denominator across a variant's sessions, e.g. all misclicks over all taps and "
            "misclicks), not an average of per-session ratios. With sessions as the unit its "
            "variance comes from the delta method; with stores, each store's value is its own "
            "ratio of totals and the store-level interval above applies."
        )
    if method_names:
        paras.append("Tests reported by the analysis: " + "; ".join(method_names) + ".")
    if has_sequential(result):
        paras.append(
            "Safe peeking: beside each fixed-horizon p and CI stands a sequential one, valid at "
            "every look (the normal-mixture SPRT and its asymptotic confidence sequence, "
            "Waudby-Smith et al. 2023, as GrowthBook's gbstats computes it; tuned for the "
            "spec's planned_sessions, else 5,000). Read daily over a four-week A/A pilot it "
            "rejects in about 1–2% of pilots, the fixed-horizon test read daily in about 27%. "
            "Before the planned end only a sequential p (adjusted like p adj.) below α may end "
            "the experiment; after it the fixed-horizon test decides, as planned. Its interval "
            "is wider: at the end an effect of the planned size is found in about half the "
            "pilots (80% at the fixed horizon)."
        )
    paras.append(
        f"Intervals are {level(result)}% confidence intervals. Relative effects and their "
        "intervals use the delta method (as GrowthBook's gbstats does)."
    )
    guard = (
        " Guardrail p-values are not adjusted: for a safety check, missing harm is the costlier "
        "mistake, so each guardrail is held to α on its own."
        if guardrails_unadjusted(result)
        else ""
    )
    paras.append(
        f"{families_note(result)} A result counts as significant when its adjusted p-value is "
        f"below α = {result.alpha}.{guard}"
    )
    paras.append(
        "Chance to win is the Bayesian posterior probability that the variant is better than "
        "the baseline (flat prior, direction-aware: for time on task and misclicks, lower is "
        "better), from the same standard error and t degrees of freedom as the confidence "
        "interval, on the relative effect where there is one; it is below 2.5% or above "
        "97.5% exactly when the 95% interval excludes zero. Risk is the expected loss of "
        "choosing the variant, in the metric's own unit."
    )
    paras.append(
        "The sample ratio check is a χ² test of the observed unit counts against the planned "
        "allocation; a mismatch means the randomisation or the logging is broken."
    )
    return paras


def _units(result: ExperimentResult) -> str:
    """ " (12 stores: control 6, treatment 6)" from the primary metric's variants."""
    variants = result.primary.variants
    return (
        f" ({sum(v.units for v in variants)} stores: "
        + ", ".join(f"{v.variant} {v.units}" for v in variants)
        + ")"
    )
