"""The pilot simulator: contract events, determinism, planted effects, store clustering."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from errors import InvalidInputError
from feedback.catalogue import CATALOGUE, Metric
from feedback.events import END_REASONS, EVENT_TYPES, FIELDS, Event
from sample_data.calibration import validate_effects
from sample_data.design import PilotDesign, make_design
from sample_data.simulate import simulate_pilot
from tests.fixtures import TRUST

QUESTION_IDS = {
    "seq", "nps", "csat", "ces", "comment", "umux_lite.q1", "umux_lite.q2",
    *(f"sus.q{i}" for i in range(1, 11)),
}  # fmt: skip
EVEN = [f"S{i:02d}" for i in range(2, 13, 2)]
ODD = [f"S{i:02d}" for i in range(1, 13, 2)]


@pytest.fixture(scope="module")
def views():
    from prototypes.library import load_prototype
    from prototypes.templates import template_path

    proto = load_prototype(template_path("scan-and-discover"))
    return {"control": proto.resolve(None, None), "treatment": proto.resolve(None, "treatment")}


def design(views, unit="store", **kw) -> PilotDesign:
    stores = {"control": ODD, "treatment": EVEN} if unit == "store" else ODD + EVEN
    return make_design(views, {"control": 1, "treatment": 1}, stores, unit, **kw)


def read_events(files: list[Path]) -> list[dict]:
    rows = []
    for f in files:
        with f.open(encoding="utf-8") as fh:
            rows.extend(json.loads(line) for line in fh)
    return rows


def per_session_success(files: list[Path]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per-session task success rate by variant, reduced in DuckDB (never the lab database)."""
    import duckdb

    paths = [str(f) for f in files]
    con = duckdb.connect()
    rows = con.execute(
        """
        WITH ev AS (SELECT * FROM read_json($paths, columns = {session_id: 'VARCHAR',
                 variant: 'VARCHAR', store_id: 'VARCHAR', type: 'VARCHAR', task: 'VARCHAR'})),
        t AS (SELECT session_id, task, bool_or(type = 'task_success') AS ok
              FROM ev WHERE type IN ('task_start', 'task_success') GROUP BY ALL)
        SELECT any_value(ev.variant), any_value(ev.store_id), avg(t.ok::DOUBLE)
        FROM t JOIN (SELECT DISTINCT session_id, variant, store_id FROM ev) ev USING (session_id)
        GROUP BY t.session_id
        """,
        {"paths": paths},
    ).fetchall()
    con.close()
    out: dict[str, tuple[list, list]] = {}
    for variant, store, value in rows:
        out.setdefault(variant, ([], []))
        out[variant][0].append(value)
        out[variant][1].append(store)
    return {v: (np.array(a), np.array(s)) for v, (a, s) in out.items()}


def test_same_seed_same_files(tmp_path, views):
    runs = []
    for name in ("a", "b"):
        res = simulate_pilot(tmp_path / name, design(views), sessions=400, seed=11,
                             effects={"task_success_rate": 0.05}, mc_sessions=4000)  # fmt: skip
        runs.append(b"".join(f.read_bytes() for f in res.files))
    assert runs[0] == runs[1]
    other = simulate_pilot(tmp_path / "c", design(views), sessions=400, seed=12, mc_sessions=4000)
    assert b"".join(f.read_bytes() for f in other.files) != runs[0]


def test_every_event_meets_the_contract(tmp_path, views):
    res = simulate_pilot(tmp_path / "spool", design(views, unit="session"), sessions=600, seed=3,
                         chunk_sessions=250, truth_path=tmp_path / "truth.json",
                         mc_sessions=4000)  # fmt: skip
    assert len(res.files) == 3
    rows = read_events(res.files)
    assert len(rows) == res.events
    assert all(list(r) == list(FIELDS) for r in rows[:50])
    types = {r["type"] for r in rows}
    assert types <= set(EVENT_TYPES)
    assert {"session_start", "consent", "screen_view", "tap", "misclick", "task_start",
            "task_success", "answer", "comment", "session_end"} <= types  # fmt: skip
    assert {r["question"] for r in rows if r["question"]} <= QUESTION_IDS
    assert {r["props"]["reason"] for r in rows if r["type"] == "session_end"} <= set(END_REASONS)
    assert len({r["event_id"] for r in rows}) == len(rows)
    assert len({r["session_id"] for r in rows}) == 600
    for row in rows[:: max(1, len(rows) // 800)]:
        Event.model_validate(row)  # raises on any contract violation
    for r in rows:
        if r["type"] in ("tap", "misclick"):
            assert 0 <= r["x"] <= 1 and 0 <= r["y"] <= 1
            assert (r["element"] is None) == (r["type"] == "misclick")
        if r["type"] == "answer":
            assert r["value"] is not None
    # Berlin opening hours (Mon-Sat 10-20) in November: offset +01:00
    hours = {int(r["ts"][11:13]) for r in rows}
    assert min(hours) >= 10 and max(hours) <= 21
    assert all(r["ts"].endswith("+01:00") for r in rows)
    truth = json.loads((tmp_path / "truth.json").read_text())
    assert truth["sessions"] == 600 and truth["seed"] == 3
    assert set(truth["store_effects"]) == set(ODD + EVEN)


def test_session_ends_and_store_variants_are_consistent(tmp_path, views):
    res = simulate_pilot(tmp_path, design(views), sessions=500, seed=5, mc_sessions=4000)
    rows = read_events(res.files)
    by_store = {}
    for r in rows:
        by_store.setdefault(r["store_id"], set()).add(r["variant"])
    assert all(len(v) == 1 for v in by_store.values())
    assert {s for s, v in by_store.items() if v == {"treatment"}} <= set(EVEN)
    # every session ends once, except a phone page closed after consent (the runtime then
    # writes nothing more)
    ends = [r["session_id"] for r in rows if r["type"] == "session_end"]
    assert len(ends) == len(set(ends))
    closed = {r["session_id"] for r in rows} - set(ends)
    assert closed and {r["device"] for r in rows if r["session_id"] in closed} == {"phone"}


def test_realised_success_difference_matches_the_truth(tmp_path, views):
    effect = 0.06
    res = simulate_pilot(tmp_path, design(views, unit="session"), sessions=30_000, seed=21,
                         effects={"task_success_rate": effect},
                         truth_path=tmp_path / "truth.json")  # fmt: skip
    print(f"\nsimulate_pilot: {res.sessions_per_second:,.0f} sessions/s end to end "
          f"({res.events:,} events, {res.seconds:.1f} s with calibration and spool)")  # fmt: skip
    truth = res.truth
    assert truth["true_effects"]["task_success_rate"]["treatment"] == pytest.approx(
        effect, abs=1e-3
    )
    data = per_session_success(res.files)
    (c, _), (t, _) = data["control"], data["treatment"]
    diff = t.mean() - c.mean()
    se = math.sqrt(t.var(ddof=1) / len(t) + c.var(ddof=1) / len(c))
    expected = (
        truth["conditional_means"]["task_success_rate"]["treatment"]
        - truth["conditional_means"]["task_success_rate"]["control"]
    )
    assert abs(diff - expected) < 4 * se, (diff, expected, se)
    assert abs(diff - effect) < 4 * se + 0.01


def _icc_estimate(values: np.ndarray, groups: np.ndarray) -> float:
    """One-way ANOVA estimate of the intra-class correlation."""
    labels = np.unique(groups)
    k, n = len(labels), len(values)
    sizes = np.array([np.sum(groups == g) for g in labels])
    means = np.array([values[groups == g].mean() for g in labels])
    ssb = np.sum(sizes * (means - values.mean()) ** 2)
    ssw = sum(np.sum((values[groups == g] - m) ** 2) for g, m in zip(labels, means, strict=True))
    msb, msw = ssb / (k - 1), ssw / (n - k)
    m0 = (n - np.sum(sizes**2) / n) / (k - 1)
    return float((msb - msw) / (msb + (m0 - 1) * msw))


def test_store_effects_produce_clustering(tmp_path, views):
    estimates = {}
    for icc in (0.0, 0.25):
        res = simulate_pilot(tmp_path / str(icc), design(views, unit="session"), sessions=8000,
                             seed=4, icc=icc, mc_sessions=4000)  # fmt: skip
        assert res.truth["icc"]["success_logit"] == icc
        values, stores = zip(*[per_session_success(res.files)[v] for v in ("control", "treatment")],
                             strict=True)  # fmt: skip
        estimates[icc] = _icc_estimate(np.concatenate(values), np.concatenate(stores))
    assert estimates[0.25] > 0.01
    assert estimates[0.25] > estimates[0.0]


def test_unknown_effect_metric_lists_the_valid_ones(tmp_path, views):
    with pytest.raises(InvalidInputError) as err:
        simulate_pilot(tmp_path, design(views), sessions=10, effects={"happiness": 1})
    assert "task_success_rate" in str(err.value) and "sus" in str(err.value)


def test_unreachable_effect_is_a_user_error(tmp_path, views):
    with pytest.raises(InvalidInputError, match="cannot plant"):
        simulate_pilot(tmp_path, design(views), sessions=10, effects={"task_success_rate": 0.9},
                       mc_sessions=2000)  # fmt: skip


def test_effect_on_an_unasked_instrument_still_shifts_satisfaction(tmp_path, views):
    res = simulate_pilot(tmp_path, design(views), sessions=50, seed=2, effects={"sus": 4},
                         mc_sessions=20_000)  # fmt: skip
    truth = res.truth
    assert "sus" not in truth["measured_metrics"] and "umux_lite" in truth["measured_metrics"]
    assert truth["true_effects"]["sus"]["treatment"] == pytest.approx(4, abs=0.01)
    assert truth["true_effects"]["umux_lite"]["treatment"] > 1


def _trust_views(tmp_path: Path) -> dict:
    """The scan-and-discover template asking ``trust`` and a comment at the end."""
    import yaml

    from prototypes.library import load_prototype
    from prototypes.templates import template_path

    raw = yaml.safe_load(template_path("scan-and-discover").read_text(encoding="utf-8"))
    raw["questions"] = [{"instrument": "trust"}, {"instrument": "comment"}]
    path = tmp_path / "trust.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    proto = load_prototype(path)
    return {"control": proto.resolve(None, None), "treatment": proto.resolve(None, "treatment")}


def test_a_new_catalogue_instrument_is_simulated_and_its_effect_planted(tmp_path):
    effect = 10.0  # on the 0-100 score
    with CATALOGUE.extended(TRUST):
        inst = CATALOGUE.instrument("trust")
        res = simulate_pilot(tmp_path / "spool", design(_trust_views(tmp_path), unit="session"),
                             sessions=4000, seed=8, effects={"trust": effect},
                             mc_sessions=20_000)  # fmt: skip
    truth = res.truth
    assert truth["effects_requested"] == {"trust": effect}
    assert "trust" in truth["measured_metrics"] and "sus" not in truth["measured_metrics"]
    assert truth["true_effects"]["trust"]["treatment"] == pytest.approx(effect, abs=0.01)
    assert "trust" in truth["parameters"]["treatment"]["satisfaction_shift"]
    # the answers: both items on the scale, the reversed one low where the other is high
    answers: dict[str, dict[str, float]] = {}
    variant = {}
    for r in read_events(res.files):
        variant[r["session_id"]] = r["variant"]
        if r["type"] == "answer":
            assert r["question"] in inst.item_ids and 1 <= r["value"] <= 5
            answers.setdefault(r["session_id"], {})[r["question"]] = r["value"]
    full = {s: a for s, a in answers.items() if set(a) == set(inst.item_ids)}
    q1 = np.array([a["trust.q1"] for a in full.values()])
    q2 = np.array([a["trust.q2"] for a in full.values()])
    assert q1.mean() > 3 > q2.mean() and np.corrcoef(q1, q2)[0, 1] < 0
    # the realised difference in the score matches the truth for these stores
    scores = {v: np.array([inst.score(a) for s, a in full.items() if variant[s] == v])
              for v in ("control", "treatment")}  # fmt: skip
    c, t = scores["control"], scores["treatment"]
    se = math.sqrt(t.var(ddof=1) / len(t) + c.var(ddof=1) / len(c))
    cond = truth["conditional_means"]["trust"]
    diff = t.mean() - c.mean()
    assert abs(diff - (cond["treatment"] - cond["control"])) < 4 * se, (diff, cond, se)
    assert diff > effect / 2


def test_only_metrics_the_model_can_steer_take_an_effect():
    scans = Metric(
        id="scan_rate",
        kind="proportion",
        higher_is_better=True,
        label={"de": "Scans", "en": "Scans"},
        description="sessions that showed the scan screen",
        source="events",
        sql="max(CASE WHEN screen = 'scan' THEN 1.0 ELSE 0.0 END)",
    )
    with CATALOGUE.extended(TRUST, scans):
        assert validate_effects({"trust": 2}) == {"trust": 2.0}
        for name in ("scan_rate", "completion_rate"):
            with pytest.raises(InvalidInputError, match="cannot plant") as err:
                validate_effects({name: 0.1})
            valid = str(err.value).split("valid: ")[1].split(", ")
            assert "trust" in valid and "task_success_rate" in valid and name not in valid
    with pytest.raises(InvalidInputError, match="unknown metric 'trust'"):
        validate_effects({"trust": 2})
