"""``storelab lake up|down|status``: the lab's own PostgreSQL for its DuckLake catalog;
``storelab lake import``: a file lab's store into its lake."""

from __future__ import annotations

import typer

from clikit import JsonOption, LabOption, console, open_lab, print_json

app = typer.Typer(no_args_is_help=True)


@app.command("up")
def up_command(
    port: int = typer.Option(0, help="Loopback port (default: the last one, else a free one)."),
    lab: LabOption = None,
    json_: JsonOption = False,
) -> None:
    """Start the lab's catalog PostgreSQL and switch the lab to lake mode (storelab.toml)."""
    from feedback.lake.local import lake_up

    the_lab = open_lab(lab)
    url = lake_up(the_lab, port or None)
    if json_:
        print_json({"catalog": url, "data_path": str(the_lab.lake_data_path)})
        return
    lines = [
        f"Lake catalog running: {url}",
        f'  storelab.toml: \\[storage] kind = "ducklake", data in {the_lab.lake_data_path}',
    ]
    if the_lab.db_path.exists():  # a file lab: what it holds is not in the lake yet
        lines.append(f"  {the_lab.db_path.name} stays as it is: storelab lake import copies it in")
    lines.append("  next: storelab feedback ingest --worker NAME")
    console().print("\n".join(lines))


@app.command("down")
def down_command(lab: LabOption = None, json_: JsonOption = False) -> None:
    """Stop the lab's catalog PostgreSQL (the lake's data and catalog stay)."""
    from feedback.lake.local import lake_down

    stopped = lake_down(open_lab(lab))
    if json_:
        print_json({"stopped": stopped})
        return
    console().print("Lake catalog stopped." if stopped else "The lake catalog was not running.")


@app.command("status")
def status_command(lab: LabOption = None, json_: JsonOption = False) -> None:
    """Say whether the lab's catalog PostgreSQL runs, and where."""
    from feedback.lake.local import lake_status

    url = lake_status(open_lab(lab))
    if json_:
        print_json({"running": url is not None, "catalog": url})
        return
    console().print(f"Lake catalog running: {url}" if url else "The lake catalog is not running.")


@app.command("import")
def import_command(lab: LabOption = None, json_: JsonOption = False) -> None:
    """Copy the lab's DuckDB file (events, rejected lines, ledger, KPIs, …) into its lake.

    One transaction: all of it or nothing. Rows the lake has already (same event id, same
    ledgered file, …) are not copied again, so a second import copies nothing.
    """
    from feedback.lake.from_file import import_file_lab

    the_lab = open_lab(lab)
    if json_:
        print_json(import_file_lab(the_lab).to_dict())
        return
    from rich.progress import Progress

    with Progress(console=console(), transient=True) as bar:
        task = bar.add_task("Importing", total=None)

        def progress(done: int, total: int, table: str) -> None:
            bar.update(task, total=total, completed=done, description=f"Importing {table}")

        report = import_file_lab(the_lab, progress=progress)
    _print_import(report)


def _print_import(report) -> None:
    from rich.markup import escape
    from rich.table import Table

    table = Table("table", "in the file", "copied", "already in the lake", title=None)
    for t in report.tables:
        table.add_row(escape(t.table), str(t.rows), str(t.copied), str(t.already))
    out = console()
    out.print(f"Imported {escape(report.source)} into the lake {escape(report.lake)}:")
    out.print(table)
    out.print(
        f"[bold]{report.copied}[/] rows copied, {report.already} already in the lake "
        "(not copied twice)."
    )
