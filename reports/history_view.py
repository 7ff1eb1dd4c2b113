"""The iteration history in words and tables (``storelab report history``; the dashboard's
History page reads the same rows): per task and per screen each version's numbers, the change
from the version before, and the spec change next to it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from insights.history import HistoryRow, IterationHistory

RATES = ("success", "drop_off_rate", "misclick_rate")
TASK_COLUMNS = ("success", "usability", "misclick_rate", "median_s")
SCREEN_COLUMNS = ("drop_off_rate", "misclick_rate", "sessions")
HISTORY_CSS = (
    ".sl-history td, .sl-history th "
    "{ white-space: pre-line; vertical-align: top; text-align: left; }"
)


def cell(name: str, value: float | None, *, delta: bool = False) -> str:
    """One number as the history shows it (rates in %, points for their change)."""
    if value is None:
        return "–"
    if name in RATES:
        return f"{value * 100:+.1f} pp" if delta else f"{value:.0%}"
    if isinstance(value, int) and not delta:
        return f"{value:,}"
    return f"{value:+.1f}" if delta else f"{value:.1f}"


def row_cells(row: HistoryRow, versions, metrics) -> list[str]:
    """Per version ``metric=value (change)`` lines, and the spec change that made the version."""
    out = []
    for v in versions:
        numbers = row.numbers.get(v)
        if numbers is None:
            text = "no data"
        else:
            deltas = row.deltas.get(v, {})
            text = "\n".join(
                f"{m} {cell(m, numbers.get(m))}"
                + (f" ({cell(m, deltas[m], delta=True)})" if deltas.get(m) is not None else "")
                for m in metrics
            )
        if v in row.changes:
            text = f"Δ spec: {row.changes[v].describe()}\n" + text
        out.append(text)
    return out


def show_history(history: IterationHistory, console: Console) -> None:
    """Print the history: versions, then tasks and screens side by side."""
    from rich.table import Table

    console.print(f"[bold]{history.prototype}[/] — iteration history")
    for line in version_lines(history):
        console.print(line, markup=False)
    for title, rows, metrics in (
        ("Tasks", history.tasks, TASK_COLUMNS),
        ("Screens", history.screens, SCREEN_COLUMNS),
    ):
        table = Table(title=title, show_lines=True, header_style="bold")
        table.add_column(title[:-1].lower())
        for v in history.versions:
            table.add_column(f"v{v}")
        for row in rows:
            table.add_row(row.name, *row_cells(row, history.versions, metrics))
        console.print(table)


def version_lines(history: IterationHistory) -> list[str]:
    """One line per version: sessions, usability score and what changed in its spec."""
    out = []
    for v in history.versions:
        score = history.scores[v]
        changed = "; ".join(d.describe() for d in history.diffs.get(v, ())) or (
            "first version" if v == history.versions[0] else "no screen changed"
        )
        out.append(
            f"v{v}: {history.sessions[v]:,} sessions, usability "
            f"{'–' if score is None else f'{score:.0f}'} — {changed}"
        )
    return out


def history_table_html(history: IterationHistory, title: str, rows, metrics) -> str:
    """One table (Tasks or Screens): a row per task/screen, a column per version (escaped)."""
    from reports.usability_html import table_html

    return table_html(
        [title[:-1].lower(), *(f"v{v}" for v in history.versions)],
        [[r.name, *row_cells(r, history.versions, metrics)] for r in rows],
        "sl-history",
    )


def render_history_html(history: IterationHistory) -> str:
    """The history as one self-contained HTML page (its JSON embedded as ``#history``)."""
    import json
    from html import escape

    from reports.htmlreport import CSS, PAGE_CSS

    tables = "".join(
        f"<h2>{title}</h2>" + history_table_html(history, title, rows, metrics)
        for title, rows, metrics in (
            ("Tasks", history.tasks, TASK_COLUMNS),
            ("Screens", history.screens, SCREEN_COLUMNS),
        )
    )
    versions = "".join(f"<li>{escape(line)}</li>" for line in version_lines(history))
    data_json = json.dumps(history.to_dict(), ensure_ascii=False).replace("<", "\\u003c")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{escape(history.prototype)} · iteration history</title>
<style>{CSS}{PAGE_CSS}{HISTORY_CSS}</style>
</head><body><div class="page sl">
<h1>{escape(history.prototype)} — iteration history</h1>
<ul>{versions}</ul>
<p class="sl-legend">In brackets: the change from the version before. “Δ spec”: what changed in
the prototype spec for that version.</p>
{tables}
</div><script type="application/json" id="history">{data_json}</script></body></html>
"""
