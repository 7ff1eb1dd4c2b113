"""The validation study's store-KPI part (``bench/validation_kpis.py``) in small: its data are
what ``load_kpis`` returns (fast), and the goals of issue 13 for ``kpi:<name>`` metrics hold
(slow: a few hundred pilots with fixed seeds, each goal widened by two binomial SEs).
"""

from __future__ import annotations

from functools import cache

import pytest

from bench.validation import AA_GOAL, COVERAGE_GOAL, POWER_GOAL
from bench.validation_kpis import (
    END,
    KPI_MODELS,
    KPIS,
    PRE,
    START,
    STORE_IDS,
    assign,
    kpi_coverage,
    kpi_data,
    kpi_power_row,
    kpi_spec,
    kpi_table,
    model_sd_r,
    true_baseline,
)
from experiments.kpis import load_kpis
from sample_data.kpis import KpiPlan, simulate_kpis
from tests.test_validation_study import se, within

# --- the study's data and truth (fast) -----------------------------------------------------


def test_study_data_are_what_load_kpis_reads_from_duckdb():
    """The study's numpy reduction of the simulator's rows equals ``load_kpis``'s SQL on the
    same rows in a ``store_kpis`` table (pilot, pre-period, its halves, day counts)."""
    rows = simulate_kpis(KpiPlan(STORE_IDS, frozenset({"S02", "S05"}), PRE[0], START, END,
                                 {"conversion_rate": 0.02}), 7)  # fmt: skip
    rows = [r for r in rows if not (r[0] == "S03" and r[1] >= START.isoformat())]  # no pilot
    ours = kpi_data(rows, STORE_IDS)
    con = kpi_table(rows)
    assert con.execute("SELECT count(*) FROM store_kpis").fetchone()[0] == len(rows)
    for metric in KPIS:
        spec = kpi_spec(metric, assign("random", 3, metric, None))
        theirs = load_kpis(con, spec)
        assert (theirs.pre_period, theirs.placebo_pre, theirs.placebo_pilot) == (
            ours.pre_period, ours.placebo_pre, ours.placebo_pilot,
        )  # fmt: skip
        assert set(theirs.stores[metric]) == set(ours.stores[metric]) == set(STORE_IDS)
        for store, k in theirs.stores[metric].items():
            mine = ours.stores[metric][store]
            assert (mine.pilot_days, mine.pre_days) == (k.pilot_days, k.pre_days)
            for field in ("pilot", "pre", "pre_first", "pre_second"):
                a, b = getattr(mine, field), getattr(k, field)
                assert (a is None and b is None) or a == pytest.approx(b, abs=1e-9), field
    assert ours.stores["kpi:conversion_rate"]["S03"].pilot is None


def test_designs_assign_as_experiment_new_does():
    pre = kpi_data(simulate_kpis(KpiPlan(STORE_IDS, frozenset(), PRE[0], START, END, {}), 1),
                   STORE_IDS)  # fmt: skip
    strat = kpi_spec(KPIS[0], assign("stratified", 4, KPIS[0], None))
    assert strat.design == "stratified" and len(strat.strata) == 4  # the sample's regions
    matched = kpi_spec(KPIS[1], assign("matched", 4, KPIS[1], pre))
    assert matched.design == "matched" and len(matched.pairs) == 6
    means = {s: k.pre for s, k in pre.stores[KPIS[1]].items()}
    for a, b in matched.pairs:  # neighbours in the pre-period's order
        between = [s for s in means if min(means[a], means[b]) < means[s] < max(means[a], means[b])]
        assert between == []


def test_true_sd_and_r_describe_the_simulators_period_means():
    """The truth the power rows plan with: sd of a store's period mean and the correlation of
    its pre-period and pilot means, from 400 simulated stores."""
    import numpy as np

    ids = [f"X{i:03d}" for i in range(400)]
    data = kpi_data(simulate_kpis(KpiPlan(ids, frozenset(), PRE[0], START, END, {}), 2), ids)
    for metric in KPIS:
        model = KPI_MODELS[metric.removeprefix("kpi:")]
        sd, r = model_sd_r(model)
        pre = np.array([k.pre for k in data.stores[metric].values()])
        pilot = np.array([k.pilot for k in data.stores[metric].values()])
        assert pilot.std() == pytest.approx(sd, rel=0.12)
        assert np.corrcoef(pre, pilot)[0, 1] == pytest.approx(r, abs=0.05)
        assert pilot.mean() == pytest.approx(true_baseline(model), abs=3 * sd / 20)


# --- the goals (slow) ----------------------------------------------------------------------

RUNS = 600


@cache
def coverage_rows(design: str):
    return kpi_coverage(design, RUNS, seed=31)


@pytest.mark.slow
@pytest.mark.parametrize("design", ["random", "stratified", "matched"])
def test_kpi_cis_cover_and_aa_rates_hold(design):
    misses = []
    for r in coverage_rows(design):
        assert r.method == "ancova+randomisation_exact"
        for what, value, goal in (
            ("coverage", r.coverage, COVERAGE_GOAL),
            ("relative coverage", r.rel_coverage, COVERAGE_GOAL),
            ("A/A p < alpha", r.aa_p, AA_GOAL),
            ("A/A CI excludes 0", r.aa_ci, AA_GOAL),
            ("A/A placebo flagged", r.placebo, AA_GOAL),
        ):
            if not within(value, goal, RUNS):
                misses.append(f"{r.metric} {what} {value:.3f}")
    assert misses == []


POWER_RUNS = 500


@pytest.mark.slow
@pytest.mark.parametrize("metric", KPIS)
def test_kpi_power_is_what_was_planned(metric):
    row = kpi_power_row(metric, "model", POWER_RUNS, seed=32)
    assert abs(row.achieved - row.planned) <= POWER_GOAL + 2 * se(row.planned, POWER_RUNS), row
