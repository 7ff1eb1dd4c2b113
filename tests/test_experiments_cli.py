"""``storelab experiment …`` through typer's CliRunner on experiments.commands.app."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from statsmodels.stats.power import NormalIndPower
from test_experiments_analysis import insert, make_events
from typer.testing import CliRunner

from errors import StorelabError
from experiments.commands import app
from experiments.decisions import read_decisions
from experiments.designs import random_design
from experiments.spec import load_experiment, read_store_ids
from tests.fixtures import MINI_PROTOTYPE, write_prototype

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


@pytest.fixture(autouse=True)
def two_prototypes(lab):
    """Every test here: one prototype with a treatment variant, one with nothing to compare."""
    from prototypes.scaffold import new_prototype

    new_prototype(lab, "scan-and-discover", "scan-and-discover")
    new_prototype(lab, "p", "feedback-kiosk")


def run(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def user_error(result, *fragments: str) -> bool:
    """Exit 1 from a ``StorelabError`` whose message contains every fragment.

    Accepts both the mapped form (SystemExit, message in the output) and the raw exception that
    typer >= 0.2x leaves when clikit's ``UserFacingError`` derives from the unvendored click.
    """

    exc = result.exception
    mapped = isinstance(exc, SystemExit)
    raw = exc is not None and isinstance(exc.__cause__ or exc, StorelabError)
    text = result.output + (str(exc) if exc is not None and not mapped else "")
    return result.exit_code == 1 and (mapped or raw) and all(f in text for f in fragments)


def test_new_writes_specs_and_refuses_to_overwrite(lab):
    result = run("new", "scan-pos", "--prototype", "scan-and-discover", "--unit", "store",
                 "--lab", lab.root)  # fmt: skip
    assert result.exit_code == 0, result.output
    spec = load_experiment(lab, "scan-pos")
    stores = read_store_ids(lab)
    assert spec.unit == "store" and spec.baseline == "control"
    # drawn at random with a recorded seed: the same seed draws the same split
    assert spec.design == "random" and spec.seed is not None
    assert sorted(spec.store_list) == sorted(stores) and len(spec.stores["control"]) == 6
    assert spec.stores == random_design(stores, ["control", "treatment"], spec.seed).stores
    text = (lab.experiments_dir / "scan-pos.yaml").read_text()
    assert text.startswith("id: scan-pos\n") and "# " in text  # commented for people
    again = run("new", "scan-pos", "--prototype", "x", "--unit", "store", "--lab", lab.root)
    assert user_error(again, "already exists")

    assert spec.variants["treatment"].variant == "treatment"  # the spec resolves
    assert spec.secondary_metrics[0] == "umux_lite"  # an instrument the prototype asks

    no_variant = MINI_PROTOTYPE[: MINI_PROTOTYPE.index("variants:")].replace("id: mini", "id: p")
    spec_file = write_prototype(lab, "p", no_variant)
    result = run("new", "kiosk-ab", "--prototype", "p", "--unit", "session", "--lab", lab.root)
    assert user_error(result, "nothing to compare", "storelab prototype version p")
    from prototypes.scaffold import add_version

    # right after `prototype version` version 2 equals version 1: refused, naming what to change
    add_version(spec_file)
    result = run("new", "kiosk-ab", "--prototype", "p", "--unit", "session", "--lab", lab.root)
    assert user_error(result, "Version 2 of p is the same as version 1", "'- version: 2'")
    assert len(result.output.strip().splitlines()) == 1
    assert not (lab.experiments_dir / "kiosk-ab.yaml").exists()
    with spec_file.open("a", encoding="utf-8") as f:
        f.write("    elements:\n      - {screen: shop, remove: body}\n")
    result = run("new", "kiosk-ab", "--prototype", "p", "--unit", "session", "--lab", lab.root)
    assert result.exit_code == 0, result.output
    spec = load_experiment(lab, "kiosk-ab")
    assert spec.stores == stores
    assert (spec.variants["control"].version, spec.variants["treatment"].version) == (1, 2)
    result = run("new", "ghost", "--prototype", "nope", "--unit", "session", "--lab", lab.root)
    assert user_error(result, "There is no prototype 'nope'")


def test_new_rejects_bad_id_naming_the_key(lab):
    result = run(
        "new", "Bad Id!", "--prototype", "scan-and-discover", "--unit", "session", "--lab", lab.root
    )
    assert user_error(result, "id:", "Bad Id!.yaml")


def test_invalid_spec_names_file_and_key(lab):
    path = lab.experiments_dir / "broken.yaml"
    raw = {
        "id": "broken", "hypothesis": "h", "prototype": "p", "unit": "store",
        "variants": {"control": {"version": 1}, "treatment": {"version": 2}},
        "allocation": {"control": 0.5, "treatment": 0.6},
        "stores": {"control": ["S01"], "treatment": ["S01"]},
        "start": "2026-11-02", "end": "2026-11-29", "primary_metric": "task_sucess_rate",
        "colour": "blue",
    }  # fmt: skip
    path.write_text(yaml.safe_dump(raw))
    result = run("analyze", "broken", "--lab", lab.root)
    assert user_error(result, str(path), "allocation", "primary_metric", "colour")
    raw.update(allocation={"control": 0.5, "treatment": 0.5}, primary_metric="task_success_rate")
    raw.pop("colour")
    path.write_text(yaml.safe_dump(raw))
    result = run("analyze", "broken", "--lab", lab.root)
    assert user_error(result, "S01 is in both")


def test_power_json_contract():
    result = run("power", "--baseline", "0.40", "--mde", "0.05", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["per_variant"] == 1531 and out["total"] == 3062

    result = run("power", "--baseline", "0.40", "--mde", "0.05", "--unit", "store",
                 "--sessions-per-store", "200", "--icc", "0.02", "--json")  # fmt: skip
    out = json.loads(result.output)
    assert result.exit_code == 0 and out["stores_per_variant"] >= 4
    assert out["design_effect"] == pytest.approx(1 + 199 * 0.02)

    result = run("power", "--sd", "10", "--mde", "2", "--json")
    assert json.loads(result.output)["per_variant"] == 393
    result = run("power", "--baseline", "0.4", "--sessions", "1531", "--json")
    assert json.loads(result.output)["mde_abs"] == pytest.approx(0.05, rel=0.01)
    result = run("power", "--baseline", "0.4", "--mde", "0.125", "--relative")
    assert result.exit_code == 0 and "per_variant" in result.output


def test_power_plans_for_the_decision_family():
    """--challengers K plans each primary comparison at alpha / K, as the analysis adjusts."""
    one = json.loads(run("power", "--sd", "10", "--mde", "2", "--json").output)
    result = run("power", "--sd", "10", "--mde", "2", "--challengers", "2", "--json")
    assert result.exit_code == 0, result.output
    two = json.loads(result.output)
    assert one["alpha_per_comparison"] == 0.05 and one["family"] == "primary × 1 challenger"
    assert two["alpha_per_comparison"] == 0.025 and two["family"] == "primary × 2 challengers"
    assert two["per_variant"] > one["per_variant"]
    reference = NormalIndPower().solve_power(effect_size=0.2, alpha=0.025, power=0.8)
    assert two["per_variant"] == math.ceil(reference - 1e-6)
    assert user_error(run("power", "--sd", "10", "--mde", "2", "--challengers", "0"), "challengers")


def test_power_counts_the_challengers_once():
    """One option says how many arms there are: --challengers K means K + 1 variants in the
    totals and alpha / K per comparison. (``--variants N`` counted arms for the totals only, so
    ``--variants 3`` planned at the full alpha and ``--challengers 2`` counted two arms.)"""
    two = json.loads(
        run("power", "--sd", "10", "--mde", "2", "--challengers", "2", "--json").output
    )
    assert two["variants"] == 3 and two["total"] == 3 * two["per_variant"]
    assert two["alpha_per_comparison"] == 0.025
    stores = run("power", "--unit", "store", "--sessions-per-store", "100", "--sd", "10",
                 "--mde", "2", "--challengers", "2", "--json")  # fmt: skip
    out = json.loads(stores.output)
    assert out["variants"] == 3 and out["total_stores"] == 3 * out["stores_per_variant"]
    gone = run("power", "--sd", "10", "--mde", "2", "--variants", "3")
    assert gone.exit_code == 2 and "--variants" in gone.output


def test_power_user_errors():
    assert user_error(run("power", "--mde", "0.05"), "--baseline")
    result = run("power", "--baseline", "0.4", "--mde", "0.05", "--unit", "store")
    assert user_error(result, "--sessions-per-store")
    # a pre-period reduction for a session metric: nothing in the analysis delivers it
    result = run("power", "--baseline", "0.4", "--mde", "0.05", "--unit", "store",
                 "--sessions-per-store", "50", "--pre-period-r", "0.8")  # fmt: skip
    assert user_error(result, "--pre-period-r applies to store KPIs", "--kpi NAME")


def test_power_for_a_store_kpi_reads_the_lab(lab):
    from sample_data.generate import generate_sample

    generate_sample(lab, stores=12, sessions=200, seed=3)
    result = run("power", "--unit", "store", "--kpi", "conversion_rate", "--mde", "0.02",
                 "--lab", lab.root, "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["from_lab"]["stores"] == 12 and 0.5 < out["from_lab"]["pre_pilot_r"] < 0.97
    assert out["sd_between_stores"] == out["from_lab"]["sd_between_stores"] > 0
    assert out["variance_factor"] == pytest.approx(1 - out["pre_period_r"] ** 2)
    by_hand = run("power", "--unit", "store", "--sd", str(out["sd_between_stores"]), "--mde",
                  "0.02", "--pre-period-r", str(out["pre_period_r"]), "--json")  # fmt: skip
    assert json.loads(by_hand.output)["stores_per_variant"] == out["stores_per_variant"]
    missing = run("power", "--unit", "store", "--kpi", "footfall", "--mde", "1", "--lab", lab.root)
    assert user_error(missing, "no store KPI 'footfall'")
    assert user_error(run("power", "--baseline", "1.4", "--mde", "0.05"), "between 0 and 1")


def test_analyze_decide_roundtrip(lab):
    for exp_id, unit in (("exp-a", "session"), ("exp-b", "store")):
        run("new", exp_id, "--prototype", "scan-and-discover", "--unit", unit, "--lab", lab.root)
        spec = load_experiment(lab, exp_id)
        table, _ = make_events(exp_id, 300, seed=1, unit=unit, start=spec.start, days=7)
        insert(lab.db_path, table)

    result = run("analyze", "exp-a", "--json", "--lab", lab.root)
    assert result.exit_code == 0, result.output
    single = json.loads(result.output)
    assert single["experiment"] == "exp-a" and single["correction"] == "holm"

    result = run("analyze", "--all", "--json", "--lab", lab.root)
    many = json.loads(result.output)
    assert isinstance(many, list) and [r["experiment"] for r in many] == ["exp-a", "exp-b"]

    result = run("analyze", "exp-b", "--lab", lab.root)
    assert result.exit_code == 0 and "Recommendation" in result.output
    assert "task_success_rate" in result.output
    assert "seq p" not in result.output  # unit=store: read once, at the end
    assert single["metrics"][0]["comparisons"][0]["sequential"]["method"] == "mixture_sprt"
    wide = runner.invoke(app, ["analyze", "exp-a", "--lab", str(lab.root)], env={"COLUMNS": "200"})
    assert "seq p" in wide.output and "seq CI" in wide.output

    assert user_error(run("analyze", "--lab", lab.root), "--all")  # neither id nor --all
    assert user_error(run("analyze", "nope", "--lab", lab.root), "No experiment 'nope'")

    result = run("decide", "exp-a", "--decision", "extend", "--note", "needs more stores",
                 "--lab", lab.root, "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    entry = json.loads(result.output)
    assert entry["decision"] == "extend" and entry["recommendation"] == "keep_running"
    run("decide", "exp-a", "--decision", "scrap", "--note", "second thoughts", "--lab", lab.root)
    assert [d["decision"] for d in read_decisions(lab, "exp-a")] == ["extend", "scrap"]
    bad = run("decide", "exp-a", "--decision", "maybe", "--note", "x", "--lab", lab.root)
    assert bad.exit_code == 2  # usage error from the choice
    missing = run("decide", "nope", "--decision", "scrap", "--note", "x", "--lab", lab.root)
    assert user_error(missing, "nope")


def test_decide_without_database_still_records(lab):
    run("new", "exp-a", "--prototype", "scan-and-discover", "--unit", "session", "--lab", lab.root)
    result = run("decide", "exp-a", "--decision", "iterate", "--note", "looked at videos",
                 "--lab", lab.root)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert read_decisions(lab, "exp-a")[0]["recommendation"] is None


def test_command_module_import_stays_light():
    code = (
        "import sys; import experiments.commands; "
        "heavy = [m for m in ('numpy', 'scipy', 'duckdb', 'pandas', 'yaml', 'pydantic') "
        "if m in sys.modules]; print(heavy); sys.exit(1 if heavy else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
