"""``storelab experiment …``: new, power, analyze, decide.

Command bodies parse options and call ``experiments.*`` functions; numpy, scipy, duckdb, yaml
and the pydantic models are imported inside the bodies so ``storelab --help`` stays light.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from clikit import JsonOption, LabOption, StorelabGroup, console, open_lab, print_json
from errors import InvalidInputError, StorelabError

if TYPE_CHECKING:
    from experiments.results import Comparison, ExperimentResult

app = typer.Typer(
    cls=StorelabGroup, no_args_is_help=True, help="Design, analyse and decide experiments."
)


class Unit(StrEnum):
    store = "store"
    session = "session"


class Design(StrEnum):
    random = "random"
    stratified = "stratified"
    matched = "matched"


class Decision(StrEnum):
    roll_out = "roll_out"
    extend = "extend"
    iterate = "iterate"
    scrap = "scrap"


@app.command("new")
def new(
    experiment_id: Annotated[str, typer.Argument(help="Experiment id (lower case, digits, - _).")],
    prototype: Annotated[str, typer.Option("--prototype", help="Prototype id it tests.")],
    unit: Annotated[
        Unit, typer.Option("--unit", help="store: each store runs one variant; session: all.")
    ],
    design: Annotated[
        Design,
        typer.Option(
            help="unit=store: random; stratified (within --strata); matched (pairs of stores "
            "alike in --match-on's pre-period, needs imported KPIs)."
        ),
    ] = "random",
    strata: Annotated[
        str | None, typer.Option(help="--design stratified: the stores.csv column, region|format.")
    ] = None,
    match_on: Annotated[
        str, typer.Option(help="--design matched: the store KPI whose pre-period makes pairs.")
    ] = "conversion_rate",
    seed: Annotated[
        int | None, typer.Option(help="Seed of the store assignment (default: a fresh one).")
    ] = None,
    lab: LabOption = None,
    json_: JsonOption = False,
) -> None:
    """Write a first experiment spec; unit=store draws which store runs which variant."""
    from experiments.spec import ensure_new_experiment, new_experiment
    from prototypes.library import comparison_for

    the_lab = open_lab(lab)
    ensure_new_experiment(the_lab, experiment_id)
    compared = comparison_for(the_lab, prototype)
    if unit is Unit.session and design != "random":
        raise InvalidInputError(f"--design {design} assigns stores; it needs --unit store")
    assignment = None
    if unit is Unit.store:
        assignment = _draw_stores(the_lab, list(compared.arms), str(design), strata, match_on, seed)
    path = new_experiment(
        the_lab,
        experiment_id,
        prototype,
        unit.value,
        arms=compared.arms,
        what=compared.what,
        instruments=compared.instruments,
        assignment=assignment,
    )
    if json_:
        out = {"experiment": experiment_id, "path": str(path)}
        if assignment is not None:
            out |= {"design": assignment.design, "seed": assignment.seed,
                    "stores": assignment.stores, "left_out": assignment.left_out}  # fmt: skip
        print_json(out)
        return
    con = console()
    con.print(f"Wrote [bold]{path}[/]")
    if assignment is not None:
        con.print(f"  stores ({assignment.design}, seed {assignment.seed}): " + "; ".join(
            f"{v}: {', '.join(s)}" for v, s in assignment.stores.items()))  # fmt: skip
        if assignment.left_out:
            con.print(f"  left out (no partner): {', '.join(assignment.left_out)}")
    con.print(
        "  edit hypothesis, variants, dates and metrics, then run\n"
        "  storelab experiment power --baseline 0.6 --mde 0.05"
    )


def _draw_stores(the_lab, variants, design, strata, match_on, seed):
    """The store assignment of a new unit=store experiment (``experiments.designs``)."""
    import secrets
    from datetime import date, timedelta

    from experiments import designs
    from experiments.spec import PRE_PERIOD_DAYS
    from lab import lab_stores

    fleet = lab_stores(the_lab)
    ids = list(fleet)
    if len(ids) < 2:
        raise InvalidInputError(
            f"{the_lab.stores_csv} lists {len(ids)} store(s); unit=store needs 2+"
        )
    seed = secrets.randbelow(1_000_000) if seed is None else seed
    pre_means = None
    if design == "matched":
        from experiments.kpis import pre_period_means

        today = date.today()  # new_experiment starts the pilot today
        first = today - timedelta(days=PRE_PERIOD_DAYS)
        pre_means = pre_period_means(the_lab, match_on, ids, first, today - timedelta(days=1))
    designs.check_design_inputs(design, ids, variants, strata_by=strata, pre_means=pre_means)
    if design == "stratified":
        by = {s: str(getattr(fleet[s], strata)) for s in ids}
        return designs.stratified_design(by, variants, seed, strata)
    if design == "matched":
        return designs.matched_design(pre_means, variants, seed, match_on)
    return designs.random_design(ids, variants, seed)


@app.command("power")
def power(
    mde: Annotated[
        float | None,
        typer.Option(help="Smallest effect worth detecting (absolute; a share with --relative)."),
    ] = None,
    baseline: Annotated[
        float | None, typer.Option(help="Baseline proportion (or the mean, with --sd).")
    ] = None,
    sd: Annotated[float | None, typer.Option(help="Standard deviation of a mean metric.")] = None,
    relative: Annotated[bool, typer.Option("--relative", help="Read --mde as a share.")] = False,
    alpha: Annotated[float, typer.Option(help="Two-sided significance level.")] = 0.05,
    power_: Annotated[float, typer.Option("--power", help="Wanted power.")] = 0.8,
    unit: Annotated[Unit, typer.Option(help="Randomisation unit.")] = Unit.session,
    sessions_per_store: Annotated[
        float | None, typer.Option(help="unit=store: sessions each store delivers.")
    ] = None,
    icc: Annotated[
        float, typer.Option(help="unit=store: intra-store correlation of the metric.")
    ] = 0.05,
    pre_period_r: Annotated[
        float,
        typer.Option(
            help="unit=store, store KPI: correlation of a store's pre-period and pilot means; "
            "the analysis adjusts kpi:<name> metrics by ANCOVA (variance x (1 - r^2), one dof "
            "less). Session metrics have no pre-period."
        ),
    ] = 0.0,
    store_size_cv: Annotated[
        float,
        typer.Option(help="unit=store: coefficient of variation of sessions per store (0: equal)."),
    ] = 0.0,
    kpi: Annotated[
        str | None,
        typer.Option(
            "--kpi",
            help="unit=store: plan for store KPI NAME; sd, pre/pilot r and mean come from the "
            "lab's stores and their imported KPI (needs a lab).",
        ),
    ] = None,
    challengers: Annotated[
        int,
        typer.Option(
            help="Variants other than the baseline (K). Totals count K + 1 variants; each "
            "primary comparison is planned at alpha / K, as the analysis adjusts them."
        ),
    ] = 1,
    sessions: Annotated[
        int | None, typer.Option(help="Instead of --mde: sessions per variant → MDE.")
    ] = None,
    stores: Annotated[
        int | None, typer.Option(help="Instead of --mde: stores per variant → MDE.")
    ] = None,
    lab: LabOption = None,
    json_: JsonOption = False,
) -> None:
    """Sample size for a minimum effect, or the MDE for a given size (sessions, stores, KPIs)."""
    try:
        if kpi is not None:
            out = _kpi_power(kpi, open_lab(lab), mde, relative, alpha, power_, challengers, stores)
        elif unit is Unit.store and sessions_per_store is None and sd is not None:
            out = _kpi_numbers_power(baseline, sd, pre_period_r, mde, relative, alpha, power_,
                                     challengers, stores)  # fmt: skip
        else:
            from experiments import power as pw

            inputs = pw.PowerInputs(
                baseline=baseline, sd=sd, alpha=alpha, power=power_, challengers=challengers
            )
            if unit is Unit.store:
                out = _store_power(inputs, mde, relative, stores,
                                   pw.StoreDesign(_need_spm(sessions_per_store, pre_period_r),
                                                  icc, store_size_cv))  # fmt: skip
            elif sessions is not None:
                out = pw.mde_for_sessions(sessions, inputs)
            else:
                out = pw.sessions_needed(_need_mde(mde), inputs, relative=relative)
    except ValueError as exc:
        raise InvalidInputError(str(exc)) from exc
    _print_plan(out, json_)


def _print_plan(out: dict, json_: bool) -> None:
    if json_:
        print_json(out)
        return
    con = console()
    for key, value in out.items():
        if value is not None:
            shown = f"{value:.4g}" if isinstance(value, float) else str(value)
            con.print(f"{key:>28}: {shown}")


def _kpi_numbers_power(baseline, sd, r, mde, relative, alpha, power_, challengers, stores):
    """Store power for a KPI from given numbers: --sd (between stores) and --pre-period-r."""
    from experiments import power as pw

    inputs = pw.PowerInputs(baseline=baseline, sd=sd, alpha=alpha, power=power_,
                            challengers=challengers)  # fmt: skip
    design = pw.KpiDesign(sd, r)
    if stores is not None:
        return pw.kpi_mde(stores, inputs, design)
    return pw.kpi_stores_needed(_need_mde(mde), inputs, design, relative=relative)


def _need_spm(sessions_per_store: float | None, pre_period_r: float) -> float:
    if pre_period_r:
        raise ValueError(
            "--pre-period-r applies to store KPIs: the analysis adjusts kpi:<name> metrics for "
            "their pre-period (ANCOVA); session metrics have no pre-period, so nothing would "
            "deliver that reduction. Plan a KPI with --kpi NAME, or --sd S --pre-period-r R "
            "without --sessions-per-store."
        )
    if sessions_per_store is None:
        raise ValueError(
            "--unit store needs --sessions-per-store (a session metric), or --kpi NAME / --sd "
            "(a store KPI)"
        )
    return sessions_per_store


def _store_power(inputs, mde, relative, stores, design) -> dict:
    from experiments import power as pw

    if stores is not None:
        return pw.mde_for_stores(stores, inputs, design)
    return pw.stores_needed(_need_mde(mde), inputs, design, relative=relative)


def _kpi_power(name, the_lab, mde, relative, alpha, power_, challengers, stores) -> dict:
    """Store power for ``kpi:<name>`` from the lab's own stores and their KPI history."""
    from experiments import power as pw
    from experiments.kpis import lab_kpi_history

    history = lab_kpi_history(the_lab, name.removeprefix("kpi:"))
    inputs = pw.PowerInputs(baseline=history.mean, sd=history.sd_between, alpha=alpha,
                            power=power_, challengers=challengers)  # fmt: skip
    design = pw.KpiDesign(history.sd_between, history.r or 0.0)
    if stores is not None:
        out = pw.kpi_mde(stores, inputs, design)
    else:
        out = pw.kpi_stores_needed(_need_mde(mde), inputs, design, relative=relative)
    return {**out, "from_lab": history.to_dict()}


def _need_mde(mde: float | None) -> float:
    if mde is None:
        raise ValueError("give --mde (or --sessions / --stores to get the MDE instead)")
    return mde


def _analyze_on_spark(lab, experiment_id: str, correction: str, master, json_: bool) -> None:
    from experiments.analysis import analyze as analyze_experiment

    result = _with_rework(
        lab,
        analyze_experiment(
            lab, experiment_id, correction=correction, engine="spark", master=master
        ),  # fmt: skip
    )
    if json_:
        print_json(result.to_dict())
    else:
        print_analysis(result)


@app.command("analyze")
def analyze(
    experiment_id: Annotated[
        str | None, typer.Argument(help="Experiment id; or --all.", show_default=False)
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every experiment in the lab.")] = False,
    correction: Annotated[
        str, typer.Option(help="Multiple-comparison correction: holm, bh or none.")
    ] = "holm",
    timeline: Annotated[
        bool,
        typer.Option(
            "--timeline/--no-timeline", help="With --json: the cumulative effect day by day."
        ),
    ] = True,
    breakdowns: Annotated[
        bool,
        typer.Option(
            "--breakdowns/--no-breakdowns",
            help="With --json: effects by device, store, region, format and locale.",
        ),
    ] = True,
    engine: Annotated[
        str,
        typer.Option(
            help="duckdb, or spark: the statistics computed by Spark on the lake's Parquet "
            "files (lake mode; pip install 'storelab[spark]'; no timeline or breakdowns)."
        ),
    ] = "duckdb",
    master: Annotated[
        str | None,
        typer.Option(help="With --engine spark: the Spark master URL. Default: local[2]."),
    ] = None,
    lab: LabOption = None,
    json_: JsonOption = False,
) -> None:
    """Compare variants: effects, CIs, p-values, chance to win, SRM and a recommendation."""
    from rich.markup import escape

    from experiments.readout import ReadOut, read_out, read_out_all
    from experiments.results import AnalysisFailure

    if correction not in ("holm", "bh", "none"):
        raise InvalidInputError(f"--correction must be holm, bh or none, not {correction!r}")
    if all_ == (experiment_id is not None):
        raise InvalidInputError("give an experiment id or --all (not both)")
    if engine not in ("duckdb", "spark"):
        raise InvalidInputError(f"--engine must be duckdb or spark, not {engine!r}")
    if engine == "spark" and all_:
        raise InvalidInputError("--engine spark analyses one experiment at a time (no --all)")
    the_lab = open_lab(lab)
    if engine == "spark":
        _analyze_on_spark(the_lab, experiment_id, correction, master, json_)
        return
    # over time and by segment: in the JSON; the text read-out points to `report show`
    options = ReadOut(timeline and json_, breakdowns and json_, correction=correction)
    if all_:
        results = [_checked(the_lab, r) for r in read_out_all(the_lab, options)]
        if json_:
            print_json([r.to_dict() for r in results])
            return
        if not results:
            console().print("No experiments in this lab yet (storelab experiment new …).")
        for result in results:
            if isinstance(result, AnalysisFailure):
                console().print(
                    f"\n[bold]{escape(result.experiment)}[/]  [red]could not be analysed:[/] "
                    f"{escape(result.error)}"
                )
            else:
                print_analysis(result)
        return
    _check_measures(the_lab, experiment_id)
    result = _with_rework(the_lab, read_out(the_lab, experiment_id, options))
    if json_:
        print_json(result.to_dict())
        return
    print_analysis(result)
    console().print(
        f"[dim]Over time and by segment: storelab report show {escape(experiment_id)}[/]"
    )


def _check_measures(the_lab, experiment_id: str) -> None:
    """Refuse goal:/question: metrics the experiment's prototype does not define."""
    from experiments.spec import load_experiment
    from prototypes.measures import check_experiment_measures

    check_experiment_measures(the_lab, load_experiment(the_lab, experiment_id))


def _checked(the_lab, result):
    """One result of ``--all``: refused as an ``AnalysisFailure`` when it names goal:/question:
    metrics its prototype does not define (as a single analysis is), else with its rework."""
    from errors import StorelabError
    from experiments.results import AnalysisFailure

    if isinstance(result, AnalysisFailure):
        return result
    try:
        _check_measures(the_lab, result.experiment)
    except StorelabError as e:
        return AnalysisFailure(result.experiment, str(e))
    return _with_rework(the_lab, result)


def _with_rework(the_lab, result):
    """An ``iterate``/``extend`` names the screens to rework first (``insights.advice``)."""
    from experiments.results import ExperimentResult
    from experiments.spec import load_experiment
    from insights.advice import with_rework

    if not isinstance(result, ExperimentResult):
        return result  # an AnalysisFailure of --all stays what it is
    return with_rework(the_lab, load_experiment(the_lab, result.experiment), result)


def _num(x: float | None, fmt: str = ".3g") -> str:
    return "–" if x is None else format(x, fmt)


def _sequential_cells(c: Comparison) -> tuple[str, str]:
    """Sequential p (adjusted) and CI of a comparison, as the analyze table shows them."""
    from rich.markup import escape

    s = c.sequential
    if s is None:
        return "–", "–"
    return _num(s.p_adjusted, ".2g"), escape(
        f"[{_num(s.ci_low, '+.2g')}, {_num(s.ci_high, '+.2g')}]"
    )


def print_analysis(result: ExperimentResult) -> None:
    """A readable rich rendering of one ``analyze`` result."""
    from rich.markup import escape
    from rich.table import Table

    from feedback.kpi_measures import measure
    from reports.kpi_notes import design_note, kpi_lines

    con = console()
    srm = result.srm
    con.print(
        f"\n[bold]{result.experiment}[/]  unit={result.unit}  alpha={result.alpha}  "
        f"correction={result.correction}"
    )
    srm_state = "[green]ok[/]" if srm.ok else "[red]MISMATCH[/]"
    con.print(f"SRM {srm_state} p={_num(srm.p_value)} {srm.unit} counts {srm.counts}")
    if result.mislabelled_total:
        from reports.scorecard import mislabelled_note

        con.print(f"[bold red]⚠ {escape(mislabelled_note(result))}[/]")
    con.print(f"n = {result.unit}s with a value; * = significant after {result.correction}")
    seq = any(c.sequential for m in result.metrics for c in m.comparisons)  # unit=session
    if seq:
        con.print("seq = sequential test: valid at every look; only it may end the test early")
    table = Table(box=None, pad_edge=False, header_style="bold")
    cols = ("metric", "variant", "n", "mean", "effect [CI]", "rel", "p adj")
    for col in (*cols, *(("seq p", "seq CI") if seq else ()), "win"):
        left = col in ("metric", "variant")
        table.add_column(col, justify="left" if left else "right", no_wrap=col != "metric")
    for m in result.metrics:
        comps = {c.variant: c for c in m.comparisons}
        for i, v in enumerate(m.variants):
            c = comps.get(v.variant)
            name = m.metric if i == 0 else f"[dim]{m.role}[/]" if i == 1 else ""
            row = [name, v.variant, str(v.units), _num(v.mean)]
            if c is None:
                row += [""] * (6 if seq else 4)
            else:
                mark = "[bold green]*[/]" if c.significant else " "
                row += [
                    escape(
                        f"{_num(c.abs_effect, '+.3g')} [{_num(c.ci_low, '+.2g')}, "
                        f"{_num(c.ci_high, '+.2g')}]"
                    )
                    + mark,
                    _num(c.rel_effect, "+.1%"),
                    _num(c.p_adjusted, ".2g"),
                    *(_sequential_cells(c) if seq else ()),
                    _num(c.chance_to_win, ".0%"),
                ]
            table.add_row(*row)
    con.print(table)
    for m in result.metrics:
        for line in kpi_lines(m):
            con.print(f"[dim]{escape(m.metric)}: {escape(line)}[/]")
    if design_note(result):
        con.print(f"[dim]{design_note(result)}[/]")
    no_rel = [m.metric for m in result.metrics if measure(m.metric).crosses_zero]
    if no_rel:
        con.print(f"[dim]rel –: {', '.join(no_rel)} can cross zero; read the absolute effect.[/]")
    con.print(f"Recommendation: [bold]{result.decision.recommendation}[/]")
    for reason in result.decision.reasons:
        con.print(f"  - {reason}")
    if result.decision.rework_screens:
        first = result.decision.rework_screens[0]
        con.print(f"Screens to rework first ({escape(first.variant)}, v{first.version}):")
    for i, screen in enumerate(result.decision.rework_screens, 1):
        con.print(f"  {i}. {escape(screen.evidence)}")


@app.command("decide")
def decide(
    experiment_id: Annotated[str, typer.Argument(help="Experiment id.")],
    decision: Annotated[Decision, typer.Option(help="What the team decided.")],
    note: Annotated[str, typer.Option(help="Why (kept with the lab, in git).")],
    lab: LabOption = None,
    json_: JsonOption = False,
) -> None:
    """Record a decision in lab/experiments/<id>.decisions.jsonl (with the recommendation)."""
    from experiments.decisions import record_decision

    the_lab = open_lab(lab)
    try:
        from experiments.analysis import analyze as run_analysis

        recommendation = run_analysis(the_lab, experiment_id).decision.recommendation
    except StorelabError:
        recommendation = None  # no data yet: the decision is still worth recording
    entry = record_decision(
        the_lab, experiment_id, decision.value, note, recommendation=recommendation
    )
    if json_:
        print_json(entry)
        return
    console().print(
        f"Recorded [bold]{decision.value}[/] for {experiment_id}"
        + (f" (recommendation was {recommendation})" if recommendation else "")
    )
