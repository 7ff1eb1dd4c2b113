"""Shared pieces for the command modules: option types, output helpers, error mapping.

Kept free of heavy imports: every ``<package>/commands.py`` imports it at start-up.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

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


# --- help that reads cleanly -------------------------------------------------------------------
# Typer (0.2x) prints every parameter's Python type in ``--help``: ``<bool>`` after each flag and
# after ``--help`` itself, ``{name}`` for an argument in the usage line. A flag takes no value, so
# it gets an empty metavar (nothing is printed after it); an argument without a metavar gets its
# name in capitals (``PROTOTYPE_ID``). Typer builds its command objects itself (``TyperCommand``,
# ``TyperGroup``); ``StorelabGroup`` adopts every command below it as a ``StorelabCommand`` /
# ``StorelabGroup`` (same object, only these two methods more), so every command's help and the
# help option that click creates on demand are cleaned the same way.


def _clean_params(params: list[Any]) -> list[Any]:
    for param in params:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
        elif param.param_type_name == "argument" and param.metavar is None and param.name:
            param.metavar = param.name.upper()
    return params


def _adopt(command: Any) -> None:
    """Let a command typer built (and the commands below it) print clean help."""
    if type(command) is TyperCommand:
        command.__class__ = StorelabCommand
    elif type(command) is TyperGroup:
        command.__class__ = StorelabGroup
    for sub in getattr(command, "commands", {}).values():
        _adopt(sub)


class StorelabCommand(TyperCommand):
    """A typer command whose help shows no ``<bool>`` after flags (see ``_clean_params``)."""

    def get_params(self, ctx: Any) -> list[Any]:
        return _clean_params(super().get_params(ctx))


class StorelabGroup(TyperGroup):
    """Root group: turns ``errors.StorelabError`` (raised anywhere below) into one line on stderr
    and its exit code: no traceback for a problem the user can fix. Its commands print clean
    help (``_adopt``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for command in self.commands.values():
            _adopt(command)

    def get_params(self, ctx: Any) -> list[Any]:
        return _clean_params(super().get_params(ctx))

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
