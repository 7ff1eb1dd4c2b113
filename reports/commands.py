"""``storelab report …`` (HTML and terminal scorecards) and the root ``storelab dashboard``.

``storelab demo`` lives in cli.py; it and ``dashboard`` share ``reports.serve.serve_dashboard``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from clikit import JsonOption, LabOption, console, open_lab, print_json

app = typer.Typer(no_args_is_help=True)

ExperimentArg = Annotated[str, typer.Argument(help="Experiment id (lab/experiments/<id>.yaml).")]


@app.command("html")
def html_command(
    experiment: ExperimentArg,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Where to write the file. Default: lab/reports/<id>.html."),
    ] = None,
    lab: LabOption = None,
    json_: JsonOption = False,
) -> None:
    """Write the experiment's report as one self-contained HTML file and print its path."""
    from reports.htmlreport import write_report

    path = write_report(open_lab(lab), experiment, out)
    if json_:
        print_json({"path": str(path)})
    else:
        console().print(str(path))


@app.command("show")
def show_command(
    experiment: ExperimentArg,
    lab: LabOption = None,
    json_: JsonOption = False,
) -> None:
    """Print the experiment's scorecard: recommendation, SRM check, every metric."""
    from reports import data

    report = data.analyze(open_lab(lab), experiment)
    if json_:
        print_json(report.to_dict())
        return
    from reports.terminal import show

    show(report, console())


@app.command("usability")
def usability_command(
    prototype: Annotated[str, typer.Argument(help="Prototype id (lab/prototypes/<id>/).")],
    version: Annotated[
        int | None, typer.Option("--version", help="Prototype version. Default: the current one.")
    ] = None,
    variant: Annotated[
        str | None, typer.Option("--variant", help="Only sessions with this variant label.")
    ] = None,
    store: Annotated[
        str | None, typer.Option("--store", help="Only this store's sessions.")
    ] = None,
    persona: Annotated[
        str | None,
        typer.Option("--persona", help="Only journeys under this persona (anonymous: none)."),
    ] = None,
    html: Annotated[
        Path | None, typer.Option("--html", help="Also write the report as one HTML file here.")
    ] = None,
    lab: LabOption = None,
    json_: JsonOption = False,
) -> None:
    """Usability of one prototype version, without an experiment: per task success (direct,
    indirect), give-ups, timeouts, time on task, misclicks, answers and a usability score; per
    screen drop-off and misclicks; the paths customers took; the screens to rework first."""
    from insights.usability import UsabilityQuery, usability_report

    query = UsabilityQuery(version=version, variant=variant, store=store, persona=persona)
    report = usability_report(open_lab(lab), prototype, query)
    path = None
    if html is not None:
        from reports.usability_html import write_usability_html

        path = write_usability_html(report, html)
    if json_:
        print_json(report.to_dict() | ({"html": str(path)} if path else {}))
        return
    from reports.usability_terminal import show_usability

    out = console()
    show_usability(report, out)
    if path:
        out.print(f"HTML report: {path}")


@app.command("history")
def history_command(
    prototype: Annotated[str, typer.Argument(help="Prototype id (lab/prototypes/<id>/).")],
    html: Annotated[
        Path | None, typer.Option("--html", help="Also write the history as one HTML file here.")
    ] = None,
    lab: LabOption = None,
    json_: JsonOption = False,
) -> None:
    """v1 → v2 → v3 of one prototype side by side: per task and per screen each version's
    usability numbers, what changed in the spec, and how the numbers moved."""
    from insights.history import iteration_history
    from reports.history_view import render_history_html, show_history

    history = iteration_history(open_lab(lab), prototype)
    if html is not None:
        html.parent.mkdir(parents=True, exist_ok=True)
        html.write_text(render_history_html(history), encoding="utf-8")
    if json_:
        print_json(history.to_dict() | ({"html": str(html)} if html else {}))
        return
    out = console()
    show_history(history, out)
    if html:
        out.print(f"HTML: {html}")


@app.command("tapmap")
def tapmap_command(
    prototype: Annotated[str, typer.Argument(help="Prototype id.")],
    version: Annotated[int | None, typer.Option(help="Version. Default: current.")] = None,
    screen: Annotated[str | None, typer.Option(help="Only this screen.")] = None,
    device: Annotated[str | None, typer.Option(help="Only phone or kiosk.")] = None,
    variant: Annotated[str | None, typer.Option(help="Only this variant.")] = None,
    store: Annotated[str | None, typer.Option(help="Only this store.")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Also write the maps as one HTML file.")
    ] = None,
    lab: LabOption = None,
    json_: JsonOption = False,
) -> None:
    """Where customers tapped and misclicked on each screen: counts and hot spots."""
    from insights.tapmaps import TapFilter, build_tap_maps

    the_lab = open_lab(lab)
    flt = TapFilter(prototype, version, variant, store, device, screen)
    report = build_tap_maps(the_lab, flt)
    written = None
    if out is not None:
        from reports.tapmaps import write_tapmaps_html

        written = write_tapmaps_html(report, out)
    if json_:
        print_json({**report.summary(), **({"html": str(written)} if written else {})})
        return
    from reports.tapmaps import terminal_lines

    for line in terminal_lines(report):
        typer.echo(line)
    for hint in report.snapshot_hints():
        typer.echo(hint)
    if written:
        typer.echo(str(written))


def dashboard(
    port: Annotated[int, typer.Option("--port", help="Port to serve on.")] = 8501,
    lab: LabOption = None,
) -> None:
    """Start the analyst dashboard; it asks for the lab's access token (the URL printed has it)."""
    from reports.serve import dashboard_url, serve_dashboard

    the_lab = open_lab(lab)
    out = console()
    out.print(f"storelab dashboard for [bold]{the_lab.root}[/]")
    out.print(f"  open  {dashboard_url(the_lab, port)}")
    out.print("  stop  Ctrl-C")
    code = serve_dashboard(the_lab, port)
    if code not in (0, -2, 130):
        raise typer.Exit(code)


@app.command("comments")
def comments_command(
    prototype: Annotated[str, typer.Argument(help="Prototype id (lab/prototypes/<id>).")],
    version: Annotated[int | None, typer.Option("--version", help="Only this version.")] = None,
    variant: Annotated[str | None, typer.Option("--variant", help="Only this variant.")] = None,
    store: Annotated[str | None, typer.Option("--store", help="Only this store id.")] = None,
    screen: Annotated[str | None, typer.Option("--screen", help="Only this screen.")] = None,
    theme: Annotated[
        str | None, typer.Option("--theme", help="Only this theme of the codebook ('(none)').")
    ] = None,
    sentiment: Annotated[
        str | None, typer.Option("--sentiment", help="negative, neutral or positive.")
    ] = None,
    search: Annotated[
        str | None, typer.Option("--search", help="Text the comment contains.")
    ] = None,
    lab: LabOption = None,
    json_: JsonOption = False,
) -> None:
    """Customer comments of a prototype: themes (lab/codebook.yaml) per variant and version,
    sentiment, quotes and suggested new themes."""
    from insights.comments import CommentFilter, analyse_comments

    flt = CommentFilter(prototype, version, variant, store, screen, theme, sentiment, search)
    report = analyse_comments(open_lab(lab), flt)
    if json_:
        print_json(report.to_dict())
        return
    from reports.comments_section import show_comments

    show_comments(report, console())
