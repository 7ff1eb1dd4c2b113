"""The usability report as ONE self-contained HTML file (plotly.js inlined once, no URLs).

Reuses the experiment report's styles and helpers (``reports.htmlreport``: ``CSS``,
``PAGE_CSS``, ``plotly_js``) and the words of ``reports.usability_view``; the dashboard's
Usability page draws the same figures (``reports.usability_figures``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from reports import usability_view as uv
from reports.htmlreport import CSS, PAGE_CSS, figure_embedder, plotly_js

if TYPE_CHECKING:
    from insights.usability_results import TaskUsability, UsabilityReport

USABILITY_CSS = """
.sl-rework td:nth-child(2), .sl-rework td:nth-child(3),
.sl-rework th:nth-child(2), .sl-rework th:nth-child(3) { text-align: left; }
.sl h4 { margin: 14px 0 4px; font-size: 15px; }
"""


def table_html(columns, rows, cls: str = "") -> str:
    """A scorecard-styled table of text cells (escaped)."""
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    return (
        f'<table class="sl-table {cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
    )


def rework_html(report: UsabilityReport) -> str:
    """The ranked screens to rework with their evidence ("" when none)."""
    if not report.rework:
        return ""
    return (
        table_html(uv.REWORK_COLUMNS, uv.rework_rows(report), "sl-rework")
        + f'<p class="sl-legend">{escape(uv.REWORK_NOTE)}</p>'
    )


def _lines(lines: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{escape(line)}</li>" for line in lines) + "</ul>"


def _task_card(task: TaskUsability, fig_html) -> str:
    from reports.usability_figures import sankey_figure, time_figure

    figs = [f for f in (time_figure(task), sankey_figure(task)) if f is not None]
    answers = "<h4>Answers</h4>" + _lines(uv.answer_lines(task.answers)) if task.answers else ""
    return (
        f'<section class="card" id="task-{escape(task.task)}" data-task="{escape(task.task)}">'
        f"<h3>{escape(task.task)} · score {escape(uv.num(task.usability.score, 0))}</h3>"
        f'<p class="lede">{escape(task.prompt)}</p>'
        f'<p class="lede">Expected path: {escape(" → ".join(task.paths.expected_path))}. '
        f"{escape(uv.time_line(task))}</p>"
        + table_html(uv.SCREEN_COLUMNS, uv.screen_rows(task), "sl-screens")
        + "".join(fig_html(f) for f in figs)
        + "<h4>Most common paths</h4>"
        + _lines(uv.path_lines(task))
        + answers
        + "</section>"
    )


def _own_html(report: UsabilityReport, fig_html) -> str:
    """The prototype's own questions and goals: lines, share charts and first taps."""
    if not report.own and not report.goals:
        return ""
    from reports.usability_figures import own_figures

    figures = "".join(fig_html(fig) for _, fig in own_figures(report))
    return (
        '<h2 id="own">The prototype\'s own questions and goals</h2>'
        + _lines(uv.own_lines(report) + uv.goal_lines(report))
        + figures
        + f'<p class="sl-legend">{escape(uv.OWN_NOTE)}</p>'
    )


def render_usability_html(report: UsabilityReport, *, generated: datetime | None = None) -> str:
    """The whole page; the report's JSON is embedded (``#usability``) so numbers can be checked."""

    from reports.usability_figures import outcomes_figure

    when = (generated or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    fig_html = figure_embedder()

    cards = "".join(_task_card(t, fig_html) for t in report.tasks)
    once = uv.score_lines(report.scores) + uv.answer_lines(report.answers)
    data_json = json.dumps(report.to_dict(), ensure_ascii=False).replace("<", "\\u003c")
    title = f"{report.prototype} v{report.version} · usability report"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<style>{CSS}{PAGE_CSS}{USABILITY_CSS}</style>
<script>{plotly_js()}</script>
</head>
<body>
<div class="page sl">
<div class="top"><span class="brand">storelab</span>
<span>Usability report · generated {when}</span></div>
<h1>{escape(report.title)} — usability score {escape(uv.num(report.usability.score, 0))}</h1>
<p class="hyp">{escape(uv.subtitle(report))}</p>
<h2>Tasks</h2>
{table_html(uv.TASK_COLUMNS, [uv.task_row(t) for t in report.tasks], "sl-tasks")}
<p class="sl-legend">{escape(uv.OUTCOME_NOTE)}</p>
{fig_html(outcomes_figure(report)) if report.tasks else ""}
<h2>Screens to rework</h2>
{rework_html(report) or "<p>No screen had failures or misclicks.</p>"}
<h2>Tasks in detail</h2>
{cards}
{"<h2>Asked once per session</h2>" + _lines(once) if once else ""}
{_own_html(report, fig_html)}
<h2>Methods</h2>
<div class="sl-methods"><p>{escape(uv.SCORE_NOTE)}</p><p>{escape(uv.OUTCOME_NOTE)}</p></div>
<footer>Generated by storelab from the lab's DuckDB database. The numbers behind this page are
embedded as JSON (element <code>#usability</code>).</footer>
</div>
<script type="application/json" id="usability">{data_json}</script>
</body>
</html>
"""


def write_usability_html(report: UsabilityReport, out: Path | str) -> Path:
    """Write the report's page to ``out`` (folders made as needed)."""
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_usability_html(report), encoding="utf-8")
    return path
