"""``storelab sample …``: simulated pilot data with known true effects."""

from __future__ import annotations

from typing import Annotated

import typer

from clikit import JsonOption, LabOption, console, open_lab, print_json

app = typer.Typer(no_args_is_help=True)


@app.command("generate")
def generate_command(
    stores: Annotated[
        int,
        typer.Option("--stores", help="Stores in the pilot (stores.csv is written if missing)."),
    ] = 12,
    sessions: Annotated[int, typer.Option("--sessions", help="Customer sessions to simulate.")] = (
        2_000
    ),
    seed: Annotated[int, typer.Option("--seed", help="Random seed; same seed, same data.")] = 7,
    effect: Annotated[
        list[str] | None,
        typer.Option(
            "--effect",
            help="True effect of every variant against the baseline, in the metric's units: "
            "METRIC=X, repeatable (--effect task_success_rate=0.05 --effect sus=4); store KPIs "
            "as kpi:NAME=X (--effect kpi:conversion_rate=0.01, unit=store only).",
            show_default=False,
        ),
    ] = None,
    experiment: Annotated[
        str | None,
        typer.Option(
            "--experiment", help="Experiment to simulate. Default: the lab's first, else a new one."
        ),
    ] = None,
    icc: Annotated[
        float, typer.Option("--icc", help="Share of variance between stores (latent scale).")
    ] = 0.03,
    lab: LabOption = None,
    json_: JsonOption = False,
) -> None:
    """Simulate pilot sessions with known true effects, spool the events and ingest them."""
    from sample_data.generate import generate_sample, parse_effects

    the_lab = open_lab(lab)
    effects = parse_effects(effect)
    if json_:
        print_json(
            generate_sample(
                the_lab, stores, sessions, seed, effects, None, experiment_id=experiment, icc=icc
            )  # fmt: skip
        )
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    out = console()
    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=out,
        transient=True,
    ) as bar:  # fmt: skip
        sim_task = bar.add_task("Simulating sessions", total=sessions)

        def on_sessions(done: int, total: int) -> None:
            bar.update(sim_task, completed=done, total=total)

        ingest_task = bar.add_task("Ingesting", total=None, visible=False)

        def on_ingest(done: int, total: int, name: str) -> None:
            bar.update(ingest_task, visible=True, completed=done, total=total)

        summary = generate_sample(the_lab, stores, sessions, seed, effects, on_sessions,
                                  experiment_id=experiment, icc=icc,
                                  ingest_progress=on_ingest)  # fmt: skip
    _print_summary(summary)


def _print_summary(summary: dict) -> None:
    out = console()
    made = [k for k, v in summary["created"].items() if v]
    out.print(
        f"[bold]{summary['sessions']:,}[/] sessions, [bold]{summary['events']:,}[/] events in "
        f"{len(summary['files'])} spool file(s) for experiment [bold]{summary['experiment']}[/] "
        f"({summary['stores']} stores, seed {summary['seed']}, "
        f"{summary['sessions_per_second']:,.0f} sessions/s)"
        + (f"; created {' and '.join(made)}" if made else "")
    )
    if "ingest" in summary:
        ing = summary["ingest"]
        out.print(
            f"Ingested {ing['inserted']:,} new events "
            f"({ing['duplicates']:,} duplicates, {ing['rejected']:,} rejected)."
        )
    out.print("True effects against the baseline (what the analysis should find):")
    for metric, by_variant in summary["true_effects"].items():
        planted = " (planted)" if metric in summary["effects"] else ""
        values = ", ".join(f"{v}: {x:+.4g}" for v, x in by_variant.items())
        out.print(f"  {metric:<18} {values}{planted}")
    if "kpis" in summary:
        kpis = summary["kpis"]
        first, last = kpis["pre_period"]
        imported = kpis.get("import", {}).get("imported")
        out.print(
            f"Store KPIs ({', '.join(kpis['kpis'])}) from {first} (pre-period to {last}) through "
            f"the pilot written to {kpis['file']}"
            + (f"; {imported:,} rows imported" if imported is not None else "")
        )
        for metric, by_variant in kpis["true_effects"].items():
            values = ", ".join(f"{v}: {x:+.4g}" for v, x in by_variant.items())
            out.print(f"  {metric:<22} {values}")
    out.print(f"Truth written to {summary['truth']}")
