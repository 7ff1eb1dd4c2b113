"""The usability report in the terminal (``storelab report usability``), rendered with rich."""

from __future__ import annotations

from typing import TYPE_CHECKING

from reports import usability_view as uv

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from insights.usability_results import TaskUsability, UsabilityReport


def _table(columns, rows, title: str | None = None):
    from rich import box
    from rich.table import Table

    table = Table(header_style="bold", box=box.SIMPLE_HEAD, title=title, title_justify="left")
    for col in columns:
        table.add_column(col, justify="left" if col in ("Task", "Screen", "Tasks") else "right")
    for row in rows:
        table.add_row(*row)
    return table


def _task_block(task: TaskUsability) -> list:
    from rich.text import Text

    parts: list = [Text(f"\n{task.task}", style="bold"), Text(task.prompt, style="italic dim")]
    parts.append(Text(f"Expected path: {' → '.join(task.paths.expected_path)}"))
    parts.append(Text(uv.time_line(task)))
    parts.append(_table(uv.SCREEN_COLUMNS, uv.screen_rows(task)))
    parts.append(Text("Most common paths", style="bold"))
    parts += [Text(f"  {line}") for line in uv.path_lines(task)]
    if task.answers:
        parts.append(Text("Answers", style="bold"))
        parts += [Text(f"  {line}") for line in uv.answer_lines(task.answers)]
    return parts


def usability_view(report: UsabilityReport) -> RenderableType:
    """Headline, task table, screens to rework, then each task's screens, paths and answers."""
    from rich.console import Group
    from rich.panel import Panel
    from rich.text import Text

    head = Text()
    head.append(f"Usability score {uv.num(report.usability.score, 0)}\n", style="bold")
    head.append(uv.subtitle(report), style="dim")
    parts: list = [Panel(head, title=f"[bold]{report.title}[/] — usability", padding=(0, 1))]
    parts.append(_table(uv.TASK_COLUMNS, [uv.task_row(t) for t in report.tasks]))
    parts.append(Text(uv.OUTCOME_NOTE, style="dim"))
    if report.rework:
        parts.append(_table(uv.REWORK_COLUMNS, uv.rework_rows(report), "Screens to rework"))
        parts.append(Text(uv.REWORK_NOTE, style="dim"))
    for task in report.tasks:
        parts += _task_block(task)
    if report.answers or report.scores:
        parts.append(Text("\nAsked once per session", style="bold"))
        parts += [Text(f"  {line}") for line in uv.score_lines(report.scores)]
        parts += [Text(f"  {line}") for line in uv.answer_lines(report.answers)]
    if report.own or report.goals:
        parts.append(Text("\nThe prototype's own questions and goals", style="bold"))
        parts += [Text(f"  {line}") for line in uv.own_lines(report) + uv.goal_lines(report)]
        parts.append(Text(uv.OWN_NOTE, style="dim"))
    parts.append(Text(uv.SCORE_NOTE, style="dim"))
    return Group(*parts)


def show_usability(report: UsabilityReport, console: Console | None = None) -> None:
    """Print the usability report."""
    from rich.console import Console

    (console or Console(highlight=False)).print(usability_view(report))
