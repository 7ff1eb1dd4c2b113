"""What a scorecard says, independent of where it is shown: labels, number formats, verdicts.

The HTML report, the terminal scorecard and the dashboard all read an analysis dict (DESIGN.md's
``analyze --json`` shape) through these helpers, so the three never disagree on wording, rounding
or colour. Pure Python, no heavy imports.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from feedback.catalogue import CATALOGUE, Metric

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
    "benjamini_hochberg": "Benjamini–Hochberg (false discovery rate)",
    "fdr_bh": "Benjamini–Hochberg (false discovery rate)",
    "bonferroni": "Bonferroni (family-wise error rate)",
    "none": "none",
}


def recommendation(analysis: dict) -> tuple[str, str, str, str]:
    """(key, label, colour, meaning) of the analysis' recommendation."""
    key = (analysis.get("decision") or {}).get("recommendation") or "keep_running"
    label, colour, meaning = RECOMMENDATIONS.get(
        key, (key.replace("_", " ").title(), FLAT_COLOR, "")
    )
    return key, label, colour, meaning


def reasons(analysis: dict) -> list[str]:
    return list((analysis.get("decision") or {}).get("reasons") or [])


def measure(name: str) -> Metric | None:
    """The catalogue's definition of metric ``name`` (None for one it does not know)."""
    return CATALOGUE.metrics.get(name)


def metric_label(name: str) -> str:
    """The metric's English label from the catalogue."""
    m = measure(name)
    return m.label_in("en") if m else name.replace("_", " ").capitalize()


def unit_suffix(metric: dict) -> str:
    """ " s" for seconds and the like; empty for unitless scores."""
    m = measure(metric.get("metric", ""))
    return f" {m.unit}" if m and m.unit else ""


def higher_is_better(metric: dict) -> bool:
    """Direction of a metric, as the catalogue defines it."""
    m = measure(metric.get("metric", ""))
    return m.higher_is_better if m else bool(metric.get("higher_is_better", True))


def is_proportion(metric: dict) -> bool:
    return metric.get("kind") == "proportion"


def sorted_metrics(analysis: dict) -> list[dict]:
    """Metrics in report order: primary, secondary, guardrails (stable within a role)."""
    metrics = list(analysis.get("metrics") or [])
    return sorted(metrics, key=lambda m: ROLE_ORDER.get(m.get("role", ""), 9))


def variant_names(analysis: dict) -> list[str]:
    """Every variant in the analysis, baseline first."""
    names: list[str] = []
    for metric in analysis.get("metrics") or []:
        for comp in metric.get("comparisons") or []:
            if comp.get("baseline") and comp["baseline"] not in names:
                names.insert(0, comp["baseline"])
        for v in metric.get("variants") or []:
            if v.get("variant") not in names:
                names.append(v["variant"])
    for name in (analysis.get("srm") or {}).get("counts") or {}:
        if name not in names:
            names.append(name)
    return names


def variant_colors(analysis: dict) -> dict[str, str]:
    """Baseline slate, treatments blue, amber, violet … in the same order everywhere."""
    names = variant_names(analysis)
    colours = {}
    for i, name in enumerate(names):
        colours[name] = BASELINE_COLOR if i == 0 else VARIANT_COLORS[(i - 1) % len(VARIANT_COLORS)]
    return colours


def correction_label(analysis: dict) -> str:
    key = str(analysis.get("correction") or "holm")
    return CORRECTIONS.get(key.lower(), key)


# --- numbers ----------------------------------------------------------------------------------


def _finite(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _decimals(magnitude: float) -> int:
    if magnitude >= 100:
        return 0
    if magnitude >= 10:
        return 1
    if magnitude >= 1:
        return 2
    return 3


def fmt_value(metric: dict, value: Any) -> str:
    """A variant's mean in the metric's units: 61.0 % for proportions, 48.2 s, 71.4."""
    if not _finite(value):
        return "–"
    if is_proportion(metric):
        return f"{value * 100:.1f}%"
    return f"{value:,.{metric_decimals(metric, value)}f}{unit_suffix(metric)}"


def metric_decimals(metric: dict, fallback: float = 0.0) -> int:
    """Decimals for a mean metric, from the size of its baseline mean (71.4, 48.2 s, 3.42)."""
    scale = baseline_mean(metric)
    return _decimals(abs(scale if scale is not None else fallback))


def fmt_abs_effect(metric: dict, value: Any, *, sign: bool = True) -> str:
    """An absolute difference: +6.2 pp for proportions, −4.1 s, +3.5."""
    if not _finite(value):
        return "–"
    s = "+" if sign and value > 0 else ""
    if is_proportion(metric):
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


def fmt_int(n: Any) -> str:
    return f"{n:,}" if isinstance(n, int) and not isinstance(n, bool) else "–"


def _minus(text: str) -> str:
    return text.replace("-", "−")


# --- verdicts -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One line of the metrics table: a metric's comparison of one variant with its baseline."""

    metric: dict
    comparison: dict
    baseline: dict | None
    variant: dict | None

    @property
    def name(self) -> str:
        return self.metric.get("metric", "")

    @property
    def label(self) -> str:
        return metric_label(self.name)

    @property
    def role(self) -> str:
        return self.metric.get("role", "")

    @property
    def outcome(self) -> str:
        return outcome(self.metric, self.comparison)

    @property
    def p_adjusted(self) -> Any:
        c = self.comparison
        return c.get("p_adjusted", c.get("p_value"))


def outcome(metric: dict, comparison: dict) -> str:
    """``win``, ``loss`` or ``flat``: significant in the good or the bad direction, or neither."""
    effect = comparison.get("abs_effect")
    if not comparison.get("significant") or not _finite(effect) or effect == 0:
        return "flat"
    good = effect > 0 if higher_is_better(metric) else effect < 0
    return "win" if good else "loss"


OUTCOME_COLORS = {"win": WIN_COLOR, "loss": LOSS_COLOR, "flat": FLAT_COLOR}
OUTCOME_LABELS = {"win": "better", "loss": "worse", "flat": "inconclusive"}


def rows(analysis: dict) -> list[Row]:
    """Every (metric, comparison) pair in report order."""
    out = []
    for metric in sorted_metrics(analysis):
        by_name = {v.get("variant"): v for v in metric.get("variants") or []}
        comps = metric.get("comparisons") or []
        if not comps:
            out.append(Row(metric, {}, next(iter(by_name.values()), None), None))
        for comp in comps:
            out.append(
                Row(
                    metric,
                    comp,
                    by_name.get(comp.get("baseline")),
                    by_name.get(comp.get("variant")),
                )
            )
    return out


def mde_for(analysis: dict, metric: dict) -> float | None:
    """The minimum effect of interest in the metric's own units, where the analysis gives one."""
    for key in ("mde", "min_effect"):
        if _finite(metric.get(key)):
            return float(metric[key])
    if metric.get("role") == "primary" and _finite(analysis.get("min_effect")):
        return float(analysis["min_effect"])
    return None


def baseline_mean(metric: dict) -> float | None:
    comps = metric.get("comparisons") or []
    base = comps[0].get("baseline") if comps else None
    for v in metric.get("variants") or []:
        if v.get("variant") == base or base is None:
            return v.get("mean") if _finite(v.get("mean")) else None
    return None


def srm_summary(analysis: dict) -> tuple[bool | None, str]:
    """(ok, sentence) about the sample ratio check; ``ok`` is None when it could not run.

    ``counts`` are the randomised units (stores for unit=store, sessions for unit=session);
    ``planned`` is the planned split (counts or shares), ``sessions`` the sessions behind it.
    """
    srm = analysis.get("srm") or {}
    if not srm:
        return None, "No sample ratio check in this analysis."
    counts = srm.get("counts") or {}
    unit = srm.get("unit") or analysis.get("unit") or "session"
    units = f"{unit}s" if not unit.endswith("s") else unit
    planned = srm.get("planned") or srm.get("expected") or srm.get("allocation") or {}
    planned = {k: v for k, v in planned.items() if _finite(v)} if isinstance(planned, dict) else {}
    as_counts = bool(planned) and all(float(v).is_integer() and v >= 1 for v in planned.values())
    if as_counts:  # planned units per variant: "control 6/6 stores"
        split = (
            " · ".join(
                f"{name} {fmt_int(n)}/{fmt_int(int(planned[name]))}"
                if name in planned
                else f"{name} {fmt_int(n)}"
                for name, n in counts.items()
            )
            + f" planned {units} delivered data"
        )
    else:
        split = " · ".join(f"{name} {fmt_int(n)}" for name, n in counts.items()) + f" {units}"
        if planned:
            total = sum(planned.values()) or 1
            split += ", planned " + " / ".join(f"{100 * v / total:.0f}%" for v in planned.values())
    sessions = srm.get("sessions")
    if unit == "store" and isinstance(sessions, dict) and sessions:
        split += " (" + " vs ".join(fmt_int(n) for n in sessions.values()) + " sessions)"
    p_value = srm.get("p_value")
    if not _finite(p_value):
        return None, f"Sample ratio check not possible yet: {split}."
    threshold = srm.get("threshold")
    rule = f"; a mismatch is p < {threshold:g}" if _finite(threshold) else ""
    if srm.get("ok", True):
        return True, (
            f"Sample ratio OK: {split}. χ² p = {fmt_p(p_value)}{rule}. "
            "The variants got their planned share."
        )
    return False, (
        f"Sample ratio mismatch: {split}. χ² p = {fmt_p(p_value)}{rule}. The variants did not get "
        "their planned share (assignment, logging, a store offline?): find the cause before "
        "trusting any effect below."
    )


def guardrails_unadjusted(analysis: dict) -> bool:
    """True when guardrail p-values were left unadjusted (as experiments.analysis does)."""
    comps = [
        c
        for m in analysis.get("metrics") or []
        if m.get("role") == "guardrail"
        for c in m.get("comparisons") or []
        if _finite(c.get("p_value"))
    ]
    return bool(comps) and all(c.get("p_adjusted") == c.get("p_value") for c in comps)


def methods(analysis: dict) -> list[str]:
    """Paragraphs that say which tests were used and why."""
    unit = analysis.get("unit", "session")
    alpha = analysis.get("alpha", 0.05)
    level = f"{100 * (1 - alpha):.0f}" if _finite(alpha) else "95"
    method_names = sorted(
        {c.get("method") for m in analysis.get("metrics") or [] for c in m.get("comparisons") or []}
        - {None}
    )
    paras = []
    if unit == "store":
        n_units = _units(analysis)
        paras.append(
            "Store-randomised: every pilot store ran exactly one variant, so the store, not the "
            f"session, is the unit of inference{n_units}. Sessions in one store share staff, "
            "stock, footfall and layout, so they are not independent; a per-session test would "
            "overstate the evidence and give false positives far above α."
        )
        paras.append(
            "Each metric is a per-store ratio (sum of session values over sessions with a value); "
            "its variance comes from the delta method with stores as independent units "
            "(cluster-robust), and effects are tested with Welch's t on the store level with "
            "Welch–Satterthwaite degrees of freedom, so few stores give honestly wide intervals. "
            "Where stores are few, the p-value is an exact (or Monte-Carlo) permutation p-value "
            "over all possible store assignments, which needs no distributional assumption."
        )
    else:
        paras.append(
            "Session-randomised: each session was assigned a variant independently, so the "
            "session is the unit. Effects are tested with Welch's two-sided t-test on per-session "
            "values (0/1 for proportions), which does not assume equal variances; confidence "
            "intervals use Welch–Satterthwaite degrees of freedom."
        )
    if method_names:
        paras.append("Tests reported by the analysis: " + "; ".join(method_names) + ".")
    paras.append(
        f"Intervals are {level}% confidence intervals. Relative effects and their intervals use "
        "the delta method (as GrowthBook's gbstats does)."
    )
    guard = (
        " Guardrail p-values are not adjusted: for a safety check, missing harm is the costlier "
        "mistake, so each guardrail is held to α on its own."
        if guardrails_unadjusted(analysis)
        else ""
    )
    paras.append(
        "Several metrics and variants are tested at once, so the p-values of the primary and "
        f"secondary metrics are adjusted with {correction_label(analysis)}; a result counts as "
        f"significant when its adjusted p-value is below α = {alpha}.{guard}"
    )
    paras.append(
        "Chance to win is the Bayesian posterior probability that the variant is better than "
        "the baseline (normal posterior, flat prior, direction-aware: for time on task and "
        "misclicks, lower is better)."
    )
    paras.append(
        "The sample ratio check is a χ² test of the observed unit counts against the planned "
        "allocation; a mismatch means the randomisation or the logging is broken."
    )
    return paras


def _units(analysis: dict) -> str:
    for metric in analysis.get("metrics") or []:
        units = [v.get("units") for v in metric.get("variants") or []]
        if units and all(isinstance(u, int) for u in units):
            return (
                f" ({sum(units)} stores: "
                + ", ".join(f"{v.get('variant')} {v.get('units')}" for v in metric["variants"])
                + ")"
            )
    return ""
