"""Shared pieces for the command modules: option types, output helpers, error mapping.

Kept free of heavy imports: every ``<package>/commands.py`` imports it at start-up.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from errors import StorelabError

LabOption = Annotated[
    Path | None,
    typer.Option(
        "--lab",
        envvar="STORELAB_LAB",
        help="Lab folder. Default: $STORELAB_LAB, else the nearest storelab.toml above here.",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


class StorelabGroup(TyperGroup):
    """Root group: turns ``errors.StorelabError`` (raised anywhere below) into one line on stderr
    and its exit code: no traceback for a problem the user can fix."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            if isinstance(exc, StorelabError):
                typer.echo(f"Error: {exc}", err=True)
                raise typer.Exit(exc.exit_code) from exc
            raise


def open_lab(path: Path | None):
    """The lab for a command (``--lab``, ``$STORELAB_LAB`` or walking up)."""
    from lab import find_lab

    return find_lab(path)


def print_json(data: Any) -> None:
    """JSON on stdout, nothing else: scripts parse it."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def console():
    """A rich console on stderr-free stdout (imported on use)."""
    from rich.console import Console

    return Console(highlight=False)
