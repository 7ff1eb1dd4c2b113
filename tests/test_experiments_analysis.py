"""experiments.metrics SQL and experiments.analysis on a small DuckDB lab with known truth."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from errors import StorelabError
from experiments.analysis import analyze, analyze_all, analyze_data
from experiments.metrics import MetricData, per_session_values, sufficient_statistics
from experiments.results import AnalysisFailure, ExperimentResult
from experiments.spec import ExperimentSpec, load_experiment, write_experiment
from experiments.statistics import ProportionStatistic, SampleMeanStatistic
from feedback.catalogue import CATALOGUE
from feedback.store import create_schema

START = date(2026, 11, 2)
END = date(2026, 11, 15)
STORES = [f"S{i:02d}" for i in range(1, 9)]
SUS = [f"sus.q{i}" for i in range(1, 11)]


def spec_dict(exp_id: str, unit: str, **over) -> dict:
    raw = {
        "id": exp_id,
        "hypothesis": "Showing sizes nearby raises task success.",
        "prototype": "scan-and-discover",
        "unit": unit,
        "variants": {"control": {"version": 1}, "treatment": {"version": 2}},
        "allocation": {"control": 0.5, "treatment": 0.5},
        "stores": {"control": STORES[0::2], "treatment": STORES[1::2]}
        if unit == "store"
        else STORES,
        "start": START,
        "end": END,
        "primary_metric": "task_success_rate",
        "secondary_metrics": ["sus", "time_on_task_s", "nps"],
        "guardrails": ["misclick_rate"],
        "alpha": 0.05,
        "power": 0.8,
        "min_effect": 0.05,
    }
    raw.update(over)
    return raw


def make_events(
    exp_id: str,
    n_sessions: int,
    *,
    seed: int,
    unit: str = "session",
    p_success: dict[str, float] | None = None,
    split: float = 0.5,
    store_sd: float = 0.0,
    start: date = START,
    days: int = 14,
) -> tuple[pa.Table, dict]:
    """Events of ``n_sessions`` sessions plus the per-session truth the SQL must reproduce."""
    rng = np.random.default_rng(seed)
    p_success = p_success or {"control": 0.6, "treatment": 0.6}
    sid = np.array([str(uuid.UUID(int=int(x))) for x in rng.integers(0, 2**62, n_sessions)])
    store = rng.choice(STORES, n_sessions)
    if unit == "store":
        variant = np.where(np.isin(store, STORES[0::2]), "control", "treatment")
    else:
        variant = np.where(rng.random(n_sessions) < split, "control", "treatment")
    store_effect = {s: rng.normal(0, store_sd) for s in STORES}
    p = np.array([p_success[v] for v in variant]) + np.array([store_effect[s] for s in store])
    success = rng.random(n_sessions) < np.clip(p, 0.01, 0.99)
    t0 = datetime.combine(start, datetime.min.time(), tzinfo=UTC) + np.array(
        [timedelta(seconds=float(s)) for s in rng.uniform(3600, days * 86400 - 3600, n_sessions)]
    )
    duration = np.round(rng.uniform(10, 60, n_sessions), 3)
    misclick = rng.random(n_sessions) < 0.3
    seq = rng.integers(1, 8, n_sessions)
    nps = rng.integers(0, 11, n_sessions)
    has_sus = rng.random(n_sessions) < 0.5
    sus = rng.integers(1, 6, (n_sessions, 10))

    rows: dict[str, list] = {
        k: [] for k in ("i", "dt", "type", "task", "question", "value", "props")
    }

    def add(idx, dt, type_, task=None, question=None, value=None, props=None):
        idx = np.asarray(idx)
        rows["i"].append(idx)
        rows["dt"].append(np.broadcast_to(np.asarray(dt, dtype=float), idx.shape))
        for key, val in (("type", type_), ("task", task), ("question", question)):
            rows[key].append(np.full(idx.shape, val, dtype=object))
        rows["value"].append(
            np.full(idx.shape, np.nan) if value is None else np.asarray(value, dtype=float)
        )
        rows["props"].append(
            np.broadcast_to(np.asarray("{}" if props is None else props, dtype=object), idx.shape)
        )

    every = np.arange(n_sessions)
    add(every, 0.0, "session_start")
    add(every, 2.0, "task_start", task="find-size")
    for k in range(3):
        add(every, 3.0 + k, "tap")
    add(every[misclick], 4.5, "misclick")
    add(every[success], 2.0 + duration[success], "task_success", task="find-size")
    add(every[~success], 2.0 + duration[~success], "task_fail", task="find-size")
    after = 3.0 + duration
    add(every, after, "answer", question="seq", value=seq)
    add(every, after + 1, "answer", question="nps", value=nps)
    for q in range(10):
        add(
            every[has_sus], after[has_sus] + 2 + q, "answer", question=SUS[q], value=sus[has_sus, q]
        )
    reasons = np.where(success, '{"reason": "completed"}', '{"reason": "abandoned"}')
    add(every, after + 20, "session_end", props=reasons)

    i = np.concatenate(rows["i"])
    dt = np.concatenate(rows["dt"])
    ts = t0[i] + np.array([timedelta(seconds=float(x)) for x in dt])
    n = len(i)
    now = datetime.now(UTC)
    table = pa.table(
        {
            "event_id": [str(uuid.uuid4()) for _ in range(n)],
            "ts": pa.array(list(ts), type=pa.timestamp("us", tz="UTC")),
            "session_id": sid[i],
            "experiment_id": np.full(n, exp_id, dtype=object),
            "prototype_id": np.full(n, "scan-and-discover", dtype=object),
            "prototype_version": np.where(variant[i] == "control", 1, 2),
            "variant": variant[i],
            "store_id": store[i],
            "device": np.full(n, "kiosk", dtype=object),
            "type": np.concatenate(rows["type"]),
            "task": np.concatenate(rows["task"]),
            "question": np.concatenate(rows["question"]),
            "value": pa.array(np.concatenate(rows["value"]), from_pandas=True),
            "props": np.concatenate(rows["props"]),
            "source": np.full(n, "test", dtype=object),
            "ingested_at": pa.array([now] * n, type=pa.timestamp("us", tz="UTC")),
        }
    )
    odd, even = sus[:, 0::2], sus[:, 1::2]
    truth = {
        "session_id": sid,
        "variant": variant,
        "store": store,
        "task_success_rate": success.astype(float),
        "time_on_task_s": duration,
        "misclick_rate": misclick / (3 + misclick),
        "misclicks": misclick.astype(float),  # the ratio metric's numerator …
        "taps_and_misclicks": 3.0 + misclick,  # … and denominator
        "completion_rate": success.astype(float),
        "seq": seq.astype(float),
        "nps": np.where(nps >= 9, 100.0, np.where(nps >= 7, 0.0, -100.0)),
        "sus": np.where(has_sus, 2.5 * ((odd - 1).sum(1) + (5 - even).sum(1)), np.nan),
    }
    return table, truth


def insert(db_path, table: pa.Table) -> None:
    con = duckdb.connect(str(db_path))
    try:
        create_schema(con)
        con.register("incoming", table)
        con.execute(
            """INSERT INTO events SELECT CAST(event_id AS UUID), ts, CAST(session_id AS UUID),
               experiment_id, prototype_id, prototype_version, variant, store_id, device, type,
               NULL, NULL, task, question, NULL, NULL, "value", NULL, CAST(props AS JSON),
               source, ingested_at FROM incoming"""
        )
    finally:
        con.close()


def setup_experiment(lab, exp_id, unit, n, seed, spec_over=None, **gen):
    spec = ExperimentSpec.model_validate(spec_dict(exp_id, unit, **(spec_over or {})))
    write_experiment(lab, spec)
    table, truth = make_events(exp_id, n, seed=seed, unit=unit, **gen)
    insert(lab.db_path, table)
    return spec, truth


# --- the SQL reproduces the metric definitions -------------------------------------------------


def test_per_variant_statistics_match_numpy_truth(lab):
    spec, truth = setup_experiment(lab, "exp-a", "session", 400, seed=1)
    con = duckdb.connect(str(lab.db_path), read_only=True)
    try:
        data = sufficient_statistics(con, spec)
        rows = per_session_values(con, spec)
    finally:
        con.close()
    assert len(rows) == 400
    for v in ("control", "treatment"):
        mask = truth["variant"] == v
        assert data.sessions_by_variant[v] == mask.sum()
        for metric in ("task_success_rate", "time_on_task_s", "seq", "nps", "sus",
                       "completion_rate"):  # fmt: skip
            values = truth[metric][mask]
            values = values[~np.isnan(values)]
            stat = data.by_variant[v][metric]
            assert stat.n == len(values), metric
            assert stat.sum == pytest.approx(values.sum(), abs=1e-6), metric
            assert stat.sum_squares == pytest.approx((values**2).sum(), rel=1e-9), metric
        assert "csat" not in data.by_variant[v]  # nobody answered it: no value, not zero
        # the ratio metric: Σm, Σm², Σd, Σd², Σm·d over sessions (gbstats' RatioStatistic)
        m, d = truth["misclicks"][mask], truth["taps_and_misclicks"][mask]
        ratio = data.by_variant[v]["misclick_rate"]
        assert ratio.n == mask.sum()
        assert ratio.m_statistic.sum == m.sum() and ratio.m_statistic.sum_squares == (m**2).sum()
        assert ratio.d_statistic.sum == d.sum() and ratio.d_statistic.sum_squares == (d**2).sum()
        assert ratio.m_d_sum_of_products == (m * d).sum()
        assert ratio.mean == pytest.approx(m.sum() / d.sum())
    # per session, the misclick rate column is the session's own ratio (for reading)
    by_id = {str(r[0]): r[3 + list(CATALOGUE.metrics).index("misclick_rate")] for r in rows}
    expected = dict(zip(truth["session_id"], truth["misclick_rate"], strict=True))
    assert by_id == pytest.approx(expected)
    assert sum(data.sessions_by_store.values()) == 400


def test_filters_experiment_dates_and_variants(lab):
    spec, _ = setup_experiment(lab, "exp-a", "session", 200, seed=2)
    other, _ = make_events("exp-other", 50, seed=3)
    late, _ = make_events("exp-a", 30, seed=4, start=END + timedelta(days=1), days=3)
    insert(lab.db_path, other)
    insert(lab.db_path, late)
    con = duckdb.connect(str(lab.db_path), read_only=True)
    try:
        data = sufficient_statistics(con, spec)
    finally:
        con.close()
    assert sum(data.sessions_by_variant.values()) == 200


def test_instrument_scoring_edge_cases(lab):
    spec = ExperimentSpec.model_validate(spec_dict("exp-i", "session"))
    write_experiment(lab, spec)
    base = datetime(2026, 11, 3, 10, tzinfo=UTC)
    rows = []

    def ev(session, type_, question=None, value=None, sec=0, props="{}", variant="control"):
        rows.append(
            (
                str(uuid.uuid4()),
                base + timedelta(seconds=sec),
                session,
                "exp-i",
                variant,
                "S01",
                type_,
                question,
                value,
                props,
            )  # fmt: skip
        )

    s1, s2, s3 = (str(uuid.uuid4()) for _ in range(3))
    # s1: all SUS items = 3 → 50; csat 4 → 100; nps answered twice: last (10) counts → 100
    for q in SUS:
        ev(s1, "answer", q, 3.0, 1)
    ev(s1, "answer", "csat", 4.0, 2)
    ev(s1, "answer", "nps", 3.0, 3)
    ev(s1, "answer", "nps", 10.0, 4)
    ev(s1, "answer", "umux_lite.q1", 7.0, 5)
    ev(s1, "answer", "umux_lite.q2", 4.0, 6)
    # s2: nine SUS items → no SUS; csat 9 (out of scale) → ignored; ces 7
    for q in SUS[:9]:
        ev(s2, "answer", q, 5.0, 1)
    ev(s2, "answer", "csat", 9.0, 2)
    ev(s2, "answer", "ces", 7.0, 3)
    ev(s2, "session_end", props='{"reason": "completed"}', sec=9)
    # s3: shows two variants → dropped
    ev(s3, "session_start", variant="control")
    ev(s3, "tap", variant="treatment", sec=1)
    con = duckdb.connect(str(lab.db_path))
    create_schema(con)
    con.executemany(
        """INSERT INTO events VALUES (?, ?, ?, ?, 'p', 1, ?, ?, 'kiosk', ?, NULL, NULL, NULL,
           ?, NULL, NULL, ?, NULL, ?, 'test', now())""",
        rows,
    )
    con.close()
    con = duckdb.connect(str(lab.db_path), read_only=True)
    values = {r[0]: r for r in per_session_values(con, spec)}
    con.close()
    cols = ["session_id", "variant", "store_id", *CATALOGUE.metrics]
    assert len(values) == 2
    r1 = dict(zip(cols, values[uuid.UUID(s1)], strict=True))
    r2 = dict(zip(cols, values[uuid.UUID(s2)], strict=True))
    assert r1["sus"] == 50.0 and r1["csat"] == 100.0 and r1["nps"] == 100.0
    assert r1["umux_lite"] == pytest.approx((6 + 3) * 100 / 12)
    assert r1["task_success_rate"] is None and r1["misclick_rate"] is None
    assert r1["completion_rate"] == 0.0
    assert r2["sus"] is None and r2["csat"] is None and r2["ces"] == 7.0
    assert r2["completion_rate"] == 1.0


# --- analyze(): shape and numbers ---------------------------------------------------------------

TOP_KEYS = {
    "experiment", "unit", "alpha", "correction", "families", "srm", "mislabelled_sessions",
    "metrics", "decision",
}  # fmt: skip
SRM_KEYS = {"p_value", "ok", "counts", "unit", "planned", "expected", "sessions", "threshold"}
METRIC_KEYS = {"metric", "role", "kind", "higher_is_better", "variants", "comparisons"}
VARIANT_KEYS = {"variant", "units", "sessions", "mean"}
STORE_KEYS = {"store_id", "variant", "sessions", "mean"}
COMPARISON_KEYS = {
    # DESIGN.md
    "variant", "baseline", "abs_effect", "ci_low", "ci_high", "p_value", "rel_effect",
    "rel_ci_low", "rel_ci_high", "p_adjusted", "chance_to_win", "significant",
    # documented extensions
    "risk", "se", "method", "dof", "sequential",
}  # fmt: skip
SEQUENTIAL_KEYS = {"p_value", "p_adjusted", "ci_low", "ci_high", "method", "planned_n"}


def check_shape(typed: ExperimentResult) -> dict:
    """The JSON of ``typed`` has exactly the documented keys; returns it."""
    result = typed.to_dict()
    assert set(result) == TOP_KEYS
    assert set(result["srm"]) == SRM_KEYS
    assert set(result["decision"]) == {"recommendation", "reasons", "extend_by", "rework_screens"}
    assert result["decision"]["recommendation"] in {
        "roll_out", "extend", "iterate", "scrap", "keep_running"
    }  # fmt: skip
    assert all(isinstance(r, str) for r in result["decision"]["reasons"])
    for m in result["metrics"]:
        # per-store breakdown: unit=store only
        assert set(m) == METRIC_KEYS | ({"stores"} if result["unit"] == "store" else set())
        assert m["kind"] in {"proportion", "mean"}
        for v in m["variants"]:
            assert set(v) == VARIANT_KEYS
        for c in m["comparisons"]:
            assert set(c) == COMPARISON_KEYS
            # the always-valid reading: unit=session only (store: read once, at the end)
            if result["unit"] == "store":
                assert c["sequential"] is None
            else:
                assert set(c["sequential"]) == SEQUENTIAL_KEYS
        for s in m.get("stores", []):
            assert set(s) == STORE_KEYS
    json.loads(json.dumps(result, allow_nan=False))  # strict JSON
    assert ExperimentResult.from_dict(result) == typed  # the JSON holds everything
    return result


def test_analyze_session_unit_equals_scipy_welch(lab):
    _, truth = setup_experiment(
        lab, "exp-s", "session", 1500, seed=5, p_success={"control": 0.55, "treatment": 0.70}
    )
    result = check_shape(analyze(lab, "exp-s", today=date(2026, 12, 1)))
    assert result["experiment"] == "exp-s" and result["unit"] == "session"
    assert result["correction"] == "holm"
    assert [m["metric"] for m in result["metrics"]] == [
        "task_success_rate", "sus", "time_on_task_s", "nps", "misclick_rate"
    ]  # fmt: skip
    primary = result["metrics"][0]
    assert primary["role"] == "primary" and primary["kind"] == "proportion"
    c = primary["comparisons"][0]
    y = truth["task_success_rate"]
    a, b = y[truth["variant"] == "control"], y[truth["variant"] == "treatment"]
    ref = stats.ttest_ind(b, a, equal_var=False)
    ci = ref.confidence_interval(0.95)
    assert c["p_value"] == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-300)
    assert c["ci_low"] == pytest.approx(ci.low, rel=1e-9)
    assert c["ci_high"] == pytest.approx(ci.high, rel=1e-9)
    assert c["abs_effect"] == pytest.approx(b.mean() - a.mean())
    assert primary["variants"][0]["units"] == len(a)
    assert result["srm"]["ok"] and result["srm"]["unit"] == "session"
    assert c["significant"] and c["chance_to_win"] > 0.99
    # one challenger: the decision family is the primary alone, so its p is not adjusted
    assert c["p_adjusted"] == c["p_value"]
    # the 3 secondaries are Holm-adjusted among themselves only
    family = [m["comparisons"][0]["p_value"] for m in result["metrics"][1:4]]
    expected = multipletests(family, method="holm")[1]
    got = [m["comparisons"][0]["p_adjusted"] for m in result["metrics"][1:4]]
    assert got == pytest.approx(list(expected), rel=1e-12, abs=1e-300)
    assert result["families"] == {
        "decision": {"correction": "holm", "comparisons": 1},
        "secondary": {"correction": "holm", "comparisons": 3},
        "guardrail": {"correction": "none", "comparisons": 1},
    }
    guard = result["metrics"][-1]["comparisons"][0]
    assert guard["p_adjusted"] == guard["p_value"]
    assert result["decision"]["recommendation"] == "roll_out"


def test_before_end_a_fixed_horizon_p_alone_keeps_running(lab):
    """Significant at the fixed horizon but not by the sequential test: the experiment goes on
    until its end (it used to as well, and still does); after the end, it is rolled out."""
    setup_experiment(
        lab, "exp-s", "session", 1500, seed=5, p_success={"control": 0.55, "treatment": 0.65}
    )
    early = analyze(lab, "exp-s", today=date(2026, 11, 10))
    c = early.primary.comparisons[0]
    assert c.significant and c.sequential.p_adjusted >= 0.05
    assert c.sequential.ci_low < 0 < c.ci_low  # the sequential CI still includes 0
    assert early.decision.recommendation == "keep_running"
    assert any("not yet by the sequential test" in r for r in early.decision.reasons)
    assert analyze(lab, "exp-s", today=date(2026, 12, 1)).decision.recommendation == "roll_out"


def test_before_end_the_sequential_test_may_roll_out(lab):
    """A clear win ends the experiment early (it used to keep running to the planned end)."""
    setup_experiment(
        lab, "exp-s", "session", 1500, seed=5, p_success={"control": 0.55, "treatment": 0.70}
    )
    result = analyze(lab, "exp-s", today=date(2026, 11, 10))
    c = result.primary.comparisons[0]
    assert c.sequential.p_adjusted < 0.05 and c.sequential.ci_low > 0
    assert result.decision.recommendation == "roll_out"
    assert any("sequential test allows deciding" in r for r in result.decision.reasons)


def test_analyze_store_unit_uses_stores_and_permutation(lab):
    spec, truth = setup_experiment(lab, "exp-st", "store", 800, seed=6, store_sd=0.05)
    result = check_shape(analyze(lab, "exp-st", today=date(2026, 12, 1)))
    primary = result["metrics"][0]
    assert [v["units"] for v in primary["variants"]] == [4, 4]
    assert sum(v["sessions"] for v in primary["variants"]) == 800
    c = primary["comparisons"][0]
    assert c["method"] == "store_cr2+permutation_exact"
    # 4 + 4 stores: p is a multiple of 1/70
    assert round(c["p_value"] * 70, 6) == pytest.approx(round(c["p_value"] * 70))
    # ratio of sums = mean over the variant's sessions
    ctrl = truth["task_success_rate"][truth["variant"] == "control"]
    assert primary["variants"][0]["mean"] == pytest.approx(ctrl.mean())
    srm = result["srm"]
    assert srm["unit"] == "store" and srm["counts"] == {"control": 4, "treatment": 4}
    assert srm["planned"] == {"control": 4, "treatment": 4}
    assert sum(srm["sessions"].values()) == 800
    # the per-store breakdown: every store once, under its variant, with its own mean
    stores = {s["store_id"]: s for s in primary["stores"]}
    assert [s["store_id"] for s in primary["stores"]] == spec.stores["control"] + spec.stores[
        "treatment"
    ]
    for store_id, s in stores.items():
        mask = truth["store"] == store_id
        assert s["variant"] == spec.store_variants[store_id]
        assert s["sessions"] == mask.sum()
        assert s["mean"] == pytest.approx(truth["task_success_rate"][mask].mean())


def test_srm_detected_and_blocks_decision(lab):
    setup_experiment(lab, "exp-srm", "session", 2000, seed=7, split=0.58)
    result = analyze(lab, "exp-srm", today=date(2026, 12, 1))
    assert not result.srm.ok
    assert result.srm.p_value < 0.001
    total = sum(result.srm.counts.values())
    assert result.srm.expected == {"control": total / 2, "treatment": total / 2}
    assert result.decision.recommendation == "keep_running"
    assert "mismatch" in result.decision.reasons[0].lower()


def test_analyze_all_and_missing_data(lab):
    setup_experiment(lab, "exp-a", "session", 300, seed=8)
    write_experiment(lab, ExperimentSpec.model_validate(spec_dict("exp-b", "store")))
    results = analyze_all(lab, today=date(2026, 12, 1))
    assert [r.experiment for r in results] == ["exp-a", "exp-b"]
    for r in results:
        check_shape(r)
    empty = results[1]
    assert empty.decision.recommendation == "keep_running"
    assert empty.metrics[0].comparisons[0].p_value is None
    assert empty.metrics[0].stores == ()  # unit=store without data: no store yet
    assert load_experiment(lab, "exp-b").unit == "store"


def test_analyze_without_database_is_a_user_error(lab):

    write_experiment(lab, ExperimentSpec.model_validate(spec_dict("exp-a", "session")))
    with pytest.raises(StorelabError, match="ingest"):
        analyze(lab, "exp-a")


# --- decision rules on hand-made statistics ------------------------------------------------------


def session_data(ctrl: tuple[int, int], trt: tuple[int, int], guard_trt: int = 200) -> MetricData:
    data = MetricData()
    data.by_variant = {
        "control": {
            "task_success_rate": ProportionStatistic(n=ctrl[0], sum=ctrl[1]),
            "misclick_rate": ProportionStatistic(n=2000, sum=200),
        },
        "treatment": {
            "task_success_rate": ProportionStatistic(n=trt[0], sum=trt[1]),
            "misclick_rate": ProportionStatistic(n=2000, sum=guard_trt),
        },
    }
    data.sessions_by_variant = {"control": ctrl[0], "treatment": trt[0]}
    return data


@pytest.mark.parametrize(
    ("ctrl", "trt", "guard_trt", "today", "expected"),
    [
        ((2000, 1000), (2000, 1200), 200, date(2026, 12, 1), "roll_out"),
        # before the end only the sequential test may end it: a clear win (seq. p 6e-8) may …
        ((2000, 1000), (2000, 1200), 200, date(2026, 11, 10), "roll_out"),
        # … a fixed-horizon win alone (p 0.027, seq. p 0.33) may not, until the end
        ((2000, 1000), (2000, 1070), 200, date(2026, 11, 10), "keep_running"),
        ((2000, 1000), (2000, 1070), 200, date(2026, 12, 1), "roll_out"),
        ((2000, 1000), (2000, 1200), 300, date(2026, 12, 1), "iterate"),  # guardrail harmed
        ((2000, 1000), (2000, 1200), 300, date(2026, 11, 10), "iterate"),  # seq. harm 1e-4
        ((2000, 1000), (2000, 1200), 250, date(2026, 11, 10), "keep_running"),  # harm p 0.012
        ((2000, 1000), (2000, 1200), 250, date(2026, 12, 1), "iterate"),
        ((2000, 1000), (2000, 800), 200, date(2026, 12, 1), "scrap"),
        ((2000, 1000), (2000, 800), 200, date(2026, 11, 10), "scrap"),
        ((2000, 1000), (2000, 930), 200, date(2026, 11, 10), "keep_running"),  # fixed p only
        ((2000, 1000), (2000, 930), 200, date(2026, 12, 1), "scrap"),
        ((2000, 1000), (2000, 1020), 200, date(2026, 12, 1), "iterate"),  # CI below min_effect
        ((2000, 1000), (2000, 990), 200, date(2026, 12, 1), "scrap"),  # … and not positive
        ((100, 50), (100, 55), 200, date(2026, 12, 1), "extend"),  # CI still wide
        ((100, 50), (100, 55), 200, date(2026, 11, 10), "keep_running"),
        ((1, 1), (100, 55), 200, date(2026, 12, 1), "keep_running"),  # not enough data
    ],
)
def test_decision_rules(ctrl, trt, guard_trt, today, expected):
    spec = ExperimentSpec.model_validate(spec_dict("exp-d", "session", secondary_metrics=[]))
    result = analyze_data(spec, session_data(ctrl, trt, guard_trt), today=today)
    check_shape(result)
    assert result.decision.recommendation == expected, result.decision.reasons


def test_early_decision_uses_the_sequential_p_adjusted_in_the_decision_family():
    """Two challengers: each sequential p alone is below alpha, but not after Holm over the
    decision family, so nothing ends early; at the end the fixed-horizon test decides."""
    spec = ExperimentSpec.model_validate(
        spec_dict(
            "exp-k2",
            "session",
            variants={"control": {"version": 1}, "b": {"version": 2}, "c": {"version": 3}},
            allocation={"control": 0.34, "b": 0.33, "c": 0.33},
            secondary_metrics=[],
        )
    )
    data = MetricData()
    succ = {"control": 1000, "b": 1100, "c": 1100}
    data.by_variant = {
        v: {
            "task_success_rate": ProportionStatistic(n=2000, sum=succ[v]),
            "misclick_rate": ProportionStatistic(n=2000, sum=200),
        }
        for v in succ
    }
    data.sessions_by_variant = dict.fromkeys(succ, 2000)
    early = analyze_data(spec, data, today=date(2026, 11, 10))
    seq = [c.sequential for c in early.primary.comparisons]
    assert all(s.p_value < 0.05 <= s.p_adjusted for s in seq)
    assert [s.p_adjusted for s in seq] == pytest.approx(
        list(multipletests([s.p_value for s in seq], method="holm")[1]), rel=1e-12
    )
    assert early.decision.recommendation == "keep_running"
    late = analyze_data(spec, data, today=date(2026, 12, 1))
    assert late.decision.recommendation == "roll_out"


def test_store_experiment_never_ends_early():
    """unit=store has no sequential test: a significant permutation p before the end keeps it
    running (an early scrap on it used to be recommended)."""
    spec = ExperimentSpec.model_validate(
        spec_dict(
            "exp-se",
            "store",
            stores={"control": STORES[:4], "treatment": STORES[4:8]},
            secondary_metrics=[],
            guardrails=[],
        )
    )
    data = MetricData()
    for i, store in enumerate(STORES[:8]):
        rate = 0.6 + 0.01 * i - (0.3 if i >= 4 else 0.0)
        data.by_store[store] = {"task_success_rate": ProportionStatistic(n=100, sum=100 * rate)}
        data.sessions_by_store[store] = 100
    early = analyze_data(spec, data, today=date(2026, 11, 10))
    c = early.primary.comparisons[0]
    assert c.significant and c.sequential is None
    assert early.decision.recommendation == "keep_running"
    assert any("read once" in r for r in early.decision.reasons)
    assert analyze_data(spec, data, today=date(2026, 12, 1)).decision.recommendation == "scrap"


def test_two_challengers_holm_over_the_primary_comparisons_only():
    """Decision family = primary × 2 challengers; secondaries and guardrails stay out of it."""
    spec = ExperimentSpec.model_validate(
        spec_dict(
            "exp-k",
            "session",
            variants={"control": {"version": 1}, "b": {"version": 2}, "c": {"version": 3}},
            allocation={"control": 0.34, "b": 0.33, "c": 0.33},
            secondary_metrics=["completion_rate"],
        )
    )
    data = MetricData()
    succ = {"control": 1000, "b": 1070, "c": 1040}
    done = {"control": 1500, "b": 1540, "c": 1460}
    data.by_variant = {
        v: {
            "task_success_rate": ProportionStatistic(n=2000, sum=succ[v]),
            "completion_rate": ProportionStatistic(n=2000, sum=done[v]),
            "misclick_rate": ProportionStatistic(n=2000, sum=200),
        }
        for v in succ
    }
    data.sessions_by_variant = dict.fromkeys(succ, 2000)
    result = analyze_data(spec, data, today=date(2026, 12, 1))
    by_role = {m.role: m for m in result.metrics}
    for role in ("primary", "secondary"):
        comps = by_role[role].comparisons
        raw = [c.p_value for c in comps]
        expected = multipletests(raw, method="holm")[1]
        assert [c.p_adjusted for c in comps] == pytest.approx(list(expected), rel=1e-12)
    assert result.to_dict()["families"]["decision"] == {"correction": "holm", "comparisons": 2}
    assert result.to_dict()["families"]["secondary"] == {"correction": "holm", "comparisons": 2}


def test_store_decision_explains_the_permutation_floor():
    spec = ExperimentSpec.model_validate(
        spec_dict("exp-f", "store", stores={"control": STORES[:3], "treatment": STORES[3:6]})
    )
    data = MetricData()
    for i, store in enumerate(STORES[:6]):
        rate = 0.5 + 0.01 * i + (0.1 if i >= 3 else 0.0)
        data.by_store[store] = {"task_success_rate": ProportionStatistic(n=100, sum=100 * rate)}
        data.sessions_by_store[store] = 100
    result = analyze_data(spec, data, today=date(2026, 12, 1))
    c = result.metrics[0].comparisons[0]
    assert c.p_value == pytest.approx(0.1)  # the most extreme of C(6, 3) = 20 splits, ×2
    assert result.decision.recommendation == "extend"
    assert any("smallest possible p-value is 0.1" in r for r in result.decision.reasons)


# --- zero variance: a p-value without a CI (issue 13) --------------------------------------------


def zero_store_data(rate_ctrl: float = 0.0, rate_trt: float = 0.0) -> MetricData:
    data = MetricData()
    for i, store in enumerate(STORES[:6]):
        rate = rate_trt if i >= 3 else rate_ctrl
        data.by_store[store] = {"task_success_rate": ProportionStatistic(n=100, sum=100 * rate)}
        data.sessions_by_store[store] = 100
    return data


def zero_store_spec(exp_id: str = "exp-z") -> ExperimentSpec:
    return ExperimentSpec.model_validate(
        spec_dict(
            exp_id,
            "store",
            stores={"control": STORES[:3], "treatment": STORES[3:6]},
            secondary_metrics=[],
        )
    )


def test_zero_variance_after_end_with_min_effect_gives_a_result():
    result = analyze_data(zero_store_spec(), zero_store_data(), today=date(2026, 12, 1))
    check_shape(result)
    c = result.metrics[0].comparisons[0]
    assert c.p_value is not None and c.ci_low is None  # permutation p, no CI
    assert result.decision.recommendation == "extend"
    assert any("no confidence interval" in r.lower() for r in result.decision.reasons)


def test_analyze_all_goes_on_when_one_experiment_cannot_be_analysed(lab, monkeypatch):
    import experiments.analysis as analysis_module

    setup_experiment(lab, "exp-a", "session", 300, seed=8)
    setup_experiment(lab, "exp-c", "session", 300, seed=9)
    real = analysis_module.analyze_data

    def broken_for_a(spec, data, **kw):
        if spec.id == "exp-a":
            raise TypeError("boom")
        return real(spec, data, **kw)

    monkeypatch.setattr(analysis_module, "analyze_data", broken_for_a)
    results = analyze_all(lab, today=date(2026, 12, 1))
    assert [r.experiment for r in results] == ["exp-a", "exp-c"]
    failed, ok = results
    assert isinstance(failed, AnalysisFailure) and "boom" in failed.error
    assert failed.to_dict() == {"experiment": "exp-a", "error": "TypeError: boom"}
    assert isinstance(ok, ExperimentResult)
    check_shape(ok)


# --- relative effects only where the scale cannot cross zero (issue 13) -------------------------


def test_no_relative_effect_for_a_scale_that_crosses_zero():
    assert CATALOGUE.metric("nps").crosses_zero
    spec = ExperimentSpec.model_validate(spec_dict("exp-n", "session", secondary_metrics=["nps"]))
    data = session_data((2000, 1000), (2000, 1100))
    # NPS near zero: scores −100/0/100, baseline mean 5, treatment mean 30
    data.by_variant["control"]["nps"] = SampleMeanStatistic(400, 400 * 5.0, 400 * 4000.0)
    data.by_variant["treatment"]["nps"] = SampleMeanStatistic(400, 400 * 30.0, 400 * 5000.0)
    result = analyze_data(spec, data, today=date(2026, 12, 1))
    nps = next(m for m in result.to_dict()["metrics"] if m["metric"] == "nps")
    c = nps["comparisons"][0]
    assert c["abs_effect"] == pytest.approx(25.0) and c["p_value"] is not None
    assert (c["rel_effect"], c["rel_ci_low"], c["rel_ci_high"]) == (None, None, None)
    success = result.to_dict()["metrics"][0]["comparisons"][0]
    assert success["rel_effect"] == pytest.approx(0.1)  # a rate keeps its relative effect


def test_zero_baseline_has_no_relative_effect():
    data = MetricData()
    for i, store in enumerate(STORES[:6]):
        rate = 0.0 if i < 3 else 0.1 + 0.02 * i
        data.by_store[store] = {"task_success_rate": ProportionStatistic(n=100, sum=100 * rate)}
        data.sessions_by_store[store] = 100
    result = analyze_data(zero_store_spec(), data, today=date(2026, 12, 1))
    c = result.to_dict()["metrics"][0]["comparisons"][0]
    assert c["abs_effect"] == pytest.approx(0.18) and c["rel_effect"] is None
    assert c["rel_ci_low"] is None and c["rel_ci_high"] is None
