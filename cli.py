"""storelab command line: ``storelab …`` and ``python cli.py …`` are the same.

Thin root: each package brings its own Typer group in ``<package>/commands.py``; bodies import
the heavy libraries they need only when they run, so ``storelab --help`` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from clikit import JsonOption, LabOption, StorelabGroup, console, open_lab, print_json
from experiments.commands import app as experiment_app
from experiments.pilot.commands import app as pilot_app
from feedback.commands import app as feedback_app
from feedback.lake.commands import app as lake_app
from prototypes.commands import app as prototype_app
from reports.commands import app as report_app
from reports.commands import dashboard
from sample_data.commands import app as sample_app

app = typer.Typer(
    cls=StorelabGroup,
    name="storelab",
    help="Test ideas for the customer journey in real stores: click dummies, pilot data, "
    "sound statistics, decisions.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.command("init")
def init(
    path: Annotated[Path, typer.Argument(help="Folder for the new lab (created if missing).")],
    locale: Annotated[
        str, typer.Option(help="Language customers see by default: de or en.")
    ] = "de",
    json_: JsonOption = False,
) -> None:
    """Create a lab: storelab.toml (with a dashboard token), stores.csv and empty folders."""
    from insights.codebook import write_default_codebook
    from lab import init_lab
    from sample_data.fleet import default_stores

    lab = init_lab(path, locale=locale, stores=default_stores())
    codebook = write_default_codebook(lab)
    if json_:
        print_json(
            {
                "lab": str(lab.root),
                "locale": locale,
                "stores": str(lab.stores_csv),
                "codebook": str(codebook),
            }
        )
        return
    console().print(
        f"Created lab [bold]{lab.root}[/]\n"
        f"  stores:    {lab.stores_csv.name} (edit it to match your pilot fleet)\n"
        f"  codebook:  {codebook.name} (themes of customer comments; edit them)\n"
        f"  next:      cd {path} && storelab prototype templates"
    )


@app.command("demo")
def demo(
    lab: Annotated[
        Path,
        typer.Option("--lab", help="Folder for the demo lab; an earlier demo there is replaced."),
    ] = Path("demo-lab"),
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve gallery and dashboard afterwards.")
    ] = True,
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8501,
    sessions: Annotated[int, typer.Option(min=100, help="Simulated customer sessions.")] = 12_000,
    seed: Annotated[int, typer.Option(help="Random seed of the simulated pilot.")] = 7,
    json_: JsonOption = False,
) -> None:
    """Run the whole loop on simulated pilot data, then serve gallery and dashboard.

    Lab, prototypes, simulated customers in 12 stores, DuckDB, statistics, HTML reports.
    """
    from reports.demo import run_demo

    out = console()
    with out.status("Starting the demo") as status:

        def step(message: str) -> None:
            out.print(f"[green]✓[/] {message}")
            status.update(message)

        result = run_demo(lab, sessions=sessions, seed=seed, step=None if json_ else step)
    if json_:
        print_json(
            {
                "lab": str(result.lab.root),
                "generated": result.generated,
                "analyses": [analysis.to_dict() for analysis in result.analyses],
                "reports": [str(p) for p in result.reports],
            }
        )
    else:
        _print_demo_summary(result)
    if serve:
        from reports.serve import dashboard_url, serve_dashboard

        out.print(f"\nServing the prototype gallery and the analyst dashboard on port {port}:")
        out.print(f"  [bold]{dashboard_url(result.lab, port)}[/]   (Ctrl-C stops it)")
        raise typer.Exit(serve_dashboard(result.lab, port))


def _print_demo_summary(result) -> None:
    out = console()
    gen = result.generated
    out.print(
        f"\nLab [bold]{result.lab.root}[/]: {gen.get('sessions', 0):,} sessions, "
        f"{gen.get('events', 0):,} events stored in {result.lab.db_path.name}"
    )
    for analysis, report in zip(result.analyses, result.reports, strict=True):
        decision = analysis.decision
        out.print(
            f"  [bold]{analysis.experiment}[/] ({analysis.unit}-randomised): "
            f"recommendation [bold]{decision.recommendation}[/]"
        )
        for reason in decision.reasons[:2]:
            out.print(f"    - {reason}")
        out.print(f"    report: {report}")


token_app = typer.Typer(
    cls=StorelabGroup,
    no_args_is_help=True,
    help="The lab's access token (dashboard, gallery, team preview).",
)


@token_app.command("rotate")
def token_rotate(
    port: Annotated[int, typer.Option(help="Port of the dashboard link printed.")] = 8501,
    lab: LabOption = None,
    json_: JsonOption = False,
) -> None:
    """Replace the access token in storelab.toml; links with the old one stop working."""
    from lab import rotate_token
    from reports.serve import dashboard_url

    the_lab = open_lab(lab)
    token = rotate_token(the_lab)
    url = dashboard_url(the_lab, port)
    if json_:
        print_json({"config": str(the_lab.config_path), "token": token, "dashboard_url": url})
        return
    typer.echo(
        f"New access token written to {the_lab.config_path}.\n"
        "Links and open pages with the old token stop working now. The team's new link:\n"
        f"  dashboard  {url}"
    )


app.add_typer(prototype_app, name="prototype", help="Author, validate, version and run prototypes.")
app.add_typer(experiment_app, name="experiment", help="Design, analyse and decide experiments.")
app.add_typer(feedback_app, name="feedback", help="Ingest, import and export pilot data.")
app.add_typer(
    lake_app,
    name="lake",
    help="Lake mode: the lab's own catalog PostgreSQL; import a file lab into its lake.",
)
app.add_typer(pilot_app, name="pilot", help="Pilot health: is every store sending data?")
app.add_typer(sample_app, name="sample", help="Simulated pilot data with known true effects.")
app.add_typer(report_app, name="report", help="HTML and terminal reports for an experiment.")
app.add_typer(token_app, name="token", help="The lab's access token: rotate it.")
app.command("dashboard")(dashboard)


def main() -> None:
    """Console-script entry point."""
    app(prog_name="storelab")


if __name__ == "__main__":
    main()
