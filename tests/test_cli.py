"""The command line as a user meets it: fast help, one-line errors, DESIGN.md's exit codes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from cli import app
from tests.fixtures import ROOT, make_event, write_jsonl

HEAVY = ("streamlit", "duckdb", "plotly", "pandas", "numpy", "scipy", "pyarrow")
runner = CliRunner()


def run_cli(*args: str, cwd=None, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(ROOT / "cli.py"), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["prototype", "--help"],
        ["experiment", "--help"],
        ["feedback", "--help"],
        ["sample", "--help"],
        ["report", "--help"],
        ["pilot", "--help"],
        ["pilot", "status", "--help"],
        ["token", "--help"],
    ],
)
def test_help_imports_no_heavy_module(args):
    """``storelab --help`` must stay fast: no data or app library is imported for it."""
    probe = (
        "import sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "import cli\n"
        "try:\n"
        "    cli.app(sys.argv[1:])\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print('HEAVY=' + ','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[-1] == "HEAVY=", out.stdout.splitlines()[-1]


def test_every_documented_command_exists():
    listed = run_cli("--help").stdout
    for command in ("init", "demo", "prototype", "experiment", "feedback", "sample", "report",
                    "pilot"):  # fmt: skip
        assert command in listed
    groups = {
        "prototype": ["templates", "new", "validate", "run", "qr", "version"],
        "experiment": ["new", "power", "analyze", "decide"],
        "feedback": ["ingest", "import-kpis", "export"],
        "sample": ["generate"],
        "report": ["html", "show"],
        "pilot": ["status"],
        "token": ["rotate"],
    }
    for group, commands in groups.items():
        text = run_cli(group, "--help").stdout
        for command in commands:
            assert command in text, f"storelab {group} {command} is missing"
    assert "dashboard" in listed


def test_console_script_and_python_cli_py_agree():
    exe = shutil.which("storelab", path=os.path.dirname(sys.executable))
    if exe is None:
        pytest.skip("storelab console script not installed in this environment")
    a = subprocess.run([exe, "--help"], capture_output=True, text=True).stdout
    assert a == run_cli("--help").stdout


def test_init_then_commands_find_the_lab_by_walking_up(tmp_path):
    result = runner.invoke(app, ["init", str(tmp_path / "pilot"), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["locale"] == "de"
    deep = tmp_path / "pilot" / "prototypes"
    out = run_cli("feedback", "ingest", "--json", cwd=deep, env={"STORELAB_LAB": ""})
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["inserted"] == 0


def test_missing_lab_is_one_line_and_exit_1(tmp_path):
    out = run_cli("feedback", "ingest", "--lab", str(tmp_path / "nowhere"))
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    assert "does not exist" in out.stderr
    out = run_cli("feedback", "ingest", cwd=tmp_path, env={"STORELAB_LAB": ""})
    assert out.returncode == 1 and "No lab found" in out.stderr


def test_usage_error_is_exit_2():
    out = run_cli("experiment", "power", "--baseline", "much")
    assert out.returncode == 2


def test_init_refuses_an_existing_lab(tmp_path):
    runner.invoke(app, ["init", str(tmp_path / "lab")])
    result = runner.invoke(app, ["init", str(tmp_path / "lab")])
    assert result.exit_code == 1
    assert "already a lab" in result.output


def test_ingest_strict_exit_3_keeps_valid_events(lab, tmp_path):
    f = write_jsonl(tmp_path / "mixed.jsonl", [make_event(), make_event(type="wink")])
    result = runner.invoke(app, ["feedback", "ingest", str(f), "--strict", "--lab", str(lab.root)])
    assert result.exit_code == 3
    assert "line 2: unknown type 'wink'" in result.output
    again = runner.invoke(app, ["feedback", "ingest", "--json", "--lab", str(lab.root)])
    assert again.exit_code == 0


def test_ingest_prints_what_it_did(lab, tmp_path):
    f = write_jsonl(tmp_path / "a.jsonl", [make_event(), make_event(), "{broken"])
    result = runner.invoke(app, ["feedback", "ingest", str(f), "--lab", str(lab.root)])
    assert result.exit_code == 0
    assert "2 new events" in result.output
    assert "line 3: not valid JSON" in result.output


def test_token_rotate_locks_out_the_old_token(lab):
    from lab import load_config

    old = lab.config.dashboard.token
    out = run_cli("token", "rotate", "--lab", str(lab.root))
    assert out.returncode == 0, out.stderr
    new = load_config(lab.config_path).dashboard.token
    assert new != old and old not in lab.config_path.read_text(encoding="utf-8")
    assert f"http://localhost:8501/?token={new}" in out.stdout
    assert "old token stop working" in out.stdout
    assert lab.config_path.stat().st_mode & 0o777 == 0o600
    again = json.loads(run_cli("token", "rotate", "--json", "--lab", str(lab.root)).stdout)
    assert again["token"] == load_config(lab.config_path).dashboard.token != new
    assert again["dashboard_url"].endswith(f"?token={again['token']}")
