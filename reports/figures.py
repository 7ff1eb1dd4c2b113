"""Plotly figures of an experiment analysis: effect forest plots, variant means, per-store bars.

Every function takes the analysis dict (DESIGN.md's ``analyze --json`` shape) and one of its
metrics, and returns a ``plotly.graph_objects.Figure`` styled the same way for the HTML report
and the dashboard. Colours come from ``reports.scorecard``: the baseline is always slate, the
first treatment always blue; effect bars are green (better), red (worse) or grey (inconclusive).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reports import scorecard as sc

if TYPE_CHECKING:
    import plotly.graph_objects as go

FONT = "Inter, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
GRID = "#e2e8f0"
INK = "#0f172a"
MUTED = "#64748b"

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


def _scale(metric: dict) -> float:
    """Proportions are shown in percent (effects in percentage points)."""
    return 100.0 if sc.is_proportion(metric) else 1.0


def _unit(metric: dict) -> str:
    if sc.is_proportion(metric):
        return "pp"
    return sc.unit_suffix(metric).strip()


def effect_figure(analysis: dict, metric: dict) -> go.Figure:
    """Forest plot of one metric: each variant's effect vs its baseline with its CI.

    Zero is a solid line; the minimum effect of interest (MDE), where the analysis gives one, is a
    shaded band ±MDE around zero, so a reader sees at once whether the interval excludes
    "no effect" and whether it reaches an effect that matters.
    """
    import plotly.graph_objects as go

    fig = go.Figure()
    scale = _scale(metric)
    unit = _unit(metric)
    comps = [c for c in metric.get("comparisons") or [] if sc._finite(c.get("abs_effect"))]
    labels = [f"{c.get('variant')} vs {c.get('baseline')}" for c in comps]
    extent = 0.0
    mde = sc.mde_for(analysis, metric)
    if mde:
        extent = mde * scale
        fig.add_vrect(
            x0=-mde * scale,
            x1=mde * scale,
            fillcolor=sc.MDE_COLOR,
            line_width=0,
            layer="below",
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
    for label, comp in zip(labels, comps, strict=True):
        colour = sc.OUTCOME_COLORS[sc.outcome(metric, comp)]
        eff = comp["abs_effect"] * scale
        lo = comp.get("ci_low")
        hi = comp.get("ci_high")
        has_ci = sc._finite(lo) and sc._finite(hi)
        if has_ci:
            extent = max(extent, abs(lo * scale), abs(hi * scale))
        extent = max(extent, abs(eff))
        fig.add_trace(
            go.Scatter(
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
                    f"<b>{label}</b><br>effect {sc.fmt_abs_effect(metric, comp['abs_effect'])}"
                    f"<br>CI {sc.fmt_ci(lo, hi, lambda v: sc.fmt_abs_effect(metric, v))}"
                    f"<br>p (adj.) {sc.fmt_p(comp.get('p_adjusted', comp.get('p_value')))}"
                    "<extra></extra>"
                ),
            )
        )
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


def means_figure(analysis: dict, metric: dict) -> go.Figure:
    """Each variant's mean with its 95% interval (±1.96·se, or the CI the analysis gives)."""
    import plotly.graph_objects as go

    colours = sc.variant_colors(analysis)
    scale = _scale(metric)
    variants = [v for v in metric.get("variants") or [] if sc._finite(v.get("mean"))]
    fig = go.Figure()
    any_ci = False
    for v in variants:
        mean = v["mean"] * scale
        lo, hi = v.get("ci_low"), v.get("ci_high")
        if not (sc._finite(lo) and sc._finite(hi)) and sc._finite(v.get("se")):
            lo, hi = v["mean"] - 1.96 * v["se"], v["mean"] + 1.96 * v["se"]
        has_ci = sc._finite(lo) and sc._finite(hi)
        any_ci = any_ci or has_ci
        fig.add_trace(
            go.Bar(
                x=[v["variant"]],
                y=[mean],
                marker={"color": colours.get(v["variant"], sc.BASELINE_COLOR)},
                text=[sc.fmt_value(metric, v["mean"])],
                textposition="inside",
                insidetextanchor="start",
                textfont={"color": "white", "size": 14},
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": [hi * scale - mean],
                    "arrayminus": [mean - lo * scale],
                    "color": INK,
                    "thickness": 1.5,
                    "width": 8,
                }
                if has_ci
                else None,
                width=0.55,
                name=v["variant"],
                hovertemplate=(
                    f"<b>{v['variant']}</b><br>mean {sc.fmt_value(metric, v['mean'])}"
                    f"<br>{sc.fmt_int(v.get('units'))} units · "
                    f"{sc.fmt_int(v.get('sessions'))} sessions<extra></extra>"
                ),
            )
        )
    fig.update_yaxes(
        showgrid=True,
        gridcolor=GRID,
        rangemode="tozero",
        ticksuffix="%" if sc.is_proportion(metric) else "",
        title=None,
    )
    fig.update_xaxes(title=None, ticks="")
    title = "Mean per variant (95% CI)" if any_ci else "Mean per variant"
    return _layout(fig, height=300, title=title)


def stores_figure(analysis: dict, metric: dict) -> go.Figure | None:
    """Per-store means, coloured by variant, with each variant's overall mean as a dashed line.

    ``None`` when the analysis has no per-store breakdown for this metric (key ``stores``).
    """
    import plotly.graph_objects as go

    stores = [s for s in metric.get("stores") or [] if sc._finite(s.get("mean"))]
    if not stores:
        return None
    colours = sc.variant_colors(analysis)
    order = {name: i for i, name in enumerate(sc.variant_names(analysis))}
    stores.sort(key=lambda s: (order.get(s.get("variant"), 99), str(s.get("store_id"))))
    scale = _scale(metric)
    fig = go.Figure()
    for name in sorted({s.get("variant") for s in stores}, key=lambda n: order.get(n, 99)):
        rows = [s for s in stores if s.get("variant") == name]
        fig.add_trace(
            go.Bar(
                x=[s["store_id"] for s in rows],
                y=[s["mean"] * scale for s in rows],
                marker={"color": colours.get(name, sc.BASELINE_COLOR)},
                name=name,
                customdata=[[sc.fmt_value(metric, s["mean"]), s.get("sessions")] for s in rows],
                hovertemplate=(
                    "<b>%{x}</b> (" + str(name) + ")<br>mean %{customdata[0]}"
                    "<br>%{customdata[1]} sessions<extra></extra>"
                ),
            )
        )
    for v in metric.get("variants") or []:
        if sc._finite(v.get("mean")):
            fig.add_hline(
                y=v["mean"] * scale,
                line_dash="dash",
                line_width=1.2,
                line_color=colours.get(v["variant"], sc.BASELINE_COLOR),
            )
    fig.update_yaxes(
        showgrid=True,
        gridcolor=GRID,
        rangemode="tozero",
        ticksuffix="%" if sc.is_proportion(metric) else "",
        title=None,
    )
    fig.update_xaxes(title=None, ticks="", type="category")
    fig = _layout(fig, height=300, title="Per store (dashed: variant mean)")
    fig.update_layout(
        showlegend=True,
        bargap=0.25,
        legend={"orientation": "h", "x": 1, "xanchor": "right", "y": 1.02, "yanchor": "bottom"},
    )
    return fig


def metric_figures(analysis: dict, metric: dict) -> dict[str, go.Figure]:
    """The figures for one metric, by name: ``effect``, ``means`` and (when known) ``stores``."""
    figs = {"effect": effect_figure(analysis, metric), "means": means_figure(analysis, metric)}
    per_store = stores_figure(analysis, metric)
    if per_store is not None:
        figs["stores"] = per_store
    return figs
