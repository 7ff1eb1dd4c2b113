"""``generate_sample`` and ``storelab sample generate``: a lab filled and ingested."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from errors import InvalidInputError
from sample_data.generate import generate_sample, parse_effects
from tests.fixtures import sample_cli


def test_generate_fills_and_ingests_a_lab(lab):
    summary = generate_sample(lab, stores=6, sessions=600, seed=5,
                              effects={"task_success_rate": 0.05})  # fmt: skip
    assert summary["created"] == {"prototype": True, "experiment": True}
    assert summary["stores"] == 6 and summary["sessions"] == 600
    assert summary["ingest"]["inserted"] == summary["events"]
    assert summary["ingest"]["rejected"] == 0
    assert summary["true_effects"]["task_success_rate"]["treatment"] == pytest.approx(
        0.05, abs=1e-3
    )
    truth = json.loads(lab.truth_path.read_text(encoding="utf-8"))
    assert truth["experiment_id"] == summary["experiment"]
    from feedback.store import connect

    with connect(lab, read_only=True) as con:
        (count,) = con.execute("SELECT count(*) FROM events").fetchone()
    assert count == summary["events"]


def test_parse_effects():
    assert parse_effects(["task_success_rate=0.05", "sus=4"]) == {
        "task_success_rate": 0.05,
        "sus": 4.0,
    }
    with pytest.raises(InvalidInputError, match="valid: task_success_rate"):
        parse_effects(["conversion=0.1"])
    with pytest.raises(InvalidInputError, match="METRIC=VALUE"):
        parse_effects(["sus"])


def test_cli_generate_json_and_bad_effect(lab):
    runner = CliRunner()
    result = runner.invoke(sample_cli(), ["sample", "generate", "--lab", str(lab.root),
                                    "--sessions", "300", "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["sessions"] == 300 and data["ingest"]["rejected"] == 0
    bad = runner.invoke(sample_cli(), ["sample", "generate", "--lab", str(lab.root),
                                 "--effect", "happiness=1"])  # fmt: skip
    assert bad.exit_code == 1
    assert "happiness" in bad.output and "task_success_rate" in bad.output


def test_cli_module_stays_light():
    import subprocess
    import sys

    code = (
        "import sys, sample_data.commands; "
        "print(sorted(m for m in ('numpy', 'pyarrow', 'faker', 'duckdb') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_sample_pilots_are_dated_to_finished_weeks():
    from datetime import date

    from sample_data.generate import finished_pilot_window

    # Monday 23 Nov 2026: the four full weeks before it end on Sunday 22 Nov.
    assert finished_pilot_window(date(2026, 11, 23)) == (date(2026, 10, 26), date(2026, 11, 22))
    # On a Sunday that week is not finished yet.
    assert finished_pilot_window(date(2026, 11, 22)) == (date(2026, 10, 19), date(2026, 11, 15))
