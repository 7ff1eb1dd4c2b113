"""Results over time and breakdowns as the reports show them.

The breakdown table as HTML (the HTML report and the dashboard show the same) and the compact
terminal tables of ``storelab report show``. The timeline chart is ``figures.timeline_figure``.
Every breakdown table comes with ``Breakdowns.caveat``: many segments are compared, nothing is
adjusted, and some will look significant by chance.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from reports import scorecard as sc

if TYPE_CHECKING:
    from rich.console import RenderableType

    from experiments.results import ExperimentResult, MetricResult
    from experiments.slice_results import Breakdowns, SegmentComparison

DIMENSION_LABELS = {
    "device": "Device",
    "store": "Store",
    "region": "Region",
    "format": "Format",
    "locale": "Language",
    "persona": "Persona",
    "weather": "Weather",
    "time_of_day": "Time of day",
    "channel": "Channel",
    "loyalty": "Loyalty",
    "mood": "Mood",
}
WEEK = 7


def _n(result: ExperimentResult, units: int, sessions: int) -> str:
    """Sessions; for unit=store also the stores behind them."""
    if result.unit == "store":
        stores = "store" if units == 1 else "stores"
        return f"{sc.fmt_int(units)} {stores} · {sc.fmt_int(sessions)}"
    return sc.fmt_int(sessions)


def _effect(metric: MetricResult, row) -> str:
    if row.abs_effect is None:
        return "–"
    ci = sc.fmt_ci(row.ci_low, row.ci_high, lambda v: sc.fmt_abs_effect(metric, v))
    return f"{sc.fmt_abs_effect(metric, row.abs_effect)} {ci}"


def caveat_html(breakdowns: Breakdowns) -> str:
    """The multiple-testing caveat as a note."""
    return f'<div class="sl-note caveat"><b>⚠</b> {escape(breakdowns.caveat)}</div>'


def breakdown_table_html(result: ExperimentResult, metric: MetricResult) -> str:
    """One metric's segments, grouped by dimension: n, both means, effect [CI], p (unadjusted)."""
    rows = result.breakdowns.for_metric(metric.metric) if result.breakdowns else ()
    if not rows:
        return ""
    several = len(result.variant_names) > 2
    head = (
        "<tr><th>Segment</th>"
        + ("<th>Variant</th>" if several else "")
        + "<th>n base</th><th>n variant</th><th>Baseline</th><th>Variant</th>"
        "<th>Abs. effect [CI]</th><th>p (unadj.)</th></tr>"
    )
    body, dimension = [], None
    for r in rows:
        if r.dimension != dimension:
            dimension = r.dimension
            span = 8 if several else 7
            body.append(
                f'<tr class="sl-dim"><td colspan="{span}"><b>'
                f"{escape(DIMENSION_LABELS.get(dimension, dimension))}</b></td></tr>"
            )
        body.append(_row_html(result, metric, r, several))
    return (
        f'<table class="sl-table sl-breakdown" data-metric="{escape(metric.metric)}">'
        f"<thead>{head}</thead><tbody>{''.join(body)}</tbody></table>"
    )


def _row_html(result, metric, r: SegmentComparison, several: bool) -> str:
    cells = [escape(r.segment)] + ([escape(r.variant)] if several else [])
    cells += [
        _n(result, r.baseline_units, r.baseline_sessions),
        _n(result, r.variant_units, r.variant_sessions),
        sc.fmt_value(metric, r.baseline_mean),
        sc.fmt_value(metric, r.variant_mean),
        escape(_effect(metric, r)),
        sc.fmt_p(r.p_value),
    ]
    tds = "".join(f"<td>{c}</td>" for c in cells)
    where = f'data-dimension="{escape(r.dimension)}" data-segment="{escape(r.segment)}"'
    return f"<tr {where}>{tds}</tr>"


def breakdowns_html(result: ExperimentResult) -> str:
    """The report's breakdown section: the caveat, the primary metric's table, the other
    metrics' tables folded."""
    if result.breakdowns is None:
        return ""
    parts = [caveat_html(result.breakdowns)]
    for metric in sc.sorted_metrics(result):
        table = breakdown_table_html(result, metric)
        if not table:
            continue
        label = escape(sc.metric_label(metric.metric))
        if metric.role == "primary":
            parts.append(f"<h3>{label}</h3>{table}")
        else:
            parts.append(f"<details><summary>{label}</summary>{table}</details>")
    return "".join(parts)


# --- terminal ---------------------------------------------------------------------------------


def _short(metric: MetricResult, value: float | None) -> str:
    """An effect without its unit (the effect column has it): +3.2 for +3.2 pp."""
    text = sc.fmt_abs_effect(metric, value)
    return text.removesuffix(" pp").removesuffix(sc.unit_suffix(metric)).strip()


def _terminal_table(title: str, columns: list[str]):
    from rich import box
    from rich.table import Table

    table = Table(
        title=title, title_justify="left", header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False
    )
    for col in columns:
        left = col in ("Day", "Segment", "Variant")
        table.add_column(col, justify="left" if left else "right", no_wrap=True)
    return table


def _terminal_cells(metric: MetricResult, row) -> list[str]:
    """Effect, CI (no unit) and p of a timeline point or a segment row."""
    ci = "–"
    if row.ci_low is not None and row.ci_high is not None:
        ci = f"{_short(metric, row.ci_low)}…{_short(metric, row.ci_high)}"
    return [sc.fmt_abs_effect(metric, row.abs_effect), ci, sc.fmt_p(row.p_value)]


def timeline_table(result: ExperimentResult) -> RenderableType | None:
    """The primary metric's cumulative effect at the end of each week and on the last day."""
    if result.timeline is None:
        return None
    metric = result.primary
    several = len(result.variant_names) > 2
    table = _terminal_table(
        f"Over time: {sc.metric_label(metric.metric)}, cumulative "
        f"({result.timeline.time_zone} days; n = {result.unit}s)",
        ["Day"] + (["Variant"] if several else []) + ["n", "Effect", "CI", "p"],
    )
    for s in result.timeline.for_metric(metric.metric):
        last = len(s.points) - 1
        for i, p in enumerate(s.points):
            if i == last or (i + 1) % WEEK == 0:
                table.add_row(
                    p.day.isoformat(),
                    *([s.variant] if several else []),
                    f"{sc.fmt_int(p.baseline_units)}/{sc.fmt_int(p.variant_units)}",
                    *_terminal_cells(metric, p),
                )
    return table if table.row_count else None


def breakdown_table(result: ExperimentResult) -> RenderableType | None:
    """The primary metric in each segment where both arms have data, and the caveat."""
    from rich.console import Group
    from rich.text import Text

    if result.breakdowns is None:
        return None
    metric = result.primary
    rows = [
        r
        for r in result.breakdowns.for_metric(metric.metric)
        if r.baseline_units and r.variant_units
    ]
    several = len(result.variant_names) > 2
    n_is = "stores" if result.unit == "store" else "sessions"
    # with several challengers the variant's name takes the baseline mean's place
    table = _terminal_table(
        f"Breakdowns: {sc.metric_label(metric.metric)} (n = {n_is}; p not adjusted)",
        ["Segment", "n", "Variant" if several else "Base", "Var.", "Effect", "CI", "p"],
    )
    for r in rows:
        table.add_row(
            f"{r.dimension} {r.segment}",
            f"{sc.fmt_int(r.baseline_units)}/{sc.fmt_int(r.variant_units)}",
            r.variant if several else sc.fmt_value(metric, r.baseline_mean),
            sc.fmt_value(metric, r.variant_mean),
            *_terminal_cells(metric, r),
        )
    caveat = Text(f"⚠ {result.breakdowns.caveat}", style="yellow")
    return Group(table, caveat) if rows else caveat
