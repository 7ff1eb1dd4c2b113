"""``storelab feedback …``: ingest the spool or external files, import store KPIs, export."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from clikit import JsonOption, LabOption, console, open_lab, print_json

app = typer.Typer(no_args_is_help=True)


@app.command("ingest")
def ingest_command(
    files: Annotated[
        list[Path] | None,
        typer.Argument(help="JSONL, CSV or Parquet files with events. Default: the lab's spool."),
    ] = None,
    strict: Annotated[
        bool,
        typer.Option("--strict", help="Exit 3 if any line was rejected (valid ones are kept)."),
    ] = False,
    worker: Annotated[
        str | None,
        typer.Option(
            "--worker",
            help="Lake mode: this worker's name (e.g. the host). Workers with different names "
            "ingest into the shared lake at the same time.",
        ),
    ] = None,
    spool: Annotated[
        list[Path] | None,
        typer.Option(
            "--spool", help="Spool folder(s) to read (repeatable). Default: the lab's spool/."
        ),
    ] = None,
    lab: LabOption = None,
    json_: JsonOption = False,
) -> None:
    """Store new events in the lab's database; invalid lines go to rejected_events.

    A spool file that cannot be read is named with its reason (and kept in skipped_files);
    the others are ingested all the same. Waits for another running ingest to finish (in
    lake mode: only for one of the same --worker).
    """
    from feedback.ingest import ingest

    the_lab = open_lab(lab)
    options = {"worker": worker, "spools": spool or None}
    if json_:
        report = ingest(the_lab, files or None, strict=strict, **options)
        print_json(report.to_dict())
        return
    from rich.progress import Progress

    with Progress(console=console(), transient=True) as bar:
        task = bar.add_task("Ingesting", total=None)

        def progress(done: int, total: int, name: str) -> None:
            bar.update(task, total=total, completed=done, description=f"Ingesting {name}")

        report = ingest(the_lab, files or None, progress=progress, **options)
    _print_report(report)
    if strict:
        report.raise_if_problems()


def _print_report(report) -> None:
    from rich.markup import escape

    out = console()
    for f in report.files:
        if f.skipped:
            continue
        name = escape(Path(f.source).name)
        line = f"{name}: {f.inserted} new, {f.duplicates} duplicate, {f.rejected} rejected"
        if f.note:
            line += f" ({escape(f.note)})"
        out.print(line)
        for example in f.examples:
            out.print(f"  [yellow]{escape(example)}[/]")
    for f in report.unreadable:
        out.print(f"[red]{escape(Path(f.source).name)}: not read: {escape(f.error)}[/]")
    skipped = sum(1 for f in report.files if f.skipped and not f.error)
    out.print(
        f"[bold]{report.inserted}[/] new events, {report.duplicates} duplicates skipped, "
        f"{report.rejected} lines rejected"
        + (f", {skipped} files unchanged" if skipped else "")
        + (f", {len(report.unreadable)} files not read" if report.unreadable else "")
        + "."
    )
    if report.rejected:
        out.print("Rejected lines are kept with their reason in the table rejected_events.")
    if report.warning:
        out.print(f"[bold yellow]{report.warning}[/]")
    if report.unreadable:
        out.print("Files that could not be read are listed in the table skipped_files.")
    if report.removed:
        out.print(f"Removed {report.removed} spool files past the retention period (all ingested).")


@app.command("import-kpis")
def import_kpis_command(
    file: Annotated[Path, typer.Argument(help="CSV with columns store_id,date,metric,value.")],
    lab: LabOption = None,
    json_: JsonOption = False,
) -> None:
    """Import daily store KPIs (footfall, revenue, …) for store-level tests with a pre-period."""
    from feedback.exchange import import_kpis

    result = import_kpis(open_lab(lab), file)
    if json_:
        print_json(result)
        return
    out = console()
    out.print(f"{result['imported']} KPI rows imported, {result['rejected']} rejected.")
    for example in result["examples"]:
        out.print(f"  [yellow]{example}[/]")


@app.command("export")
def export_command(
    format: Annotated[str, typer.Option("--format", help="parquet or csv.")] = "parquet",
    out: Annotated[Path | None, typer.Option(help="Output file. Default: lab/exports/.")] = None,
    lab: LabOption = None,
    json_: JsonOption = False,
) -> None:
    """Export all stored events for Spark, Trino, pandas or a spreadsheet."""
    from feedback.exchange import export

    path = export(open_lab(lab), format, out)
    if json_:
        print_json({"path": str(path)})
    else:
        console().print(f"Wrote {path}")
