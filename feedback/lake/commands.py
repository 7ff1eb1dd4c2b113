"""``storelab lake up|down|status``: the lab's own PostgreSQL for its DuckLake catalog."""

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
    console().print(
        f"Lake catalog running: {url}\n"
        f'  storelab.toml: \\[storage] kind = "ducklake", data in {the_lab.lake_data_path}\n'
        "  next: storelab feedback ingest --worker NAME"
    )


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
