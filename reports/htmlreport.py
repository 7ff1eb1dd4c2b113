"""The experiment report as ONE self-contained HTML file (plotly.js inlined once, no URLs).

``render_html`` turns an ``ExperimentReport`` (the typed analysis and the spec's context) into
the page; ``write_report`` runs the analysis for an experiment in a lab and writes
``lab/reports/<id>.html``. The pieces (decision banner, SRM note,
metrics table, methods) are also used by the dashboard, so both read the same.

Not named ``html.py``: ``streamlit run reports/app.py`` puts ``reports/`` first on ``sys.path``,
and a module there named like a standard-library module (starlette imports ``html``) would
shadow it and crash the server.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import partial
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from errors import StorelabError
from experiments.results import VariantSummary
from feedback.kpi_measures import is_kpi
from reports import scorecard as sc
from reports.comments_section import comments_section_html
from reports.kpi_notes import kpi_lines, kpi_methods
from reports.slices import breakdowns_html

if TYPE_CHECKING:
    from experiments.results import ExperimentResult, MetricResult
    from insights.comments import CommentsReport
    from lab import Lab
    from reports.data import ExperimentReport

CSS = """
.sl { --ink:#0f172a; --muted:#64748b; --line:#e2e8f0; --soft:#f8fafc; --win:#15803d;
  --loss:#b91c1c; --flat:#475569; color:var(--ink);
  font-family: Inter, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  font-size: 15px; line-height: 1.5; font-variant-numeric: tabular-nums; }
.sl * { box-sizing: border-box; }
.sl-decision { border-radius: 14px; padding: 20px 24px; margin: 8px 0 16px;
  background: var(--soft); border: 1px solid var(--line); border-left: 8px solid var(--accent); }
.sl-decision .sl-kicker { text-transform: uppercase; letter-spacing: .08em; font-size: 12px;
  color: var(--muted); font-weight: 600; }
.sl-decision .sl-verdict { font-size: 30px; font-weight: 750; color: var(--accent);
  line-height: 1.15; margin: 2px 0 4px; }
.sl-decision .sl-meaning { color: var(--muted); margin: 0 0 8px; }
.sl-decision ul { margin: 6px 0 0; padding-left: 20px; }
.sl-decision li { margin: 2px 0; }
.sl-decision .sl-rework { margin-top: 10px; }
.sl-decision ol { margin: 4px 0 0; padding-left: 22px; }
.sl-note { border-radius: 10px; padding: 10px 14px; margin: 0 0 16px; font-size: 14px;
  border: 1px solid var(--line); }
.sl-note.ok { background: #f0fdf4; border-color: #bbf7d0; }
.sl-note.bad { background: #fef2f2; border-color: #fecaca; color: #7f1d1d; font-weight: 600; }
.sl-note b { font-weight: 650; }
.sl-table { width: 100%; border-collapse: collapse; font-size: 14px; margin: 4px 0 8px; }
.sl-table th { text-align: right; font-weight: 600; color: var(--muted); font-size: 12px;
  text-transform: uppercase; letter-spacing: .04em; padding: 8px 10px;
  border-bottom: 2px solid var(--line); white-space: nowrap; }
.sl-table td { text-align: right; padding: 10px 10px; border-bottom: 1px solid var(--line);
  vertical-align: middle; white-space: nowrap; }
.sl-table th:first-child, .sl-table td:first-child { text-align: left; }
.sl-table td.sl-name { white-space: normal; min-width: 170px; }
.sl-table td.sl-bar { padding-left: 0; text-align: left; }
.sl-table .sl-sub .sl-role { margin-left: 6px; }
.sl-table .sl-metric { font-weight: 650; }
.sl-table .sl-sub { display: block; color: var(--muted); font-size: 12px; }
.sl-table tr.primary td { background: #f8fafc; }
.sl-table .sl-ci { color: var(--muted); font-size: 12px; display: block; }
.sl-role { display: inline-block; font-size: 11px; font-weight: 600; border-radius: 999px;
  padding: 1px 8px; margin-left: 6px; vertical-align: 1px; border: 1px solid var(--line);
  color: var(--muted); background: white; }
.sl-role.primary { color: #1d4ed8; border-color: #bfdbfe; background: #eff6ff; }
.sl-role.guardrail { color: #92400e; border-color: #fde68a; background: #fffbeb; }
.sl-pill { display: inline-block; border-radius: 999px; padding: 2px 10px; font-size: 12px;
  font-weight: 650; color: white; }
.sl-pill.win { background: var(--win); } .sl-pill.loss { background: var(--loss); }
.sl-pill.flat { background: #e2e8f0; color: #334155; }
.sl-win { color: var(--win); font-weight: 650; } .sl-loss { color: var(--loss); font-weight: 650; }
.sl-dot { display: inline-block; width: 10px; height: 10px; border-radius: 3px; margin-right: 6px;
  vertical-align: 0; }
.sl-legend { color: var(--muted); font-size: 12px; margin: 0 0 18px; }
.sl-methods p { margin: 0 0 10px; color: #334155; }
.sl-meta { display: flex; flex-wrap: wrap; gap: 6px 18px; color: var(--muted); font-size: 13px;
  margin-bottom: 14px; }
.sl-meta b { color: var(--ink); font-weight: 600; }
.sl-note.caveat { background: #fffbeb; border-color: #fde68a; color: #78350f; }
.sl-table tr.sl-dim td { text-align: left; background: var(--soft); padding: 6px 10px; }
.sl details summary { cursor: pointer; font-weight: 600; margin: 10px 0 4px; }
"""

PAGE_CSS = """
html { background: #f1f5f9; }
body { margin: 0; }
.page { max-width: 1120px; margin: 0 auto; padding: 28px 32px 48px; background: white;
  min-height: 100vh; box-shadow: 0 0 0 1px #e2e8f0; }
.top { display: flex; justify-content: space-between; align-items: baseline; color: #64748b;
  font-size: 13px; border-bottom: 1px solid #e2e8f0; padding-bottom: 10px; margin-bottom: 18px; }
.top .brand { font-weight: 700; color: #0f172a; letter-spacing: .02em; }
h1 { font-size: 28px; margin: 0 0 2px; letter-spacing: -.01em; }
.hyp { font-size: 17px; color: #334155; margin: 0 0 10px; }
h2 { font-size: 19px; margin: 30px 0 8px; letter-spacing: -.005em; }
.card { border: 1px solid #e2e8f0; border-radius: 14px; padding: 16px 18px; margin: 14px 0; }
.card h3 { margin: 0 0 2px; font-size: 17px; }
.card .lede { color: #475569; font-size: 14px; margin: 0 0 6px; }
.grid2 { display: grid; grid-template-columns: 1fr 1.4fr; gap: 8px 22px; }
.grid2.wide { grid-template-columns: 1fr 2fr; align-items: center; }
.stats { display: grid; grid-template-columns: repeat(5, 1fr); gap: 10px; }
.stat { background: #f8fafc; border: 1px solid #e2e8f0; border-radius: 12px; padding: 10px 14px; }
.stat .v { font-size: 22px; font-weight: 700; }
.stat .k { color: #64748b; font-size: 12px; text-transform: uppercase; letter-spacing: .05em; }
footer { margin-top: 36px; color: #94a3b8; font-size: 12px; border-top: 1px solid #e2e8f0;
  padding-top: 10px; }
@media (max-width: 800px) {
  .grid2, .stats { grid-template-columns: 1fr; } .page { padding: 16px; } }
@media print {
  html { background: white; } .page { box-shadow: none; } .card { break-inside: avoid; } }
"""


# --- pieces shared with the dashboard ----------------------------------------------------------


def decision_html(result: ExperimentResult) -> str:
    """The headline: recommendation, what it means, and the analysis' reasons."""
    key, label, colour, meaning = sc.recommendation(result)
    items = "".join(f"<li>{escape(r)}</li>" for r in result.decision.reasons)
    return (
        f'<div class="sl-decision" data-recommendation="{escape(key)}" '
        f'style="--accent:{colour}">'
        f'<div class="sl-kicker">Recommendation</div>'
        f'<div class="sl-verdict">{escape(label)}</div>'
        f'<p class="sl-meaning">{escape(meaning)}</p>'
        + (f"<ul>{items}</ul>" if items else "")
        + _rework_html(result)
        + "</div>"
    )


def _rework_html(result: ExperimentResult) -> str:
    """The decision's screens to rework first, numbered, each with its evidence."""
    title = sc.rework_title(result)
    if title is None:
        return ""
    items = "".join(
        f'<li data-screen="{escape(s.screen)}">{escape(s.evidence)}</li>'
        for s in result.decision.rework_screens
    )
    return f'<div class="sl-rework"><b>{escape(title)}</b><ol>{items}</ol></div>'


def srm_html(result: ExperimentResult) -> str:
    ok, text = sc.srm_summary(result.srm)
    cls = "bad" if ok is False else "ok"
    icon = "⚠" if ok is False else "✓"
    return f'<div class="sl-note {cls}"><b>{icon}</b> {escape(text)}</div>'


def mislabelled_html(result: ExperimentResult) -> str:
    """The warning about sessions with the wrong variant label ("" when there are none)."""
    text = sc.mislabelled_note(result)
    return f'<div class="sl-note bad"><b>⚠</b> {escape(text)}</div>' if text else ""


def _ci_svg(low, high, point, extent: float, colour: str, width: int = 150) -> str:
    """A tiny inline forest bar on a shared relative scale [−extent, +extent]."""
    if low is None or high is None or point is None or extent <= 0:
        return ""
    h = 22

    def x(v: float) -> float:
        return round(4 + (width - 8) * (v + extent) / (2 * extent), 1)

    zero = x(0)
    return (
        f'<svg width="{width}" height="{h}" viewBox="0 0 {width} {h}" role="img" '
        f'aria-label="interval">'
        f'<line x1="{zero}" y1="2" x2="{zero}" y2="{h - 2}" stroke="#0f172a" stroke-width="1"/>'
        f'<rect x="{x(low)}" y="8" width="{max(x(high) - x(low), 2)}" height="6" rx="3" '
        f'fill="{colour}" opacity="0.85"/>'
        f'<circle cx="{x(point)}" cy="11" r="4.5" fill="white" stroke="{colour}" '
        f'stroke-width="2.5"/></svg>'
    )


def _mean_cell(metric: MetricResult, v: VariantSummary | None) -> str:
    if v is None:
        return "<td>–</td>"
    # a store KPI counts store-days (its daily values), not sessions
    counted = "days" if is_kpi(metric.metric) else "sess."
    return (
        f"<td>{sc.fmt_value(metric, v.mean)}"
        f'<span class="sl-ci">{sc.fmt_int(v.units)} units · '
        f"{sc.fmt_int(v.sessions)} {counted}</span></td>"
    )


def _sequential_cell(r: sc.Row) -> str:
    """The always-valid reading beside the fixed one: sequential p (adjusted) and its CI."""
    return (
        f'<td class="sl-seq"><b>{sc.fmt_sequential_p(r.comparison)}</b>'
        f'<span class="sl-ci">{sc.fmt_sequential_ci(r.metric, r.comparison)}</span></td>'
    )


def _row_html(r: sc.Row, single: bool, extent: float, sequential: bool = False) -> str:
    """One metric × comparison line of the scorecard table."""
    m, c, out = r.metric, r.comparison, r.outcome
    better = "higher is better" if m.higher_is_better else "lower is better"
    name_cell = (
        f'<td class="sl-name"><span class="sl-metric">{escape(r.label)}</span>'
        f'<span class="sl-sub">{escape(r.name)}'
        f'<span class="sl-role {escape(r.role)}">{escape(sc.ROLE_LABELS[r.role])}</span>'
        + ("" if single else f" · {escape(c.variant)}")
        + f"<br>{better}</span></td>"
    )
    abs_cell = (
        f'<td><span class="sl-{out}">{sc.fmt_abs_effect(m, c.abs_effect)}</span>'
        f'<span class="sl-ci">{sc.fmt_ci(c.ci_low, c.ci_high, partial(sc.fmt_abs_effect, m))}'
        "</span></td>"
    )
    rel_cell = (
        f'<td><span class="sl-{out}">{sc.fmt_rel(c.rel_effect)}</span>'
        f'<span class="sl-ci">{sc.fmt_ci(c.rel_ci_low, c.rel_ci_high, sc.fmt_rel)}</span></td>'
    )
    svg = _ci_svg(c.rel_ci_low, c.rel_ci_high, c.rel_effect, extent, sc.OUTCOME_COLORS[out])
    return (
        f'<tr class="{escape(r.role)}" data-metric="{escape(r.name)}">'
        + name_cell
        + _mean_cell(m, r.baseline)
        + _mean_cell(m, r.variant)
        + abs_cell
        + rel_cell
        + f'<td class="sl-bar">{svg}</td>'
        + f"<td><b>{sc.fmt_p(c.p_adjusted)}</b>"
        + f'<span class="sl-ci">raw {sc.fmt_p(c.p_value)}</span></td>'
        + (_sequential_cell(r) if sequential else "")
        + f"<td>{sc.fmt_chance(c.chance_to_win)}</td>"
        + f'<td><span class="sl-pill {out}">{sc.OUTCOME_LABELS[out]}</span></td></tr>'
    )


def metrics_table_html(result: ExperimentResult) -> str:
    """Every metric × comparison: means, effects with CIs, p-values (raw and adjusted), chance."""
    rows = sc.rows(result)
    names = result.variant_names
    colours = sc.variant_colors(result)
    single = len(names) == 2
    base_head = names[0] if single else "Baseline"
    var_head = names[1] if single else "Variant"
    ends = [
        abs(v)
        for r in rows
        for v in (r.comparison.rel_ci_low, r.comparison.rel_ci_high)
        if v is not None
    ]
    extent = max(ends or [0.0]) * 1.1

    def dot(name: str) -> str:
        return f'<span class="sl-dot" style="background:{colours[name]}"></span>'

    level = sc.level(result)
    sequential = sc.has_sequential(result)
    head = (
        "<tr><th>Metric</th>"
        f"<th>{dot(base_head) if single else ''}{escape(base_head)}</th>"
        f"<th>{dot(var_head) if single else ''}{escape(var_head)}</th>"
        f"<th>Abs. effect</th><th colspan=2>Rel. effect · {level}% CI</th>"
        "<th>p adj.</th>"
        + ("<th>Sequential p · CI</th>" if sequential else "")
        + "<th>Chance to win</th><th>Result</th></tr>"
    )
    body = "".join(_row_html(r, single, extent, sequential) for r in rows)
    guard = " Guardrails are not adjusted." if sc.guardrails_unadjusted(result) else ""
    legend = (
        '<p class="sl-legend">Effects are variant minus baseline; proportions in percentage points '
        f"(pp). Bars show the relative effect's {level}% CI on a shared scale, the line "
        f"is zero. {escape(sc.families_note(result))} Significant when p adj. &lt; "
        f"{result.alpha}.{guard} Chance to win accounts for each metric's "
        f"direction. {escape(sc.no_relative_note(result))}"
        + (f" {escape(sc.SEQUENTIAL_NOTE)}" if sequential else "")
        + "</p>"
    )
    return f'<table class="sl-table"><thead>{head}</thead><tbody>{body}</tbody></table>' + legend


def methods_html(result: ExperimentResult) -> str:
    return (
        '<div class="sl-methods">'
        + "".join(f"<p>{escape(p)}</p>" for p in [*sc.methods(result), *kpi_methods(result)])
        + "</div>"
    )


def metric_lede(metric: MetricResult) -> str:
    """One sentence per metric: the effect, its interval and what it means."""
    verdicts = {
        "win": "significantly better",
        "loss": "significantly worse",
        "flat": "no significant difference",
    }
    parts = []
    for c in metric.comparisons:
        ci = sc.fmt_ci(c.ci_low, c.ci_high, partial(sc.fmt_abs_effect, metric))
        parts.append(
            f"{c.variant} vs {c.baseline}: {sc.fmt_abs_effect(metric, c.abs_effect)} "
            f"({sc.fmt_rel(c.rel_effect)}), CI {ci}, p adj. {sc.fmt_p(c.p_adjusted)}: "
            f"{verdicts[sc.outcome(metric, c)]}."
        )
    return " ".join(parts)


# --- the whole page -----------------------------------------------------------------------------


def meta_html(report: ExperimentReport) -> str:
    result = report.result
    items = []
    if report.prototype:
        items.append(("Prototype", report.prototype))
    items.append(("Randomised by", result.unit))
    if report.start or report.end:
        items.append(("Period", f"{report.start or '?'} → {report.end or '?'}"))
    items.append(("α", f"{result.alpha}"))
    items.append(("Correction", sc.correction_label(result)))
    return (
        '<div class="sl sl-meta">'
        + "".join(f"<span>{escape(k)} <b>{escape(str(v))}</b></span>" for k, v in items)
        + "</div>"
    )


def history_html(report: ExperimentReport) -> str:
    """The line pointing to the prototype's iteration history (every version side by side)."""
    if not report.prototype:
        return ""
    return (
        '<p class="sl-history" id="history">Iteration history of this prototype (every '
        "version side by side, per task and screen, with the spec changes): "
        f"<code>storelab report history {escape(report.prototype)}</code>, or the dashboard's "
        "History page.</p>"
    )


def _lab_html(lab_summary: dict | None) -> str:
    if not lab_summary:
        return ""
    stats = [
        ("events", sc.fmt_int(lab_summary.get("events"))),
        ("sessions", sc.fmt_int(lab_summary.get("sessions"))),
        ("stores", sc.fmt_int(lab_summary.get("stores"))),
        ("rejected lines", sc.fmt_int(lab_summary.get("rejected"))),
        ("last event", str(lab_summary.get("last") or "–")[:16]),
    ]
    return (
        "<h2>Data in the lab</h2>"
        '<div class="stats">'
        + "".join(
            f'<div class="stat"><div class="v">{escape(v)}</div>'
            f'<div class="k">{escape(k)}</div></div>'
            for k, v in stats
        )
        + "</div>"
    )


def plotly_js() -> str:
    """The plotly.js bundle that ships inside the plotly package (no network)."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs().replace("</script", "<\\/script")


def _figure_grid(figs: dict, fig_html) -> str:
    """Effect on top and means | stores below; without stores, effect | means side by side;
    the cumulative effect over time (when there is a timeline) across the bottom."""
    over_time = fig_html(figs["timeline"]) if "timeline" in figs else ""
    if "stores" in figs:
        return (
            fig_html(figs["effect"])
            + f'<div class="grid2"><div>{fig_html(figs["means"])}</div>'
            + f"<div>{fig_html(figs['stores'])}</div></div>"
            + over_time
        )
    return (
        f'<div class="grid2 wide"><div>{fig_html(figs["means"])}</div>'
        f"<div>{fig_html(figs['effect'])}</div></div>" + over_time
    )


def _metric_card(report: ExperimentReport, metric: MetricResult, fig_html) -> str:
    """One metric's section: label, role, the lede sentence and its figures."""
    from reports.figures import metric_figures

    lower = "" if metric.higher_is_better else " · lower is better"
    return (
        f'<section class="card" id="metric-{escape(metric.metric)}">'
        f"<h3>{escape(sc.metric_label(metric.metric))}"
        f'<span class="sl-role {escape(metric.role)}">'
        f"{escape(sc.ROLE_LABELS[metric.role])}</span></h3>"
        f'<p class="lede">{escape(metric_lede(metric))}{escape(lower)}</p>'
        + "".join(f'<p class="lede kpi">{escape(line)}</p>' for line in kpi_lines(metric))
        + _figure_grid(metric_figures(report, metric), fig_html)
        + "</section>"
    )


def _breakdowns_section(result: ExperimentResult) -> str:
    body = breakdowns_html(result)
    return f'<h2 id="breakdowns">Breakdowns</h2>{body}' if body else ""


def figure_embedder():
    """A function turning plotly figures into ``<div>``s for one self-contained page: numbered
    ids, no plotly.js of their own (the page inlines it once, in ``<head>``)."""
    import plotly.io as pio

    from reports.figures import PLOTLY_CONFIG

    count = 0

    def fig_html(fig) -> str:
        nonlocal count
        count += 1
        return pio.to_html(
            fig,
            include_plotlyjs=False,
            full_html=False,
            config=PLOTLY_CONFIG,
            default_width="100%",
            default_height=f"{fig.layout.height or 300}px",
            div_id=f"fig-{count}",
        )

    return fig_html


def render_html(
    report: ExperimentReport,
    lab_summary: dict | None = None,
    title: str | None = None,
    *,
    generated: datetime | None = None,
    comments: CommentsReport | None = None,
) -> str:
    """The full report page; plotly.js is inlined with the first figure and reused after.
    ``comments`` (the prototype's comments) adds the comments section after the breakdowns."""

    result = report.result
    exp = result.experiment
    title = title or f"{exp} · experiment report"
    when = (generated or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    fig_html = figure_embedder()

    cards = "".join(_metric_card(report, m, fig_html) for m in sc.sorted_metrics(result))
    data_json = json.dumps(report.to_dict(), ensure_ascii=False).replace("<", "\\u003c")
    hypothesis = report.hypothesis
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<style>{CSS}{PAGE_CSS}</style>
<script>{plotly_js()}</script>
</head>
<body>
<div class="page sl">
<div class="top"><span class="brand">storelab</span>
<span>Experiment report · generated {when}</span></div>
<h1>{escape(exp)}</h1>
{f'<p class="hyp">{escape(hypothesis)}</p>' if hypothesis else ""}
{meta_html(report)}
{decision_html(result)}
{history_html(report)}
{srm_html(result)}
{mislabelled_html(result)}
<h2>Scorecard</h2>
{metrics_table_html(result)}
<h2>Metrics in detail</h2>
{cards}
{_breakdowns_section(result)}
{comments_section_html(comments, fig_html) if comments is not None else ""}
{_lab_html(lab_summary)}
<h2>Methods</h2>
{methods_html(result)}
<footer>Generated by storelab from the lab's DuckDB database. The analysis behind this page is
embedded as JSON (element <code>#analysis</code>) so the numbers can be checked.</footer>
</div>
<script type="application/json" id="analysis">{data_json}</script>
</body>
</html>
"""


def write_report(lab: Lab, experiment_id: str, out: Path | str | None = None) -> Path:
    """Analyse ``experiment_id`` and write its report (default ``lab/reports/<id>.html``)."""
    from reports import data

    report = data.analyze(lab, experiment_id)
    try:
        summary = data.lab_summary(lab)
    except Exception:  # noqa: BLE001 - the lab totals are context; the report stands without
        summary = None
    comments = _prototype_comments(lab, report.prototype)
    path = Path(out) if out else lab.reports_dir / f"{experiment_id}.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(report, summary, comments=comments), encoding="utf-8")
    return path


def _prototype_comments(lab: Lab, prototype: str | None) -> CommentsReport | None:
    """The experiment's prototype comments (by variant and version), or None without them."""
    from insights.comments import CommentFilter, analyse_comments

    if not prototype:
        return None
    try:
        return analyse_comments(lab, CommentFilter(prototype=prototype))
    except StorelabError:  # no spec or a broken codebook: the experiment report stands alone
        return None
