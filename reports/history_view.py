"""The iteration history in words and tables (``storelab report history``; the dashboard's
History page reads the same rows): per task and per screen each version's numbers, the change
from the version before, and the spec change next to it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from insights.history import HistoryRow, IterationHistory

RATES = ("success", "drop_off_rate", "misclick_rate")


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
    for v in history.versions:
        score = history.scores[v]
        changed = "; ".join(d.describe() for d in history.diffs.get(v, ())) or (
            "first version" if v == history.versions[0] else "no screen changed"
        )
        console.print(
            f"v{v}: {history.sessions[v]:,} sessions, usability "
            f"{'–' if score is None else f'{score:.0f}'} — {changed}",
            markup=False,
        )
    for title, rows, metrics in (
        ("Tasks", history.tasks, ("success", "usability", "misclick_rate", "median_s")),
        ("Screens", history.screens, ("drop_off_rate", "misclick_rate", "sessions")),
    ):
        table = Table(title=title, show_lines=True, header_style="bold")
        table.add_column(title[:-1].lower())
        for v in history.versions:
            table.add_column(f"v{v}")
        for row in rows:
            table.add_row(row.name, *row_cells(row, history.versions, metrics))
        console.print(table)
