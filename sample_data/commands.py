"""``storelab sample …``: simulated pilot data with known true effects."""

from __future__ import annotations

from typing import Annotated

import typer

from clikit import JsonOption, LabOption, console, open_lab, print_json
from errors import InvalidInputError

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
    problem: Annotated[
        str | None,
        typer.Option(
            "--problem",
            help="Plant a usability problem on one screen: SCREEN or SCREEN@X,Y (where its "
            "misclicks cluster, shares of the screen), e.g. reserve@0.5,0.42. Customers who "
            "arrive there give up, misclick and comment at known rates (--problem-*); the truth "
            "file says exactly how much was written.",
            show_default=False,
        ),
    ] = None,
    problem_variant: Annotated[
        str | None,
        typer.Option(
            "--problem-variant",
            help="Only this variant has the problem (default: all).",
            show_default=False,
        ),  # fmt: skip
    ] = None,
    problem_drop: Annotated[
        float | None,
        typer.Option(
            "--problem-drop",
            help="Share of arrivals who give up there (default 0.3).",
            show_default=False,
        ),  # fmt: skip
    ] = None,
    problem_misclicks: Annotated[
        float | None,
        typer.Option(
            "--problem-misclicks",
            show_default=False,
            help="Extra misclicks per arrival around X,Y (default 1.2).",
        ),  # fmt: skip
    ] = None,
    problem_theme: Annotated[
        str | None,
        typer.Option(
            "--problem-theme",
            show_default=False,
            help="Theme of their comments: sizes, waiting, price, payment, staff, "
            "findability or usability (default usability).",
        ),  # fmt: skip
    ] = None,
    problem_comments: Annotated[
        float | None,
        typer.Option(
            "--problem-comments",
            show_default=False,
            help="Share of arrivals commenting on the theme (default 0.25).",
        ),  # fmt: skip
    ] = None,
    lab: LabOption = None,
    json_: JsonOption = False,
) -> None:
    """Simulate pilot sessions with known true effects, spool the events and ingest them."""
    from sample_data.generate import generate_sample, parse_effects
    from sample_data.problem import parse_problem

    the_lab = open_lab(lab)
    effects = parse_effects(effect)
    options = {"variant": problem_variant, "drop": problem_drop, "misclicks": problem_misclicks,
               "theme": problem_theme, "comment_share": problem_comments}  # fmt: skip
    if problem is None and any(v is not None for v in options.values()):
        raise InvalidInputError("--problem-* options need --problem SCREEN[@X,Y]")
    planted = parse_problem(problem, **options) if problem is not None else None
    if json_:
        print_json(
            generate_sample(
                the_lab,
                stores,
                sessions,
                seed,
                effects,
                None,
                experiment_id=experiment,
                icc=icc,
                problem=planted,
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
                                  ingest_progress=on_ingest, problem=planted)  # fmt: skip
    _print_summary(summary)


# --- handover journeys (issue 15) -------------------------------------------------------------


@app.command("journeys")
def journeys_command(
    prototype: Annotated[str, typer.Argument(help="A prototype with a handover on a task's path.")],
    journeys: Annotated[int, typer.Option("--journeys", help="Journeys to simulate.")] = 60,
    continue_share: Annotated[
        float,
        typer.Option("--continue-share", help="Share that goes on at the other device (0-1)."),
    ] = 0.75,
    store: Annotated[str, typer.Option("--store", help="The store they happen in.")] = "S01",
    seed: Annotated[int, typer.Option("--seed", help="Random seed; same seed, same data.")] = 7,
    lab: LabOption = None,
    as_json: JsonOption = False,
) -> None:
    """Journeys that start on one device and go on at another (a handover), written to the
    spool as the runtime writes them; prints what was planted."""
    from dataclasses import asdict

    from sample_data.journeys import simulate_handover_journeys

    if journeys < 1 or not 0 <= continue_share <= 1:
        raise InvalidInputError("--journeys must be at least 1 and --continue-share in 0-1.")
    truth = simulate_handover_journeys(open_lab(lab), prototype, journeys=journeys,
                                       continue_share=continue_share, store_id=store,
                                       seed=seed)  # fmt: skip
    if as_json:
        print_json(asdict(truth))
        return
    console().print(
        f"[bold]{truth.journeys}[/] journeys of {truth.prototype_id} (task {truth.task}, "
        f"{truth.sessions} sessions): {truth.continued} went on at the other device, "
        f"{truth.succeeded} reached the goal there. Run `storelab feedback ingest` next."
    )


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
    if "problem" in summary:
        _print_problem(summary["problem"])
    out.print(f"Truth written to {summary['truth']}")


def _print_problem(p: dict) -> None:
    """What the planted problem wrote, per variant (the numbers a test or an analyst checks)."""
    out = console()
    out.print(
        f"Planted problem on screen [bold]{p['screen']}[/] (tasks {', '.join(p['tasks'])}): "
        f"{p['drop']:.0%} of arrivals who would go on give up there, {p['misclicks']:g} extra "
        f"misclicks each around ({p['x']:g}, {p['y']:g}), {p['comment_share']:.0%} comment on "
        f"{p['theme']}"
    )
    for variant, n in p["planted"].items():
        out.print(
            f"  {variant:<12} {n['task_visits']:,} arrivals, {n['left_there']:,} left there "
            f"because of it, {n['misclicks']:,} planted misclicks, {n['comments']:,} comments"
        )
    out.print(f"  comments mentioning {p['theme']} ({', '.join(p['keywords'])}): "
              f"{p['comments_on_theme']:,}")  # fmt: skip
