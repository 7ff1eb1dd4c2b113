"""Breakdowns: every metric × challenger within each device, store, region, format, locale,
persona and context variable (weather, time of day, channel, loyalty, mood).

Pure: ``build_breakdowns(spec, slices, stores)`` sums the statistics of
``slice_statistics.statistics_with_slices`` per segment value and runs on each segment the very
test the final analysis runs (``analysis.unadjusted_metric_result``): Welch on the segment's
sessions for unit=session; for unit=store the store-level test over the segment's stores (a
region with stores of one arm only has no comparison, and one store never has one). Region and
format come from the lab's ``stores.csv``; persona and context from each session's
``session_start`` or handover tap (a dimension no session recorded is left out, not shown as
one "(none)").

Many segments × metrics are compared and nothing is adjusted, so some look significant by
chance alone; ``Breakdowns.caveat`` says how many, and every report prints it beside them. They
are made after the decision and never enter it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from experiments.analysis import unadjusted_metric_result
from experiments.slice_results import Breakdowns, SegmentComparison
from experiments.timeline import session_metrics
from feedback.events import CONTEXT_VARIABLES

if TYPE_CHECKING:
    from experiments.results import Comparison, MetricResult
    from experiments.slice_statistics import SliceData
    from experiments.spec import ExperimentSpec
    from lab import Store

PROFILE_DIMENSIONS = ("persona", *CONTEXT_VARIABLES)
DIMENSIONS = ("device", "store", "region", "format", "locale", *PROFILE_DIMENSIONS)
NONE_LABEL = "(none)"
ANONYMOUS = "anonymous"  # the persona segment of sessions without one (prototypes.personas)
UNKNOWN_STORE = "(not in stores.csv)"


def _segmenters(stores: Mapping[str, Store]) -> dict[str, tuple[str, Callable]]:
    """Per dimension: which slice it reads and the segment of a cell key (variant, store, v)."""

    def store_field(name: str) -> Callable:
        def segment(key) -> str:
            store = stores.get(key[1])
            return getattr(store, name) if store is not None else UNKNOWN_STORE

        return segment

    return {
        "device": ("device", lambda key: key[2] or NONE_LABEL),
        "store": ("device", lambda key: key[1]),
        "region": ("device", store_field("region")),
        "format": ("device", store_field("format")),
        "locale": ("locale", lambda key: key[2] or NONE_LABEL),
        "persona": ("persona", lambda key: key[2] or ANONYMOUS),
        **{d: (d, lambda key: key[2] or NONE_LABEL) for d in CONTEXT_VARIABLES},
    }


def build_breakdowns(
    spec: ExperimentSpec, slices: SliceData, stores: Mapping[str, Store]
) -> Breakdowns:
    """Every segment × metric × challenger of ``spec`` with the caveat for reading them."""
    rows: list[SegmentComparison] = []
    segments = 0
    for dimension, (source, segment_of) in _segmenters(stores).items():
        groups: dict[str, set] = {}
        for key in slices.cells[source]:
            groups.setdefault(segment_of(key), set()).add(key)
        if dimension in PROFILE_DIMENSIONS and all(k[2] is None for k in slices.cells[source]):
            continue  # no session recorded it: the prototype does not play with it
        segments += len(groups)
        for value in sorted(groups):
            data = slices.metric_data(source, groups[value].__contains__)
            for metric, role in session_metrics(spec):
                result = unadjusted_metric_result(spec, data, metric, role)
                rows += [_row(dimension, value, result, c) for c in result.comparisons]
    compared = sum(1 for r in rows if r.p_value is not None)
    caveat = multiple_testing_caveat(
        compared, segments, len(session_metrics(spec)), len(spec.variants) - 1, spec.alpha
    )
    return Breakdowns(spec.alpha, compared, caveat, tuple(rows))


def multiple_testing_caveat(
    comparisons: int, segments: int, metrics: int, challengers: int, alpha: float
) -> str:
    """The sentence printed beside every breakdown table."""
    if comparisons == 0:
        return "No segment has enough data in both arms to compare them yet."
    chance = comparisons * alpha
    return (
        f"{comparisons} segment comparisons ({segments} segments, {metrics} metrics, "
        f"{challengers} challenger{'s' if challengers != 1 else ''}), not adjusted for "
        f"multiple testing: at p < {alpha:g} about 1 in {round(1 / alpha)} looks significant "
        f"by chance alone (here about {chance:.0f}), even when the variant changes nothing. "
        "Use breakdowns to explore, not to decide; the recommendation ignores them."
    )


def _row(dimension: str, segment: str, result: MetricResult, c: Comparison) -> SegmentComparison:
    base, var = result.variant(c.baseline), result.variant(c.variant)
    return SegmentComparison(
        dimension=dimension,
        segment=segment,
        metric=result.metric,
        variant=c.variant,
        baseline=c.baseline,
        baseline_units=base.units if base else 0,
        variant_units=var.units if var else 0,
        baseline_sessions=base.sessions if base else 0,
        variant_sessions=var.sessions if var else 0,
        baseline_mean=base.mean if base else None,
        variant_mean=var.mean if var else None,
        abs_effect=c.abs_effect,
        ci_low=c.ci_low,
        ci_high=c.ci_high,
        p_value=c.p_value,
        method=c.method,
    )
