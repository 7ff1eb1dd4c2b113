"""``storelab prototype …`` through typer's CliRunner: output shapes and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from prototypes.commands import app
from prototypes.templates import list_templates

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def said(result) -> str:
    """Everything a command said, wherever it went (stdout, stderr, a raised error)."""
    return result.stdout + result.stderr + str(result.exception or "")


def test_templates_json_lists_phase_touchpoint_journey_break_and_variants():
    result = run("templates", "--json")
    assert result.exit_code == 0, said(result)
    rows = json.loads(result.stdout)
    assert rows == list_templates()
    keys = {
        "id",
        "title",
        "phase",
        "touchpoint",
        "journey_break",
        "variants",
        "variant_notes",
        "tasks",
    }
    assert all(set(r) == keys for r in rows)
    assert {"scan-and-discover", "feedback-kiosk", "easy-returns"} <= {r["id"] for r in rows}


def test_templates_listing_shows_touchpoint_journey_break_variants_and_phase():
    result = run("templates")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    for row in list_templates():
        line = next(i for i, text in enumerate(lines) if text.split()[:1] == [row["id"]])
        assert f"{row['touchpoint']} · A/B: control vs treatment" in lines[line]
        assert row["journey_break"] in lines[line + 1]
        assert lines[line + 2].strip() == f"treatment: {row['variant_notes']['treatment']}"
        heading = max(i for i in range(line) if lines[i] == lines[i].lstrip() and lines[i])
        assert lines[heading] == row["phase"].upper()


def test_new_validate_version_round_trip(lab):
    result = run("new", "scan-pos", "--template", "scan-and-discover", "--lab", str(lab.root))
    assert result.exit_code == 0, said(result)
    spec = lab.prototypes_dir / "scan-pos" / "prototype.yaml"
    assert str(spec) in result.stdout and spec.is_file()

    result = run("validate", "scan-pos", "--lab", str(lab.root))
    assert result.exit_code == 0, said(result)
    assert "scan-pos is valid" in result.stdout and "control, treatment" in result.stdout

    result = run("version", "scan-pos", "--note", "Sizes first", "--lab", str(lab.root))
    assert result.exit_code == 0, said(result)
    assert "Version 2" in result.stdout
    result = run("version", "scan-pos", "--lab", str(lab.root), "--json")
    assert json.loads(result.stdout) == {"id": "scan-pos", "version": 3, "file": str(spec)}

    result = run("validate", str(spec), "--json")
    assert result.exit_code == 0
    [report] = json.loads(result.stdout)
    assert report["valid"] and report["versions"] == [1, 2, 3] and report["problems"] == []


def test_new_json_and_title(lab):
    result = run(
        "new",
        "kiosk",
        "-t",
        "feedback-kiosk",
        "--title",
        "Kurzumfrage",
        "--locale",
        "de",
        "--lab",
        str(lab.root),
        "--json",
    )
    assert result.exit_code == 0, said(result)
    out = json.loads(result.stdout)
    assert out["id"] == "kiosk" and out["template"] == "feedback-kiosk"
    assert "Kurzumfrage" in Path(out["file"]).read_text(encoding="utf-8")


def test_validate_whole_lab_fails_when_one_prototype_is_invalid(lab):
    for pid, template in (("one", "easy-returns"), ("two", "wishlist-alert")):
        assert run("new", pid, "-t", template, "--lab", str(lab.root)).exit_code == 0
    result = run("validate", "--lab", str(lab.root))
    assert result.exit_code == 0 and "2 of 2 prototypes are valid" in result.stdout

    spec = lab.prototypes_dir / "two" / "prototype.yaml"
    text = spec.read_text(encoding="utf-8").replace("target: reserve", "target: resevre", 1)
    spec.write_text(text, encoding="utf-8")
    line = next(i for i, s in enumerate(text.splitlines(), 1) if "target: resevre" in s)
    result = run("validate", "--lab", str(lab.root))
    assert result.exit_code == 1
    assert f"{spec}:{line}: " in result.stderr
    assert "links to screen 'resevre', which does not exist" in result.stderr
    assert "1 of 2 prototypes are valid" in result.stdout

    result = run("validate", "--lab", str(lab.root), "--json")
    assert result.exit_code == 1
    reports = {r["file"]: r for r in json.loads(result.stdout)}
    bad = reports[str(spec)]
    assert bad["valid"] is False and bad["id"] is None
    assert bad["problems"][0]["line"] == line and bad["problems"][0]["kind"] == "broken_link"


def test_validate_a_file_with_a_syntax_error_exits_1(tmp_path):
    spec = tmp_path / "prototype.yaml"
    spec.write_text("id: x\ntitle: {de: a, en: b\n", encoding="utf-8")
    result = run("validate", str(spec))
    assert result.exit_code == 1
    assert f"{spec}:" in result.stderr and "YAML syntax error" in result.stderr


def test_empty_lab_is_fine(lab):
    result = run("validate", "--lab", str(lab.root))
    assert result.exit_code == 0 and "No prototypes" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["new", "x", "-t", "nope"],
            "Templates: wishlist-alert, personal-greeting, scan-and-discover",
        ),
        (["new", "Bad_Id", "-t", "easy-returns"], "not a valid prototype id"),
        (["validate", "nope"], "There is no prototype 'nope'"),
        (["validate", "missing/prototype.yaml"], "does not exist"),
        (["version", "nope"], "There is no prototype 'nope'"),
    ],
)
def test_user_errors_exit_1_with_the_reason(lab, args, message):
    result = run(*args, "--lab", str(lab.root))
    assert result.exit_code == 1
    assert message in said(result)


def test_an_unknown_prototype_is_worded_once_for_validate_version_run_and_qr(lab):
    from errors import UnknownPrototypeError
    from prototypes.library import unknown_prototype_message
    from prototypes.runtime import launch
    from prototypes.scaffold import new_prototype

    new_prototype(lab, "easy-returns", "easy-returns")
    message = unknown_prototype_message(lab, "nope")
    assert "Prototypes in this lab: easy-returns." in message
    for args in (["validate", "nope"], ["version", "nope"]):
        result = run(*args, "--lab", str(lab.root))
        assert result.exit_code == 1 and message in " ".join(said(result).split())
    for call in (
        lambda: launch.run_prototype(lab, "nope"),
        lambda: launch.write_qr_sheet(lab, "nope", ["S01"]),
    ):
        with pytest.raises(UnknownPrototypeError) as err:
            call()
        assert str(err.value) == message


def test_user_errors_print_one_line_without_traceback(lab):
    result = run("new", "x", "-t", "nope", "--lab", str(lab.root))
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert "Error" in result.stderr and "Templates:" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["new", "x"],  # --template missing
        ["new"],
        ["templates", "--bogus"],
        ["nonsense"],
    ],
)
def test_usage_errors_exit_2(args):
    assert run(*args).exit_code == 2


def test_command_module_imports_nothing_heavy():
    code = (
        "import sys; import prototypes.commands; "
        "heavy = [m for m in ('pydantic', 'yaml', 'rich', 'streamlit', 'duckdb', 'pandas') "
        "if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == ""
