"""Pilot health as a table: the rows the terminal (``storelab pilot status``) and the dashboard's
health page both show, and the terminal rendering with rich. Presents, computes nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from experiments.pilot.health import UNKNOWN_STORE, duration_text

if TYPE_CHECKING:
    from rich.console import Console

    from experiments.pilot.health import PilotHealth, StoreHealth

COLUMNS = (
    "Store",
    "Device",
    "Hours",
    "Open",
    "Sessions today",
    "Sessions this week",
    "Last event",
    "Events/h",
    "Rejected",
    "Flag",
)
STORE_COLUMNS = ("Store", "Hours", "Open", "Rejected", "Flag")  # per store, not per device
SHORT = {
    "Sessions today": "Today",
    "Sessions this week": "Week",
    "Events/h": "Ev/h",
    "Rejected": "Rej.",
}  # fmt: skip  (the terminal's headers: the table fits 80 columns)
FLAG_TEXT = {"silent": "SILENT", "never_seen": "NEVER SEEN"}


def flag_text(store: StoreHealth) -> str:
    """``SILENT``, ``NEVER SEEN`` or empty (the flag's message has the details)."""
    return FLAG_TEXT.get(store.flag, store.flag.upper()) if store.flag else ""


def _ago(minutes: float | None) -> str:
    return "never" if minutes is None else f"{duration_text(minutes)} ago"


def table_rows(health: PilotHealth) -> list[dict]:
    """One row per store and device (a store without events: one row, device ``–``)."""
    rows = []
    for store in health.stores:
        for device in store.devices or (None,):
            rows.append(
                {
                    "Store": store.store_id,
                    "Device": device.device if device else "–",
                    "Hours": store.opening_hours,
                    "Open": "yes" if store.open_now else "no",
                    "Sessions today": device.sessions_today if device else 0,
                    "Sessions this week": device.sessions_week if device else 0,
                    "Last event": _ago(device.last_event_age_min if device else None),
                    "Events/h": device.events_per_hour if device else 0,
                    "Rejected": store.rejected,
                    "Flag": flag_text(store),
                }
            )
    return rows


def when(health: PilotHealth) -> str:
    """``2026-11-25 10:30 Europe/Berlin``: the local time the health is for."""
    return f"{health.local_now:%Y-%m-%d %H:%M} {health.timezone}"


def headline(health: PilotHealth) -> str:
    """What is watched and when a store is flagged, in a sentence or two."""
    running = ", ".join(health.running) or "none (watching every store with events in 7 days)"
    return (
        f"Running: {running}. A store is flagged after {health.silent_after_minutes} min "
        "of open time without an event."
    )


def srm_lines(health: PilotHealth) -> list[tuple[bool, str]]:
    """(ok, text) per running experiment's sample ratio check so far."""
    out = []
    for item in health.srm:
        check = item.check
        counts = ", ".join(f"{v} {n:,}" for v, n in check.counts.items())
        p = "no sessions yet" if check.p_value is None else f"p = {check.p_value:.2g}"
        state = "ok" if check.ok else "MISMATCH"
        out.append((check.ok, f"{item.experiment}: {state} ({p}; {check.unit}s {counts})"))
    return out


def rejected_line(health: PilotHealth) -> str:
    """Rejected lines in total and per store (``unknown``: the raw line names no store)."""
    if not health.rejected:
        return "none"
    per_store: dict[str, int] = {}
    for r in health.rejected:
        per_store[r.store_id] = per_store.get(r.store_id, 0) + r.lines
    parts = sorted(per_store.items(), key=lambda kv: (kv[0] == UNKNOWN_STORE, kv[0]))
    files = len({r.source for r in health.rejected})
    return (
        f"{health.rejected_total:,} from {files} file{'s' * (files != 1)} "
        f"({', '.join(f'{s} {n:,}' for s, n in parts)})"
    )


def show_health(health: PilotHealth, console: Console) -> None:
    """The terminal rendering: the table (flagged stores in red), SRM, rejects, the flags."""
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    console.print(f"[bold]Pilot health[/] at {escape(when(health))}")
    console.print(escape(headline(health)), style="dim")
    table = Table(box=box.SIMPLE_HEAD, header_style="bold", show_edge=False, padding=0)
    for col in COLUMNS:
        numeric = col.startswith(("Sessions", "Events", "Rejected"))
        table.add_column(
            SHORT.get(col, col), justify="right" if numeric else "left", no_wrap=col != "Flag"
        )
    flagged = {s.store_id for s in health.stores if s.flag}
    previous = None
    for row in table_rows(health):
        first = row["Store"] != previous
        previous = row["Store"]
        cells = [
            "" if (col in STORE_COLUMNS and not first) else escape(str(row[col])) for col in COLUMNS
        ]
        style = "bold red" if row["Store"] in flagged else None
        table.add_row(*cells, style=style, end_section=False)
    console.print(table)
    for ok, text in srm_lines(health):
        console.print(f"SRM so far  {'[green]' if ok else '[bold red]'}{escape(text)}[/]")
    console.print(f"Rejected lines: {escape(rejected_line(health))}")
    if health.ok:
        console.print("[green]All watched stores are sending data.[/]")
        return
    console.print(f"[bold red]{len(health.flags)} flagged:[/]")
    for flag in health.flags:
        console.print(f"  [red]•[/] {escape(flag.message)}")
