"""Plotly figures of an experiment analysis: effect forest plots, variant means, per-store bars.

Every function takes the typed analysis (``experiments.results``) and one of its metrics, and
returns a ``plotly.graph_objects.Figure`` styled the same way for the HTML report and the
dashboard. Colours come from ``reports.scorecard``: the baseline is always slate, the first
treatment always blue; effect bars are green (better), red (worse) or grey (inconclusive).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reports import scorecard as sc

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from experiments.results import Comparison, ExperimentResult, MetricResult
    from reports.data import ExperimentReport

FONT = "Inter, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
GRID = "#e2e8f0"
INK = "#0f172a"

PLOTLY_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d", "toggleSpikelines"],
    "toImageButtonOptions": {"format": "png", "scale": 2},
}


def _layout(fig: go.Figure, *, height: int, title: str | None = None) -> go.Figure:
    fig.update_layout(
        template="simple_white",
        height=height,
        margin={"l": 10, "r": 10, "t": 36 if title else 10, "b": 10},
        font={"family": FONT, "size": 13, "color": INK},
        title={"text": title, "font": {"size": 14, "color": INK}, "x": 0, "xanchor": "left"}
        if title
        else None,
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        hoverlabel={"font": {"family": FONT}},
        showlegend=False,
    )
    return fig


def _scale(metric: MetricResult) -> float:
    """Proportions are shown in percent (effects in percentage points)."""
    return 100.0 if metric.is_proportion else 1.0


def _unit(metric: MetricResult) -> str:
    if metric.is_proportion:
        return "pp"
    return sc.unit_suffix(metric).strip()


def _mean_axis(fig: go.Figure, metric: MetricResult) -> None:
    """The y axis of the bar charts of means: from zero, gridded, % for proportions."""
    fig.update_yaxes(
        showgrid=True,
        gridcolor=GRID,
        rangemode="tozero",
        ticksuffix="%" if metric.is_proportion else "",
        title=None,
    )


def _mde_band(fig: go.Figure, mde: float, scale: float, unit: str) -> None:
    """A shaded band ±MDE around zero, labelled."""
    fig.add_vrect(
        x0=-mde * scale, x1=mde * scale, fillcolor=sc.MDE_COLOR, line_width=0, layer="below"
    )
    fig.add_annotation(
        x=mde * scale,
        y=1,
        yref="paper",
        text=f"MDE ±{mde * scale:g} {unit}".strip(),
        showarrow=False,
        xanchor="right",
        yanchor="bottom",
        font={"size": 11, "color": "#1d4ed8"},
    )


def _effect_trace(metric: MetricResult, comp: Comparison) -> go.Scatter:
    """One comparison as a diamond with its CI as a thick error bar."""
    import plotly.graph_objects as go

    scale = _scale(metric)
    label = f"{comp.variant} vs {comp.baseline}"
    colour = sc.OUTCOME_COLORS[sc.outcome(metric, comp)]
    eff = comp.abs_effect * scale
    lo, hi = comp.ci_low, comp.ci_high
    has_ci = lo is not None and hi is not None
    return go.Scatter(
        x=[eff],
        y=[label],
        mode="markers",
        marker={"size": 13, "color": colour, "symbol": "diamond"},
        error_x={
            "type": "data",
            "symmetric": False,
            "array": [hi * scale - eff] if has_ci else [0],
            "arrayminus": [eff - lo * scale] if has_ci else [0],
            "thickness": 5,
            "width": 0,
            "color": colour,
        },
        name=label,
        hovertemplate=(
            f"<b>{label}</b><br>effect {sc.fmt_abs_effect(metric, comp.abs_effect)}"
            f"<br>CI {sc.fmt_ci(lo, hi, lambda v: sc.fmt_abs_effect(metric, v))}"
            f"<br>p (adj.) {sc.fmt_p(comp.p_adjusted)}"
            "<extra></extra>"
        ),
    )


def effect_figure(metric: MetricResult, mde: float | None = None) -> go.Figure:
    """Forest plot of one metric: each variant's effect vs its baseline with its CI.

    Zero is a solid line; the minimum effect of interest ``mde`` (the spec gives one for the
    primary metric) is a shaded band ±MDE around zero, so a reader sees at once whether the
    interval excludes "no effect" and whether it reaches an effect that matters.
    """
    import plotly.graph_objects as go

    fig = go.Figure()
    scale = _scale(metric)
    unit = _unit(metric)
    comps = [c for c in metric.comparisons if c.abs_effect is not None]
    extent = 0.0
    if mde:
        extent = mde * scale
        _mde_band(fig, mde, scale, unit)
    for comp in comps:
        fig.add_trace(_effect_trace(metric, comp))
        ends = [comp.abs_effect] + [x for x in (comp.ci_low, comp.ci_high) if x is not None]
        extent = max(extent, *(abs(x * scale) for x in ends))
    fig.add_vline(x=0, line_color=INK, line_width=1.5)
    pad = extent * 1.15 or 1.0
    fig.update_xaxes(
        range=[-pad, pad],
        zeroline=False,
        showgrid=True,
        gridcolor=GRID,
        ticksuffix=f" {unit}" if unit else "",
        title=None,
    )
    fig.update_yaxes(showline=False, ticks="", automargin=True, title=None)
    return _layout(fig, height=90 + 46 * max(len(comps), 1), title="Effect vs baseline")


def means_figure(result: ExperimentResult, metric: MetricResult) -> go.Figure:
    """Each variant's mean as a bar (the uncertainty is in the effect figure)."""
    import plotly.graph_objects as go

    colours = sc.variant_colors(result)
    scale = _scale(metric)
    fig = go.Figure()
    for v in metric.variants:
        if v.mean is None:
            continue
        fig.add_trace(
            go.Bar(
                x=[v.variant],
                y=[v.mean * scale],
                marker={"color": colours[v.variant]},
                text=[sc.fmt_value(metric, v.mean)],
                textposition="inside",
                insidetextanchor="start",
                textfont={"color": "white", "size": 14},
                width=0.55,
                name=v.variant,
                hovertemplate=(
                    f"<b>{v.variant}</b><br>mean {sc.fmt_value(metric, v.mean)}"
                    f"<br>{sc.fmt_int(v.units)} units · "
                    f"{sc.fmt_int(v.sessions)} sessions<extra></extra>"
                ),
            )
        )
    _mean_axis(fig, metric)
    fig.update_xaxes(title=None, ticks="")
    return _layout(fig, height=300, title="Mean per variant")


def stores_figure(result: ExperimentResult, metric: MetricResult) -> go.Figure | None:
    """Per-store means as light bars coloured by variant; a dashed line in the variant's colour
    over its stores marks the variant's mean (the ratio of sums the analysis compares).

    ``None`` without a per-store breakdown: unit=session experiments have none (every store
    runs every variant, so a store's mean mixes them).
    """
    import plotly.graph_objects as go

    stores = [s for s in metric.stores or () if s.mean is not None]
    if not stores:
        return None
    colours = sc.variant_colors(result)
    scale = _scale(metric)
    fig = go.Figure()
    position = 0  # bars sit at category positions 0, 1, 2, … in the order they are added
    for v in metric.variants:
        rows = sorted((s for s in stores if s.variant == v.variant), key=lambda s: s.store_id)
        if not rows:
            continue
        fig.add_trace(
            go.Bar(
                x=[s.store_id for s in rows],
                y=[s.mean * scale for s in rows],
                marker={"color": colours[v.variant], "opacity": 0.55},
                name=v.variant,
                customdata=[[sc.fmt_value(metric, s.mean), sc.fmt_int(s.sessions)] for s in rows],
                hovertemplate=(
                    "<b>%{x}</b> (" + v.variant + ")<br>mean %{customdata[0]}"
                    "<br>%{customdata[1]} sessions<extra></extra>"
                ),
            )
        )
        if v.mean is not None:
            left, right = position - 0.45, position + len(rows) - 0.55
            fig.add_shape(
                type="line",
                x0=left,
                x1=right,
                y0=v.mean * scale,
                y1=v.mean * scale,
                line={"color": colours[v.variant], "width": 2.5, "dash": "dash"},
                layer="above",
                opacity=1,  # the template draws shapes at 0.3
            )
            fig.add_annotation(
                x=right,
                y=v.mean * scale,
                text=f"{v.variant} {sc.fmt_value(metric, v.mean)}",
                showarrow=False,
                xanchor="right",
                yanchor="bottom",
                font={"size": 11, "color": INK},
                bgcolor="rgba(255,255,255,0.8)",
            )
        position += len(rows)
    _mean_axis(fig, metric)
    fig.update_xaxes(title=None, ticks="", type="category")
    return _layout(fig, height=300, title="Per store (dashed: variant mean)")


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r}, {g}, {b}, {alpha})"


def timeline_figure(
    result: ExperimentResult, metric: MetricResult, mde: float | None = None
) -> go.Figure | None:
    """The cumulative effect day by day with its CI as a band, one line per challenger; zero
    is a solid line, ±MDE dotted. ``None`` without a timeline (or no day with an effect)."""
    import plotly.graph_objects as go

    series = result.timeline.for_metric(metric.metric) if result.timeline else ()
    if not any(p.abs_effect is not None for s in series for p in s.points):
        return None
    colours = sc.variant_colors(result)
    scale, unit = _scale(metric), _unit(metric)
    fig = go.Figure()
    for s in series:
        points = [p for p in s.points if p.abs_effect is not None]
        banded = [p for p in points if p.ci_low is not None and p.ci_high is not None]
        colour = colours.get(s.variant, sc.VARIANT_COLORS[0])
        if banded:
            fig.add_trace(
                go.Scatter(
                    x=[p.day for p in banded] + [p.day for p in reversed(banded)],
                    y=[p.ci_high * scale for p in banded]
                    + [p.ci_low * scale for p in reversed(banded)],
                    fill="toself",
                    fillcolor=_rgba(colour, 0.16),
                    line={"width": 0},
                    hoverinfo="skip",
                    name=f"{s.variant} {sc.level(result)}% CI",
                )
            )
        fig.add_trace(
            go.Scatter(
                x=[p.day for p in points],
                y=[p.abs_effect * scale for p in points],
                mode="lines+markers",
                line={"color": colour, "width": 2.5},
                marker={"size": 5, "color": colour},
                name=f"{s.variant} vs {s.baseline}",
                customdata=[_timeline_hover(metric, p) for p in points],
                hovertemplate="<b>%{x|%d %b}</b><br>%{customdata}<extra></extra>",
            )
        )
    fig.add_hline(y=0, line_color=INK, line_width=1.5, opacity=1)  # the template fades shapes
    if mde:
        for sign in (1, -1):
            fig.add_hline(
                y=sign * mde * scale,
                line_color="#1d4ed8",
                line_width=1,
                line_dash="dot",
                opacity=0.8,
                annotation_text=f"MDE {'+' if sign > 0 else '−'}{mde * scale:g} {unit}".strip(),
                annotation_position="top left" if sign > 0 else "bottom left",
                annotation_font={"size": 11, "color": "#1d4ed8"},
            )
    fig.update_yaxes(
        showgrid=True, gridcolor=GRID, zeroline=False, ticksuffix=f" {unit}" if unit else ""
    )
    fig.update_xaxes(showgrid=False, tickformat="%d %b", title=None)
    title = f"Cumulative effect by day, with its {sc.level(result)}% CI"
    _layout(fig, height=300, title=title)
    if len(series) > 1:  # which line is which challenger
        fig.update_layout(showlegend=True, legend={"orientation": "h", "y": -0.15})
    return fig


def _timeline_hover(metric: MetricResult, p) -> str:
    effect = sc.fmt_abs_effect(metric, p.abs_effect)
    ci = sc.fmt_ci(p.ci_low, p.ci_high, lambda v: sc.fmt_abs_effect(metric, v))
    return (
        f"effect {effect}<br>CI {ci}<br>p {sc.fmt_p(p.p_value)}"
        f"<br>n {sc.fmt_int(p.baseline_units)} / {sc.fmt_int(p.variant_units)}"
    )


def metric_figures(report: ExperimentReport, metric: MetricResult) -> dict[str, go.Figure]:
    """The figures for one metric, by name: ``effect``, ``means``, (unit=store) ``stores`` and
    (with a timeline) ``timeline``."""
    result = report.result
    figs = {
        "effect": effect_figure(metric, report.mde_for(metric)),
        "means": means_figure(result, metric),
    }
    per_store = stores_figure(result, metric)
    if per_store is not None:
        figs["stores"] = per_store
    over_time = timeline_figure(result, metric, report.mde_for(metric))
    if over_time is not None:
        figs["timeline"] = over_time
    return figs
