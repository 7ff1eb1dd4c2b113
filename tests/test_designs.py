"""Store assignment designs (random, stratified, matched) and randomisation inference that
permutes only within strata and pairs."""

from __future__ import annotations

import itertools
import json
from datetime import date

import numpy as np
import pytest
from typer.testing import CliRunner

from errors import InvalidInputError
from experiments.analysis import analyze_data
from experiments.commands import app
from experiments.designs import matched_design, random_design, stratified_design
from experiments.frequentist import assignment_masks, permutation_p_value
from experiments.metrics import MetricData
from experiments.spec import load_experiment, parse_experiment
from experiments.statistics import SampleMeanStatistic
from lab import lab_stores
from tests.test_experiments_analysis import spec_dict

runner = CliRunner()
VARIANTS = ["control", "treatment"]


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_random_design_is_seeded_and_balanced():
    stores = [f"S{i:02d}" for i in range(1, 13)]
    a, b = random_design(stores, VARIANTS, 1), random_design(stores, VARIANTS, 1)
    assert a == b and a != random_design(stores, VARIANTS, 2)
    assert sorted(a.stores["control"] + a.stores["treatment"]) == stores
    assert len(a.stores["control"]) == 6


def test_stratified_design_splits_every_stratum(lab):
    fleet = lab_stores(lab)
    regions = {s: store.region for s, store in fleet.items()}
    got = stratified_design(regions, VARIANTS, 5, "region")
    for name, members in got.strata.items():
        in_control = sum(s in got.stores["control"] for s in members)
        assert abs(2 * in_control - len(members)) <= 1, name  # every region gets both
        assert {regions[s] for s in members} == {name}
    assert abs(len(got.stores["control"]) - len(got.stores["treatment"])) <= 1


def test_matched_design_pairs_alike_stores_and_randomises_within():
    pre = {f"S{i:02d}": v for i, v in enumerate([0.30, 0.10, 0.21, 0.11, 0.29, 0.2, 0.5], 1)}
    got = matched_design(pre, VARIANTS, 3, "conversion_rate")
    assert got.pairs == [["S02", "S04"], ["S03", "S06"], ["S01", "S05"]]
    assert got.left_out == ["S07"]  # no partner
    for pair in got.pairs:
        assert sorted(s in got.stores["treatment"] for s in pair) == [False, True]
    draws = {
        tuple(matched_design(pre, VARIANTS, seed, "c").stores["treatment"]) for seed in range(20)
    }
    assert len(draws) > 4  # which store of a pair is treated is random


def test_cli_designs_are_written_to_the_spec_and_read_back(lab):
    from sample_data.generate import generate_sample

    generate_sample(lab, stores=12, sessions=200, seed=4)
    result = run("new", "strat", "--prototype", "scan-and-discover", "--unit", "store", "--design",
                 "stratified", "--strata", "format", "--seed", "9", "--lab", lab.root)  # fmt: skip
    assert result.exit_code == 0, result.output
    spec = load_experiment(lab, "strat")
    assert spec.design == "stratified" and spec.strata_by == "format" and spec.seed == 9
    assert set(spec.blocks) == set(spec.store_list)
    result = run("new", "pairs", "--prototype", "scan-and-discover", "--unit", "store",
                 "--design", "matched", "--seed", "9", "--lab", lab.root, "--json")  # fmt: skip
    assert result.exit_code == 0, result.output
    spec = load_experiment(lab, "pairs")
    assert spec.design == "matched" and spec.matched_on == "conversion_rate"
    assert len(spec.pairs) == 6 and json.loads(result.output)["seed"] == 9


def test_matched_without_kpis_is_a_clear_error(lab):
    from tests.fixtures import add_events

    add_events(lab, 4)
    result = run("new", "pairs", "--prototype", "scan-and-discover", "--unit", "store",
                 "--design", "matched", "--lab", lab.root)  # fmt: skip
    assert result.exit_code == 1
    text = result.output + str(result.exception or "")
    assert "no store KPI 'conversion_rate' to match on" in text and "import-kpis" in text
    result = run("new", "s", "--prototype", "scan-and-discover", "--unit", "session",
                 "--design", "stratified", "--strata", "region", "--lab", lab.root)  # fmt: skip
    assert result.exit_code == 1 and "needs --unit store" in result.output + str(result.exception)


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"design": "matched", "pairs": [["S01", "S02"]]}, "every store of the experiment"),
        (
            {
                "design": "matched",
                "pairs": [["S01", "S03"], ["S02", "S04"], ["S05", "S06"], ["S07", "S08"]],
            },
            "one store of each variant",
        ),  # fmt: skip
        ({"strata": {"Nord": ["S01"]}}, "belong to design: stratified"),
    ],
)
def test_spec_checks_the_design(over, message):
    with pytest.raises(InvalidInputError, match=message):
        parse_experiment(spec_dict("d", "store", **over), "d.yaml")


def test_permutation_within_pairs_is_exact_over_pair_swaps():
    rng = np.random.default_rng(3)
    m = rng.normal(50, 10, 8)
    d = np.full(8, 100.0)
    treated = [False, True] * 4
    pairs = [0, 0, 1, 1, 2, 2, 3, 3]
    p, how, count = permutation_p_value(m, d, treated, blocks=pairs)
    assert how == "exact" and count == 2**4
    observed = abs(m[1::2].mean() - m[0::2].mean())
    hits = 0
    for flips in itertools.product([0, 1], repeat=4):
        t = [(i % 2 == 1) != bool(flips[i // 2]) for i in range(8)]
        diff = abs(m[np.array(t)].mean() - m[~np.array(t)].mean())
        hits += diff >= observed - 1e-9
    assert p == pytest.approx(hits / 16)
    assert permutation_p_value(m, d, treated)[2] == 70  # without pairs: every 4 of 8


def test_monte_carlo_masks_keep_the_count_in_every_block():
    treated = [True, False, False] * 10
    blocks = [i // 3 for i in range(30)]
    masks, how = assignment_masks(treated, blocks, max_exact=10)
    assert how == "monte_carlo"
    sums = masks.reshape(len(masks), 10, 3).sum(axis=2)
    assert np.all(sums == 1)


def test_a_a_with_matched_pairs_holds_alpha():
    """Pairs alike before the pilot; treatment randomised within pairs; no effect."""
    rng = np.random.default_rng(11)
    rejections, runs = 0, 400
    for _ in range(runs):
        level = np.repeat(rng.normal(0.3, 0.05, 6), 2) + rng.normal(0, 0.01, 12)
        sessions = rng.integers(50, 400, 12).astype(float)
        treated = np.zeros(12, bool)
        treated[np.arange(6) * 2 + rng.integers(0, 2, 6)] = True
        sums = rng.binomial(sessions.astype(int), np.clip(level, 0, 1)).astype(float)
        p, _, _ = permutation_p_value(sums, sessions, treated, blocks=np.arange(12) // 2)
        rejections += p < 0.05
    assert 0.02 <= rejections / runs <= 0.07


def test_analysis_permutes_within_the_specs_pairs():
    pairs = [["S01", "S02"], ["S03", "S04"], ["S05", "S06"], ["S07", "S08"]]
    spec = parse_experiment(spec_dict("m", "store", design="matched", pairs=pairs), "m.yaml")
    data = MetricData()
    rng = np.random.default_rng(2)
    for i in range(1, 9):
        n = int(rng.integers(40, 90))
        k = int(rng.binomial(n, 0.5))
        data.by_store[f"S{i:02d}"] = {"task_success_rate": SampleMeanStatistic(n, k, k)}
        data.sessions_by_store[f"S{i:02d}"] = n
    result = analyze_data(spec, data, today=date(2026, 12, 1))
    c = result.primary.comparisons[0]
    assert c.method.endswith("permutation_exact")
    assert result.to_dict()["design"] == "matched"
    stores = spec.stores["control"] + spec.stores["treatment"]
    sums = [data.by_store[s]["task_success_rate"].sum for s in stores]
    ns = [data.by_store[s]["task_success_rate"].n for s in stores]
    expected, _, count = permutation_p_value(
        sums, ns, [s in spec.stores["treatment"] for s in stores],
        blocks=[spec.blocks[s] for s in stores],
    )  # fmt: skip
    assert count == 16 and c.p_value == pytest.approx(expected)
