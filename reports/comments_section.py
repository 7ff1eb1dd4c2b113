"""Comments in the reports: theme counts per variant and per version, quotes, suggestions.

One drawing of ``insights.comments.CommentsReport`` for every place that shows it: the HTML
section (``comments_section_html``, embedded by the experiment report and available to any other
HTML report), the plotly bar chart (``theme_counts_figure``, also on the dashboard's Comments
page), the table rows, and the terminal (``show_comments``, ``storelab report comments``).
Comment text is shown verbatim (it was redacted at ingest) and always HTML-escaped here.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from insights.comments import NO_THEME, CommentsReport

if TYPE_CHECKING:
    from collections.abc import Callable

    from rich.console import Console

MOOD_COLOURS = {"negative": "#dc2626", "neutral": "#64748b", "positive": "#16a34a"}
SECTION_CSS = """
.sl-comments blockquote { margin: 6px 0; padding: 6px 10px; border-left: 3px solid #cbd5e1;
  background: #f8fafc; }
.sl-comments blockquote.negative { border-left-color: #dc2626; }
.sl-comments blockquote.positive { border-left-color: #16a34a; }
.sl-comments .sl-src { color: #64748b; font-size: 12px; }
"""


def count_rows(report: CommentsReport, by: str) -> list[dict]:
    """One row per theme (no-theme last): its label and the count in each group of ``by``."""
    table = report.counts_by(by)
    groups = sorted(table)
    rows = []
    for theme in (*report.codebook.ids, NO_THEME):
        row = {"Theme": report.theme_label(theme)}
        row.update({g: table[g].get(theme, 0) for g in groups})
        rows.append(row)
    if groups:
        totals = {c.group: c.comments for c in report.counts if c.by == by}
        rows.append({"Theme": "comments", **{g: totals[g] for g in groups}})
    return rows


def theme_counts_figure(report: CommentsReport, by: str = "variant"):
    """Grouped bars: comments per theme, one colour per variant (or version); None if empty."""
    import plotly.graph_objects as go

    table = report.counts_by(by)
    if not table:
        return None
    themes = [*report.codebook.ids, NO_THEME]
    labels = [report.theme_label(t) for t in themes]
    fig = go.Figure()
    for group in sorted(table):
        fig.add_bar(name=group, x=labels, y=[table[group].get(t, 0) for t in themes])
    fig.update_layout(
        barmode="group",
        height=320,
        margin={"l": 40, "r": 10, "t": 30, "b": 80},
        title={"text": f"Comments per theme and {by}", "font": {"size": 14}},
        legend={"orientation": "h", "y": 1.12},
        yaxis_title="comments",
    )
    return fig


def _table_html(rows: list[dict]) -> str:
    if not rows:
        return ""
    head = "".join(f"<th>{escape(str(k))}</th>" for k in rows[0])
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(str(v))}</td>" for v in row.values()) + "</tr>"
        for row in rows
    )
    return f'<table class="sl-table"><tr>{head}</tr>{body}</table>'


def _quote_html(c) -> str:
    where = " · ".join(
        x for x in (c.variant, f"v{c.version}", c.store_id, c.screen or "", c.sentiment) if x
    )
    return (
        f'<blockquote class="{escape(c.sentiment)}">{escape(c.text)}'
        f'<div class="sl-src">{escape(where)}</div></blockquote>'
    )


def comments_section_html(
    report: CommentsReport,
    fig_html: Callable | None = None,
    quotes: int = 3,
    heading: str = "Comments",
) -> str:
    """An HTML section: theme counts per variant and version (tables, and charts when
    ``fig_html`` turns a plotly figure into HTML), a few quotes per theme, the suggestions."""
    total = len(report.comments)
    moods = ", ".join(f"{n} {label}" for label, n in report.sentiments.items())
    parts = [
        f'<section class="sl-comments" id="comments"><style>{SECTION_CSS}</style>'
        f"<h2>{escape(heading)}</h2>",
        f"<p>{total} comments ({escape(moods)}). Themes from {escape(report.codebook.source)}; "
        "a comment can carry several themes. Quoted verbatim (redacted at ingest).</p>",
    ]
    if not total:
        return "".join(parts) + "</section>"
    for by in ("variant", "version"):
        parts.append(f"<h3>Themes per {by}</h3>{_table_html(count_rows(report, by))}")
        fig = theme_counts_figure(report, by)
        if fig_html is not None and fig is not None:
            parts.append(fig_html(fig))
    parts.append("<h3>In their words</h3>")
    for theme in report.codebook.ids:
        picked = report.quotes(theme, quotes)
        if picked:
            parts.append(f"<h4>{escape(report.theme_label(theme))}</h4>")
            parts.extend(_quote_html(c) for c in picked)
    if report.suggestions:
        parts.append("<h3>Suggested themes (comments no theme matches yet)</h3><ul>")
        for s in report.suggestions:
            examples = " / ".join(f"“{e}”" for e in s.examples)
            parts.append(
                f"<li><b>{escape(s.keyword)}</b> ({s.count} comments): {escape(examples)}</li>"
            )
        parts.append("</ul>")
    return "".join(parts) + "</section>"


def show_comments(report: CommentsReport, out: Console, quotes: int = 3) -> None:
    """``storelab report comments``: counts per variant and version, quotes, suggestions."""
    from rich.markup import escape as rich_escape
    from rich.table import Table

    moods = ", ".join(f"{n} {label}" for label, n in report.sentiments.items())
    flt = ", ".join(f"{k}={v}" for k, v in report.filter.to_dict().items())
    out.print(f"[bold]Comments[/] · {rich_escape(flt)} · {len(report.comments)} ({moods})")
    if report.truncated:
        out.print("[yellow]Only the first comments are shown; narrow the filter.[/]")
    for by in ("variant", "version"):
        rows = count_rows(report, by)
        if len(rows) <= 1:
            continue
        table = Table(title=f"Themes per {by}", title_justify="left")
        for key in rows[0]:
            table.add_column(str(key), justify="left" if key == "Theme" else "right")
        for row in rows:
            table.add_row(*(rich_escape(str(v)) for v in row.values()))
        out.print(table)
    for theme in report.codebook.ids:
        picked = report.quotes(theme, quotes)
        if picked:
            out.print(f"[bold]{rich_escape(report.theme_label(theme))}[/]")
            for c in picked:
                out.print(
                    f"  “{rich_escape(c.text)}” [dim]{c.variant} v{c.version} "
                    f"{c.store_id} {c.sentiment}[/]"
                )
    if report.suggestions:
        out.print("[bold]Suggested themes[/] (comments no theme matches yet)")
        for s in report.suggestions:
            out.print(f"  {rich_escape(s.keyword)} ({s.count}): “{rich_escape(s.examples[0])}”")
