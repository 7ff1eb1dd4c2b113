"""``storelab pilot …``: is every store of the running pilot sending data?

The body reads ``experiments.pilot.health.pilot_health`` and hands it to the terminal table of
``reports.health`` (the dashboard's health page shows the same rows); both are imported inside
the body so ``storelab --help`` stays light.
"""

from __future__ import annotations

import typer

from clikit import JsonOption, LabOption, StorelabGroup, console, open_lab, print_json

FLAGGED_EXIT = 4  # something is flagged: cron mails the output

app = typer.Typer(
    cls=StorelabGroup,
    no_args_is_help=True,
    help="Watch the running pilot: is every store sending data?",
)


@app.command("status")
def status(lab: LabOption = None, json_: JsonOption = False) -> None:
    """Per store and device: sessions today and this week, last event, events per hour, SRM so
    far, rejected lines. Exits 4 when a store is silent while open (or never seen) or a
    running experiment's sample ratio is off, so that cron can alert."""
    from experiments.pilot.health import pilot_health

    health = pilot_health(open_lab(lab))
    if json_:
        print_json(health.to_dict())
    else:
        from reports.health import show_health

        show_health(health, console())
    if not health.ok:
        raise typer.Exit(FLAGGED_EXIT)
