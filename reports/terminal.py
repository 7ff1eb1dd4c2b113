"""The experiment scorecard in the terminal (``storelab report show``), rendered with rich."""

from __future__ import annotations

from typing import TYPE_CHECKING

from reports import scorecard as sc

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

_STYLE = {"win": "bold green", "loss": "bold red", "flat": "dim"}


def scorecard(analysis: dict) -> RenderableType:
    """Headline, SRM line, metrics table and a short methods note as one rich renderable."""
    from rich import box
    from rich.console import Group
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    key, label, colour, meaning = sc.recommendation(analysis)
    head = Text()
    head.append(f"{label}\n", style=f"bold {colour}")
    head.append(meaning, style="italic")
    for reason in sc.reasons(analysis):
        head.append(f"\n • {reason}")
    title = str(analysis.get("experiment", "experiment"))
    subtitle = " · ".join(
        str(x)
        for x in (
            analysis.get("prototype"),
            f"randomised by {analysis['unit']}" if analysis.get("unit") else None,
            f"{analysis.get('start')} → {analysis.get('end')}" if analysis.get("start") else None,
        )
        if x
    )
    headline = Panel(
        head,
        title=f"[bold]{title}[/] — recommendation",
        subtitle=subtitle or None,
        border_style=colour,
        padding=(0, 1),
    )

    ok, srm_text = sc.srm_summary(analysis)
    srm = Text(("✓ " if ok is not False else "⚠ ") + srm_text, style="green" if ok else "bold red")
    if ok is None:
        srm.stylize("dim")

    names = sc.variant_names(analysis)
    single = len(names) == 2
    table = Table(header_style="bold", box=box.SIMPLE_HEAD)
    table.add_column("Metric", no_wrap=True)
    table.add_column("Role")
    table.add_column(names[0] if single else "Baseline", justify="right")
    table.add_column(names[1] if single else "Variant", justify="right")
    table.add_column("Abs. effect [CI]", justify="right")
    table.add_column("Rel. effect [CI]", justify="right")
    table.add_column("p", justify="right")
    table.add_column("p adj.", justify="right")
    table.add_column("Chance to win", justify="right")
    table.add_column("Result")
    for row in sc.rows(analysis):
        m, c = row.metric, row.comparison
        out = row.outcome
        style = _STYLE[out]
        name = row.label if single or not c else f"{row.label} ({c.get('variant')})"
        abs_ci = sc.fmt_ci(
            c.get("ci_low"), c.get("ci_high"), lambda v, m=m: sc.fmt_abs_effect(m, v)
        )
        rel_ci = sc.fmt_ci(c.get("rel_ci_low"), c.get("rel_ci_high"), sc.fmt_rel)
        table.add_row(
            name,
            sc.ROLE_LABELS.get(row.role, row.role),
            sc.fmt_value(m, (row.baseline or {}).get("mean")),
            sc.fmt_value(m, (row.variant or {}).get("mean")),
            Text(f"{sc.fmt_abs_effect(m, c.get('abs_effect'))} {abs_ci}", style=style),
            Text(f"{sc.fmt_rel(c.get('rel_effect'))} {rel_ci}", style=style),
            sc.fmt_p(c.get("p_value")),
            sc.fmt_p(row.p_adjusted),
            sc.fmt_chance(c.get("chance_to_win")),
            Text(sc.OUTCOME_LABELS[out], style=style),
        )
    note = Text(
        f"p adj.: {sc.correction_label(analysis)}. "
        + (
            "Store-randomised: the store is the unit of inference. "
            if analysis.get("unit") == "store"
            else ""
        )
        + "Effects are variant − baseline; proportions in percentage points (pp).",
        style="dim",
    )
    return Group(headline, srm, table, note)


def show(analysis: dict, console: Console | None = None) -> None:
    """Print the scorecard of one analysis."""
    from rich.console import Console

    (console or Console(highlight=False)).print(scorecard(analysis))
