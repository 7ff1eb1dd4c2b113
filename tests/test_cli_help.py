"""Every command's ``--help`` reads cleanly: no ``<bool>`` after a flag (typer prints each
parameter's Python type; a flag takes no value), arguments in capitals."""

from __future__ import annotations

import re

import typer
from typer.testing import CliRunner

from cli import app


def command_paths() -> list[tuple[str, ...]]:
    """The path of every command and group of the real CLI, the root first."""
    root = typer.main.get_command(app)
    paths: list[tuple[str, ...]] = []

    def walk(command, path: tuple[str, ...]) -> None:
        paths.append(path)
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            if not sub.hidden:
                walk(sub, (*path, name))

    walk(root, ())
    return paths


def test_every_commands_help_has_no_type_after_a_flag() -> None:
    paths = command_paths()
    assert len(paths) > 30  # the whole tree, not just the root
    assert ("prototype", "diff") in paths and ("experiment", "new") in paths
    runner = CliRunner()
    flags_seen = 0
    for path in paths:
        result = runner.invoke(app, [*path, "--help"], terminal_width=120)
        name = " ".join(path) or "storelab"
        assert result.exit_code == 0, f"{name}: {result.output}"
        out = result.output
        assert "<bool>" not in out, f"storelab {name} --help:\n{out}"
        assert re.search(r"--help\s+Show this message", out), f"{name}:\n{out}"
        for line in out.splitlines():
            if re.match(r"\W*--json\b", line):
                flags_seen += 1
                assert re.search(r"--json\s+Print machine-readable", line), f"{name}: {line}"
        usage = next(line for line in out.splitlines() if "Usage:" in line)
        assert not re.search(r"[{\[][a-z_]+[}\]]", usage), f"{name}: lower-case argument: {usage}"
    assert flags_seen > 10


def test_a_value_option_still_shows_what_it_takes() -> None:
    result = CliRunner().invoke(app, ["prototype", "run", "--help"], terminal_width=120)
    out = result.output
    assert re.search(r"--port\s+<int>", out) and re.search(r"--preview\s+Team preview", out)
    assert "{PROTOTYPE_ID}" in out
