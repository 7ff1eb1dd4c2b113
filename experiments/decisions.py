"""Recommendations from an analysis, and the decisions analysts record.

``recommend`` looks at the primary metric's comparisons (each challenger against the baseline),
the guardrails and the SRM check, and returns one of ``roll_out``, ``extend``, ``iterate``,
``scrap`` or ``keep_running`` with reasons a person can read. Rules, in order:

1. No data yet, or fewer than 2 units in a variant → ``keep_running``.
2. Sample ratio mismatch (SRM p < 0.001) → ``keep_running``: the split is not what was planned,
   so no result can be trusted until the cause is found.
3. A challenger is significantly better on the primary metric (p < alpha after Holm over the
   decision family, primary × challengers only; in the metric's good direction) and no
   guardrail is significantly worse (unadjusted p < alpha)
   → ``roll_out`` (the best such challenger by chance to win).
4. A challenger wins on the primary metric but harms a guardrail → ``iterate`` (fix the harm,
   test again).
5. Every challenger is significantly worse on the primary metric → ``scrap``.
6. Otherwise the result is inconclusive:
   - end date not reached → ``keep_running``;
   - a challenger has a p-value but no CI (zero variance) → ``extend``, saying the size of the
     effect is unknown;
   - ``min_effect`` is set and every challenger's CI lies below it in the good direction (any
     effect is too small to matter) → ``scrap`` if no point estimate is positive, else
     ``iterate`` (it helps a little; a better version might help enough);
   - else → ``extend`` (the CI still includes effects worth having: more stores or more time;
     ``Decision.extend_by`` and a reason say how many more stores, or weeks at the observed
     sessions a day, reach the planned power for ``min_effect`` (``experiments.extension``);
     for unit=store the reasons say when the store count cannot reach significance at all,
     or not after the Holm adjustment).

Before the planned end date (``today <= end``) only the sequential test may end an experiment
(``experiments.sequential``; its p stays valid however often it is looked at, while a
fixed-horizon p looked at daily rejects a true null far more often than alpha). Rules 3–5 then
read "significant" as: the sequential p, adjusted in the same family, is below alpha (with one
challenger: the sequential CI excludes 0). An early ``roll_out`` still needs every guardrail
clear on the (more sensitive) fixed-horizon test; an early ``iterate`` needs the guardrail harm
to be sequentially significant too. A fixed-horizon result alone keeps the experiment running,
and so does everything in a store-randomised experiment (no sequential test: the permutation
test over one fixed store assignment is read once, at the end).

``record_decision`` appends what the team decided to ``lab/experiments/<id>.decisions.jsonl``
(the lab is kept in git; the database has a single writer, ingest).
"""

from __future__ import annotations

import getpass
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from errors import InvalidInputError
from experiments import sequential
from experiments.extension import describe as describe_extension
from experiments.extension import extension
from experiments.results import Comparison, Decision, MetricResult, SrmCheck

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from experiments.spec import ExperimentSpec
    from lab import Lab

DECISIONS: tuple[str, ...] = ("roll_out", "extend", "iterate", "scrap")
RECOMMENDATIONS: tuple[str, ...] = (*DECISIONS, "keep_running")


def _good(c: Comparison, higher_is_better: bool) -> tuple[float, float, float]:
    """(effect, ci_low, ci_high) turned so that positive is good."""
    if higher_is_better:
        return c.abs_effect, c.ci_low, c.ci_high
    return -c.abs_effect, -c.ci_high, -c.ci_low


def _effect(metric: MetricResult, x: float | None) -> str:
    """An effect as an analyst would say it: proportions in percentage points (no unit)."""
    if x is None:
        return "n/a"
    return f"{x * 100:+.1f}" if metric.is_proportion else f"{x:+.3g}"


def _p(x: float | None) -> str:
    return "n/a" if x is None else ("< 0.001" if x < 0.001 else f"= {x:.2g}")


def _describe(metric: MetricResult, c: Comparison) -> str:
    """One comparison as an analyst would say it: proportions in percentage points."""
    unit = " pp" if metric.is_proportion else ""
    chance = "n/a" if c.chance_to_win is None else f"{c.chance_to_win:.0%}"
    return (
        f"{c.variant} vs {c.baseline} on {metric.metric}: {_effect(metric, c.abs_effect)}{unit} "
        f"(95% CI {_effect(metric, c.ci_low)} to {_effect(metric, c.ci_high)}{unit}; "
        f"p {_p(c.p_value)}, adjusted p {_p(c.p_adjusted)}; chance to win {chance})"
    )


def _describe_sequential(metric: MetricResult, c: Comparison) -> str:
    """The sequential reading of a comparison, in the words of ``_describe``."""
    s = c.sequential
    if s is None:
        return f"{c.variant} vs {c.baseline} on {metric.metric}: no sequential test."
    unit = " pp" if metric.is_proportion else ""
    return (
        f"Sequential test (valid at any look), {c.variant} vs {c.baseline} on {metric.metric}: "
        f"sequential CI {_effect(metric, s.ci_low)} to {_effect(metric, s.ci_high)}{unit}; "
        f"p {_p(s.p_value)}, adjusted p {_p(s.p_adjusted)}"
    )


def _harm(
    guardrails: Sequence[MetricResult],
    variant: str,
    significant: Callable[[Comparison], bool] = lambda c: c.significant,
) -> list[str]:
    """The guardrails ``variant`` made significantly worse, described."""
    return [
        _describe(g, c)
        for g in guardrails
        for c in g.comparisons
        if c.variant == variant
        and significant(c)
        and c.abs_effect is not None
        and _good(c, g.higher_is_better)[0] < 0
    ]


def _split(
    comps: Sequence[Comparison], hib: bool, significant: Callable[[Comparison], bool]
) -> tuple[list[Comparison], list[Comparison]]:
    """(significantly better, significantly worse) challengers on the primary metric."""
    winners = [c for c in comps if significant(c) and _good(c, hib)[0] > 0]
    losers = [c for c in comps if significant(c) and _good(c, hib)[0] < 0]
    return winners, losers


def _not_ready(spec: ExperimentSpec, primary: MetricResult, srm: SrmCheck) -> str | None:
    """Why no result can be read yet (rules 1 and 2), or None."""
    units = {v.variant: v.units for v in primary.variants}
    if sum(units.values()) == 0:
        return f"No {spec.unit}s with {primary.metric} data yet."
    thin = [v for v, n in units.items() if n < 2]
    if thin:
        return (
            f"Not enough data: {', '.join(thin)} has fewer than 2 {spec.unit}s with "
            f"{primary.metric} values."
        )
    if not srm.ok:
        return (
            f"Sample ratio mismatch (p={srm.p_value:.2g}): {srm.unit} counts "
            f"{srm.counts} do not match the plan {srm.planned}. Find the cause (broken "
            "assignment, a store not running its variant, lost events) before trusting results."
        )
    if all(c.p_value is None for c in primary.comparisons):
        return f"{primary.metric} cannot be compared yet (no variance)."
    return None


def recommend(
    spec: ExperimentSpec,
    metrics: Sequence[MetricResult],
    srm: SrmCheck,
    *,
    today: date,
    correction: str = "holm",
) -> Decision:
    """The recommendation and its reasons (rules in the module docstring)."""
    primary = next(m for m in metrics if m.role == "primary")
    guardrails = [m for m in metrics if m.role == "guardrail"]
    hib = primary.higher_is_better

    def result(recommendation: str, *reasons: str) -> Decision:
        return Decision(recommendation, reasons)

    waiting = _not_ready(spec, primary, srm)
    if waiting:
        return result("keep_running", waiting)
    comps = [c for c in primary.comparisons if c.p_value is not None]
    if today <= spec.end:
        return _early(spec, metrics, comps, today=today, correction=correction)
    winners, losers = _split(comps, hib, lambda c: c.significant)

    clean_winners = [c for c in winners if not _harm(guardrails, c.variant)]
    if clean_winners:
        best = max(clean_winners, key=lambda c: c.chance_to_win or 0)
        return result(
            "roll_out",
            _describe(primary, best),
            "No guardrail is significantly worse." if guardrails else "No guardrails defined.",
        )
    if winners:
        c = winners[0]
        return result(
            "iterate",
            _describe(primary, c),
            *(f"Guardrail worse: {h}" for h in _harm(guardrails, c.variant)),
            "Fix what hurts the guardrail, then test the next version.",
        )
    if len(losers) == len(comps):
        return result(
            "scrap",
            *(_describe(primary, c) for c in losers),
            "Significantly worse than the baseline.",
        )
    return _inconclusive(spec, metrics, comps, today=today, correction=correction)


def _early(
    spec: ExperimentSpec,
    metrics: Sequence[MetricResult],
    comps: list[Comparison],
    *,
    today: date,
    correction: str,
) -> Decision:
    """Rules 3–5 before the planned end: only the sequential test may end the experiment."""
    primary = next(m for m in metrics if m.role == "primary")
    guardrails = [m for m in metrics if m.role == "guardrail"]
    days_left = (spec.end - today).days + 1

    def seq(c: Comparison) -> bool:
        return sequential.significant(c, spec.alpha)

    allowed = (
        f"The sequential test allows deciding before the planned end ({spec.end}, {days_left} "
        "days left): its p-value stays valid however often the results are looked at."
    )
    winners, losers = _split(comps, primary.higher_is_better, seq)
    clean = [c for c in winners if not _harm(guardrails, c.variant)]
    if clean:
        best = max(clean, key=lambda c: c.chance_to_win or 0)
        return Decision(
            "roll_out",
            (
                _describe(primary, best),
                _describe_sequential(primary, best),
                "No guardrail is significantly worse." if guardrails else "No guardrails defined.",
                allowed,
            ),
        )
    if winners:
        c = winners[0]
        harm = _harm(guardrails, c.variant, seq)
        looks = _harm(guardrails, c.variant)
        return Decision(
            "iterate" if harm else "keep_running",
            (
                _describe(primary, c),
                _describe_sequential(primary, c),
                *(f"Guardrail worse: {h}" for h in (harm or looks)),
                "Fix what hurts the guardrail, then test the next version. " + allowed
                if harm
                else "The guardrail looks worse, but not yet by the sequential test: keep "
                f"running to the planned end ({spec.end}, {days_left} days left).",
            ),
        )
    if comps and len(losers) == len(comps):
        return Decision(
            "scrap",
            (
                *(_describe(primary, c) for c in losers),
                *(_describe_sequential(primary, c) for c in losers),
                "Significantly worse than the baseline. " + allowed,
            ),
        )
    return _inconclusive(spec, metrics, comps, today=today, correction=correction)


def _not_early(spec: ExperimentSpec, comps: list[Comparison], days_left: int) -> list[str]:
    """Why a fixed-horizon result does not end the experiment before its planned end."""
    if not any(c.significant for c in comps):
        return []
    if spec.unit == "store":
        return [
            f"Significant at the fixed horizon, but a store-randomised experiment is read once, "
            f"at its planned end ({spec.end}, {days_left} days left): the permutation test "
            "over the store assignment is not valid at every look."
        ]
    return [
        "Significant at the fixed horizon, but not yet by the sequential test: before the "
        f"planned end ({spec.end}, {days_left} days left) only the sequential test may end the "
        "experiment; a fixed-horizon p looked at every day inflates false positives."
    ]


def _inconclusive(
    spec: ExperimentSpec,
    metrics: Sequence[MetricResult],
    comps: list[Comparison],
    *,
    today: date,
    correction: str,
) -> Decision:
    """Rule 6: no challenger is significantly better, and not all are significantly worse."""
    primary = next(m for m in metrics if m.role == "primary")
    hib = primary.higher_is_better
    units = {v.variant: v.units for v in primary.variants}
    reasons = [_describe(primary, c) for c in comps]
    floor_reasons = (
        _store_floor_reasons(spec, metrics, units, comps, correction)
        if spec.unit == "store"
        else []
    )
    if today <= spec.end:
        days_left = (spec.end - today).days + 1
        seq_reasons = [_describe_sequential(primary, c) for c in comps if c.sequential]
        return Decision(
            "keep_running",
            (
                *reasons,
                *seq_reasons,
                *_not_early(spec, comps, days_left),
                f"Not conclusive yet; the planned end is {spec.end} ({days_left} days left).",
                *floor_reasons,
            ),
        )
    no_ci = [c for c in comps if c.ci_low is None or c.ci_high is None]
    if no_ci:
        # a permutation p-value without a CI (zero variance, e.g. every store at 0%): nothing
        # says how large the effect could be, so it cannot be called too small to matter
        reasons.append(
            f"No confidence interval for {', '.join(c.variant for c in no_ci)} on "
            f"{primary.metric}: the values do not vary, so the size of the effect is unknown."
        )
    elif spec.min_effect is not None and all(_good(c, hib)[2] < spec.min_effect for c in comps):
        best_effect = max(_good(c, hib)[0] for c in comps)
        return Decision(
            "scrap" if best_effect <= 0 else "iterate",
            (
                *reasons,
                f"Any effect is smaller than the minimum effect worth having "
                f"({spec.min_effect:g}): "
                + (
                    "the idea does not move the metric."
                    if best_effect <= 0
                    else "it helps a little; a better version might help enough."
                ),
            ),
        )
    ext = extension(spec, primary)
    reasons.append(
        "Inconclusive at the planned end: the CI still includes effects worth having. "
        + (
            "Extend the pilot (more stores or more time); `storelab experiment power` says how "
            "much."
            if ext is None
            else f"Extend the pilot: {describe_extension(ext, primary.is_proportion)}"
        )
    )
    return Decision("extend", (*reasons, *floor_reasons), ext)


def _store_floor_reasons(
    spec: ExperimentSpec,
    metrics: Sequence[MetricResult],
    units: dict[str, int],
    comps: list[Comparison],
    correction: str,
) -> list[str]:
    """Say so when too few stores make significance impossible, before or after adjustment."""
    from experiments.frequentist import min_permutation_p_value

    family = sum(len(m.comparisons) for m in metrics if m.role == "primary")
    n_base = units[spec.baseline]
    out = []
    for c in comps:
        n_var = units[c.variant]
        floor = min_permutation_p_value(n_base, n_var)
        stores = f"With {n_base} + {n_var} stores the smallest possible p-value is {floor:.2g}"
        if floor >= spec.alpha:
            out.append(f"{stores} (≥ alpha {spec.alpha:g}): add stores.")
        elif correction == "holm" and min(1.0, floor * family) >= spec.alpha:
            out.append(
                f"{stores}, {min(1.0, floor * family):.2g} after Holm over {family} primary "
                f"comparisons (≥ alpha {spec.alpha:g}): add stores or test fewer challengers."
            )
    return out


# --- recorded decisions ------------------------------------------------------------------------


def decisions_path(lab: Lab, experiment_id: str) -> Path:
    return lab.experiments_dir / f"{experiment_id}.decisions.jsonl"


def record_decision(
    lab: Lab,
    experiment_id: str,
    decision: str,
    note: str,
    *,
    recommendation: str | None = None,
) -> dict:
    """Append one decision to ``lab/experiments/<id>.decisions.jsonl`` and return it."""
    from experiments.spec import load_experiment

    if decision not in DECISIONS:
        raise InvalidInputError(f"decision must be one of {', '.join(DECISIONS)}, not {decision!r}")
    if not note or not note.strip():
        raise InvalidInputError("--note is required: say why, for whoever reads this later")
    load_experiment(lab, experiment_id)  # the experiment must exist
    try:
        who = getpass.getuser()
    except (OSError, KeyError):
        who = None
    entry = {
        "ts": datetime.now(UTC).isoformat(timespec="seconds"),
        "experiment": experiment_id,
        "decision": decision,
        "note": note.strip(),
        "recommendation": recommendation,
        "by": who,
    }
    path = decisions_path(lab, experiment_id)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry, ensure_ascii=False) + "\n")
    return entry


def read_decisions(lab: Lab, experiment_id: str) -> list[dict]:
    """Recorded decisions of an experiment, oldest first."""
    path = decisions_path(lab, experiment_id)
    if not path.is_file():
        return []
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise InvalidInputError(f"{path}:{number}: not valid JSON: {exc}") from exc
    return out
