"""The experiment scorecard in the terminal (``storelab report show``), rendered with rich."""

from __future__ import annotations

from typing import TYPE_CHECKING

from reports import scorecard as sc
from reports.kpi_notes import design_note, kpi_lines

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.panel import Panel
    from rich.table import Table

    from experiments.results import ExperimentResult
    from reports.data import ExperimentReport

_STYLE = {"win": "bold green", "loss": "bold red", "flat": "dim"}


def _headline(report: ExperimentReport) -> Panel:
    """Recommendation, its meaning and reasons, framed; prototype, unit and dates below."""
    from rich.panel import Panel
    from rich.text import Text

    result = report.result
    _key, label, colour, meaning = sc.recommendation(result)
    head = Text()
    head.append(f"{label}\n", style=f"bold {colour}")
    head.append(meaning, style="italic")
    for reason in result.decision.reasons:
        head.append(f"\n • {reason}")
    title = sc.rework_title(result)
    if title:
        head.append(f"\n{title}:", style="bold")
    for i, screen in enumerate(result.decision.rework_screens, 1):
        head.append(f"\n {i}. {screen.evidence}")
    subtitle = " · ".join(
        str(x)
        for x in (
            report.prototype,
            f"randomised by {result.unit}",
            f"{report.start} → {report.end}" if report.start else None,
        )
        if x
    )
    return Panel(
        head,
        title=f"[bold]{result.experiment}[/] — recommendation",
        subtitle=subtitle,
        border_style=colour,
        padding=(0, 1),
    )


def _table(result: ExperimentResult) -> Table:
    """One row per metric × comparison: means, effects with CIs, p-values, chance, verdict."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    names = result.variant_names
    single = len(names) == 2
    sequential = sc.has_sequential(result)
    table = Table(header_style="bold", box=box.SIMPLE_HEAD)
    table.add_column("Metric", no_wrap=True)
    table.add_column("Role")
    table.add_column(names[0] if single else "Baseline", justify="right")
    table.add_column(names[1] if single else "Variant", justify="right")
    table.add_column("Abs. effect [CI]", justify="right")
    table.add_column("Rel. effect [CI]", justify="right")
    table.add_column("p", justify="right")
    table.add_column("p adj.", justify="right")
    if sequential:
        table.add_column("Seq. p", justify="right")
        table.add_column("Seq. CI", justify="right")
    table.add_column("Chance to win", justify="right")
    table.add_column("Result")
    for row in sc.rows(result):
        m, c = row.metric, row.comparison
        style = _STYLE[row.outcome]
        abs_ci = sc.fmt_ci(c.ci_low, c.ci_high, lambda v, m=m: sc.fmt_abs_effect(m, v))
        rel_ci = sc.fmt_ci(c.rel_ci_low, c.rel_ci_high, sc.fmt_rel)
        seq_cells = (sc.fmt_sequential_p(c), sc.fmt_sequential_ci(m, c)) if sequential else ()
        table.add_row(
            row.label if single else f"{row.label} ({c.variant})",
            sc.ROLE_LABELS[row.role],
            sc.fmt_value(m, row.baseline.mean if row.baseline else None),
            sc.fmt_value(m, row.variant.mean if row.variant else None),
            Text(f"{sc.fmt_abs_effect(m, c.abs_effect)} {abs_ci}", style=style),
            Text(f"{sc.fmt_rel(c.rel_effect)} {rel_ci}", style=style),
            sc.fmt_p(c.p_value),
            sc.fmt_p(c.p_adjusted),
            *seq_cells,
            sc.fmt_chance(c.chance_to_win),
            Text(sc.OUTCOME_LABELS[row.outcome], style=style),
        )
    return table


def scorecard(report: ExperimentReport) -> RenderableType:
    """Headline, SRM line, metrics table and a short methods note as one rich renderable."""
    from rich.console import Group
    from rich.text import Text

    result = report.result
    ok, srm_text = sc.srm_summary(result.srm)
    srm = Text(("✓ " if ok is not False else "⚠ ") + srm_text, style="green" if ok else "bold red")
    if ok is None:
        srm.stylize("dim")
    parts = [_headline(report), srm]
    if sc.mislabelled_note(result):
        parts.append(Text(f"⚠ {sc.mislabelled_note(result)}", style="bold red"))
    note = Text(
        f"p adj.: {sc.correction_label(result)}. "
        + (
            "Store-randomised: the store is the unit of inference. "
            if result.unit == "store"
            else ""
        )
        + "Effects are variant − baseline; proportions in percentage points (pp)."
        + (f" {sc.no_relative_note(result)}" if sc.no_relative_note(result) else "")
        + (f" {sc.SEQUENTIAL_NOTE}" if sc.has_sequential(result) else ""),
        style="dim",
    )
    kpis = [
        Text(f"{sc.metric_label(m.metric)} — {line}", style="dim")
        for m in sc.sorted_metrics(result)
        for line in kpi_lines(m)
    ]
    design = [Text(design_note(result), style="dim")] if design_note(result) else []
    from reports.slices import breakdown_table, timeline_table

    extras = [t for t in (timeline_table(result), breakdown_table(result)) if t is not None]
    return Group(*parts, _table(result), *kpis, *design, note, *extras)


def show(report: ExperimentReport, console: Console | None = None) -> None:
    """Print the scorecard of one analysis."""
    from rich.console import Console

    (console or Console(highlight=False)).print(scorecard(report))
