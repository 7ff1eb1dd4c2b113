"""Plotly figures of a usability report: outcomes per task, time on task, the paths' Sankey.

Each takes the typed result (``insights.usability_results``) and returns a figure styled like
``reports.figures``, drawn the same in the HTML usability report and the dashboard page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from insights.paths import OUTCOME_NODES
from reports.figures import GRID, _layout

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from insights.usability_results import TaskUsability, UsabilityReport

OUTCOME_STYLE = {  # outcome -> (label, colour)
    "direct": ("Direct success", "#15803d"),
    "indirect": ("Indirect success", "#86efac"),
    "give_up": ("Gave up", "#f59e0b"),
    "timeout": ("Timed out", "#b91c1c"),
    "unfinished": ("Left (no end)", "#94a3b8"),
}


def outcomes_figure(report: UsabilityReport) -> go.Figure:
    """One stacked horizontal bar per task: the share of each outcome."""
    import plotly.graph_objects as go

    names = [t.task for t in report.tasks]
    fig = go.Figure()
    for key, (label, colour) in OUTCOME_STYLE.items():
        rates = [t.outcomes[key] for t in report.tasks]
        fig.add_bar(
            y=names,
            x=[100 * (r.rate or 0) for r in rates],
            name=label,
            orientation="h",
            marker_color=colour,
            customdata=[
                [r.count, r.total, 100 * (r.ci_low or 0), 100 * (r.ci_high or 0)] for r in rates
            ],
            hovertemplate=(
                f"{label}: %{{x:.1f}}%% (%{{customdata[0]}} of %{{customdata[1]}})<br>"
                "95% CI %{customdata[2]:.1f}–%{customdata[3]:.1f}%<extra>%{y}</extra>"
            ),
        )
    fig.update_layout(barmode="stack")
    _layout(fig, height=90 + 46 * len(names))
    fig.update_layout(
        showlegend=True, legend={"orientation": "h", "y": -0.25, "x": 0, "traceorder": "normal"}
    )
    fig.update_xaxes(range=[0, 100], ticksuffix="%", showgrid=True, gridcolor=GRID)
    fig.update_yaxes(autorange="reversed")
    return fig


def time_figure(task: TaskUsability) -> go.Figure | None:
    """Time on task as a histogram, with the median and the quartiles marked."""
    import plotly.graph_objects as go

    dist = task.time
    if not dist.n:
        return None
    bins = dist.histogram
    width = bins[0].high - bins[0].low if bins and bins[0].high is not None else 1.0
    fig = go.Figure(
        go.Bar(
            x=[b.low + width / 2 for b in bins],
            y=[b.count for b in bins],
            width=width * 0.92,
            marker_color="#2563eb",
            hovertemplate="%{x:.0f} s: %{y} runs<extra></extra>",
        )
    )
    for key, dash in (("p25", "dot"), ("p50", "solid"), ("p75", "dot")):
        value = dist.quantiles.get(key)
        if value is not None:
            fig.add_vline(x=value, line_dash=dash, line_color="#0f172a", line_width=1.5)
            fig.add_annotation(x=value, y=1, yref="paper", text=key.replace("p50", "median"),
                               showarrow=False, yanchor="bottom", font={"size": 11})  # fmt: skip
    _layout(fig, height=240, title="Time on task (s); last bar: slower than the 95th percentile")
    fig.update_xaxes(title=None, ticksuffix=" s")
    fig.update_yaxes(showgrid=True, gridcolor=GRID, title=None)
    return fig


def sankey_figure(task: TaskUsability) -> go.Figure | None:
    """The screen transitions of a task, step by step (a node per screen and step, so paths
    that go back and forth stay readable), ending in the outcomes."""
    import plotly.graph_objects as go

    flows = task.paths.transitions
    if not flows:
        return None
    index: dict[tuple[int, str], int] = {}
    labels: list[str] = []

    outcomes = set(OUTCOME_NODES.values())

    def node(step: int, name: str) -> int:
        key = (-1 if name in outcomes else step, name)  # one node per outcome, at the right
        if key not in index:
            index[key] = len(labels)
            labels.append(name)
        return index[key]

    expected = set(task.paths.expected_path)
    source, target, value, colour = [], [], [], []
    for t in flows:
        source.append(node(t.step, t.source))
        target.append(node(t.step + 1, t.target))
        value.append(t.n)
        good = t.target in expected or t.target.startswith("✓")
        colour.append("rgba(37,99,235,0.35)" if good else "rgba(185,28,28,0.35)")
    fig = go.Figure(
        go.Sankey(
            arrangement="snap",
            node={"label": labels, "pad": 14, "thickness": 14, "color": "#334155"},
            link={"source": source, "target": target, "value": value, "color": colour},
        )
    )
    _layout(fig, height=360, title="Paths through the task (blue: towards the goal)")
    return fig


# --- the prototype's own questions (insights.own) ---------------------------------------------

VARIANT_BAR_COLOURS = ("#64748b", "#2563eb", "#d97706", "#7c3aed")


def own_figure(answers: list) -> go.Figure | None:
    """One question's answer shares per variant (grouped bars with 95% intervals); None for a
    rating or open text (their lines say it) and without answers."""
    import plotly.graph_objects as go

    answers = [a for a in answers if a.options]
    if not answers:
        return None
    fig = go.Figure()
    for i, a in enumerate(answers):
        rates = [o.rate for o in a.options]
        fig.add_bar(
            x=[o.label for o in a.options],
            y=[100 * (r.rate or 0) for r in rates],
            name=a.variant,
            marker_color=VARIANT_BAR_COLOURS[i % len(VARIANT_BAR_COLOURS)],
            error_y={
                "type": "data",
                "array": [100 * ((r.ci_high or 0) - (r.rate or 0)) for r in rates],
                "arrayminus": [100 * ((r.rate or 0) - (r.ci_low or 0)) for r in rates],
                "color": "#475467",
            },
            hovertemplate=f"{a.variant}: %{{y:.1f}}%<extra>%{{x}}</extra>",
        )
    _layout(fig, height=260, title=f"{answers[0].question}: {answers[0].text}")
    fig.update_layout(barmode="group", showlegend=True, legend={"orientation": "h", "y": -0.2})
    fig.update_yaxes(range=[0, 100], ticksuffix="%", showgrid=True, gridcolor=GRID)
    return fig


def first_click_figure(answers: list) -> go.Figure | None:
    """A first-click test's first taps on the screen (page frame, top left = 0, 0):
    on the target green, elsewhere red; None without positions (taps outside a browser)."""
    import plotly.graph_objects as go

    clicks = [(a.variant, c) for a in answers for c in a.clicks]
    if not clicks:
        return None
    fig = go.Figure()
    for hit, colour, label in ((True, "#15803d", "on the target"), (False, "#b91c1c", "elsewhere")):
        pts = [c for _, c in clicks if c[2] is hit]
        fig.add_scatter(
            x=[p[0] for p in pts], y=[p[1] for p in pts], mode="markers", name=label,
            marker={"color": colour, "size": 7, "opacity": 0.55},
        )  # fmt: skip
    _layout(fig, height=420, title=f"{answers[0].question}: first taps")
    fig.update_layout(showlegend=True, legend={"orientation": "h", "y": -0.1})
    fig.update_xaxes(range=[0, 1], showgrid=True, gridcolor=GRID, constrain="domain")
    fig.update_yaxes(range=[1, 0], showgrid=True, gridcolor=GRID, scaleanchor="x", scaleratio=2)
    return fig


def own_figures(report: UsabilityReport) -> list[tuple[str, go.Figure]]:
    """(key, figure) for every own question that has one: shares, and first taps."""
    by_question: dict[str, list] = {}
    for a in report.own:
        by_question.setdefault(a.question, []).append(a)
    out = []
    for qid, answers in by_question.items():
        for kind, fig in (("own", own_figure(answers)), ("clicks", first_click_figure(answers))):
            if fig is not None:
                out.append((f"{kind}_{qid}", fig))
    return out
