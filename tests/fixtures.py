"""Shared test data: an analysis in DESIGN.md's ``analyze --json`` shape and small labs.

Unit, CLI, dashboard and browser tests all use these, so a change of the contract shows up in
one place. Others may add to this module.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import textwrap
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from feedback.catalogue import Instrument, Item
from feedback.events import Event
from reports.data import ExperimentReport

REPORT_FIELDS = {f.name for f in fields(ExperimentReport)} - {"result"}

# Realistic read-out of a store-randomised pilot: 12 stores, 6 per variant. The primary metric won
# (p < 0.05; one challenger, so its decision family is itself and Holm leaves 0.011), secondaries
# are inconclusive, the guardrail did not get worse. As experiments.analysis does: SRM counts are
# stores, each family is adjusted on its own (secondaries: Holm over 2, 0.086·2, then
# max(·, 0.14)), guardrails are not adjusted.
# ANALYSIS_JSON is what `storelab report show --json` prints: every key `experiment analyze
# --json` emits for unit=store (per-comparison ``risk``, ``se``, ``method``, ``sequential``; SRM
# ``expected``; per-store means ``stores``) plus the spec's context (hypothesis, prototype,
# dates, min_effect). ANALYSIS_EXAMPLE is the same, typed, as the reports take it.
_STORES_CONTROL = ["S01", "S03", "S05", "S07", "S09", "S11"]
_STORES_TREATMENT = ["S02", "S04", "S06", "S08", "S10", "S12"]


def _per_store(control: list[float], treatment: list[float], sessions: list[int]) -> list[dict]:
    out = []
    for i, store in enumerate(_STORES_CONTROL):
        out.append(
            {"store_id": store, "variant": "control", "sessions": sessions[i], "mean": control[i]}
        )
    for i, store in enumerate(_STORES_TREATMENT):
        out.append(
            {
                "store_id": store,
                "variant": "treatment",
                "sessions": sessions[i + 6],
                "mean": treatment[i],
            }
        )
    return out


_SESSIONS = [142, 128, 151, 119, 137, 135, 131, 126, 140, 122, 138, 133]
_METHOD = "store_cr2+permutation_exact"

ANALYSIS_JSON: dict = {
    "experiment": "scan-pos-v2",
    "unit": "store",
    "hypothesis": "Showing sizes in nearby stores raises task success.",
    "prototype": "scan-and-discover",
    "start": "2026-11-02",
    "end": "2026-11-29",
    "alpha": 0.05,
    "min_effect": 0.05,
    "correction": "holm",
    "families": {
        "decision": {"correction": "holm", "comparisons": 1},
        "secondary": {"correction": "holm", "comparisons": 2},
        "guardrail": {"correction": "none", "comparisons": 1},
    },
    "srm": {
        "p_value": 1.0,
        "ok": True,
        "counts": {"control": 6, "treatment": 6},
        "unit": "store",
        "planned": {"control": 6, "treatment": 6},
        "expected": {"control": 6.0, "treatment": 6.0},
        "sessions": {"control": 812, "treatment": 790},
        "threshold": 0.001,
    },
    "mislabelled_sessions": {},
    "metrics": [
        {
            "metric": "task_success_rate",
            "role": "primary",
            "kind": "proportion",
            "higher_is_better": True,
            "variants": [
                {"variant": "control", "units": 6, "sessions": 812, "mean": 0.610},
                {"variant": "treatment", "units": 6, "sessions": 790, "mean": 0.672},
            ],
            "comparisons": [
                {
                    "variant": "treatment",
                    "baseline": "control",
                    "abs_effect": 0.062,
                    "ci_low": 0.018,
                    "ci_high": 0.106,
                    "p_value": 0.011,
                    "rel_effect": 0.102,
                    "rel_ci_low": 0.027,
                    "rel_ci_high": 0.177,
                    "p_adjusted": 0.011,
                    "chance_to_win": 0.991,
                    "risk": 0.0004,
                    "significant": True,
                    "se": 0.0224,
                    "method": _METHOD,
                    "dof": 9.4,
                    "sequential": None,  # unit=store: read once, at the end
                }
            ],
            "stores": _per_store(
                [0.58, 0.63, 0.60, 0.59, 0.65, 0.61],
                [0.66, 0.70, 0.64, 0.69, 0.67, 0.675],
                _SESSIONS,
            ),
        },
        {
            "metric": "sus",
            "role": "secondary",
            "kind": "mean",
            "higher_is_better": True,
            "variants": [
                {"variant": "control", "units": 6, "sessions": 455, "mean": 71.4},
                {"variant": "treatment", "units": 6, "sessions": 441, "mean": 74.9},
            ],
            "comparisons": [
                {
                    "variant": "treatment",
                    "baseline": "control",
                    "abs_effect": 3.5,
                    "ci_low": -0.6,
                    "ci_high": 7.6,
                    "p_value": 0.086,
                    "rel_effect": 0.049,
                    "rel_ci_low": -0.009,
                    "rel_ci_high": 0.107,
                    "p_adjusted": 0.172,
                    "chance_to_win": 0.955,
                    "risk": 0.12,
                    "significant": False,
                    "se": 2.09,
                    "method": _METHOD,
                    "dof": 9.4,
                    "sequential": None,  # unit=store: read once, at the end
                }
            ],
            "stores": _per_store(
                [70.2, 73.5, 69.8, 72.1, 71.0, 71.8],
                [75.5, 72.9, 76.8, 74.0, 73.6, 76.6],
                _SESSIONS,
            ),
        },
        {
            "metric": "time_on_task_s",
            "role": "secondary",
            "kind": "mean",
            "higher_is_better": False,
            "variants": [
                {"variant": "control", "units": 6, "sessions": 798, "mean": 48.2},
                {"variant": "treatment", "units": 6, "sessions": 777, "mean": 44.1},
            ],
            "comparisons": [
                {
                    "variant": "treatment",
                    "baseline": "control",
                    "abs_effect": -4.1,
                    "ci_low": -9.8,
                    "ci_high": 1.6,
                    "p_value": 0.14,
                    "rel_effect": -0.085,
                    "rel_ci_low": -0.199,
                    "rel_ci_high": 0.029,
                    "p_adjusted": 0.172,
                    "chance_to_win": 0.93,
                    "risk": 0.21,
                    "significant": False,
                    "se": 2.91,
                    "method": _METHOD,
                    "dof": 9.4,
                    "sequential": None,  # unit=store: read once, at the end
                }
            ],
            "stores": _per_store(
                [51.0, 45.3, 49.9, 46.1, 48.8, 48.1],
                [42.0, 47.5, 43.2, 45.9, 41.8, 44.3],
                _SESSIONS,
            ),
        },
        {
            "metric": "misclick_rate",
            "role": "guardrail",
            "kind": "proportion",
            "higher_is_better": False,
            "variants": [
                {"variant": "control", "units": 6, "sessions": 812, "mean": 0.082},
                {"variant": "treatment", "units": 6, "sessions": 790, "mean": 0.074},
            ],
            "comparisons": [
                {
                    "variant": "treatment",
                    "baseline": "control",
                    "abs_effect": -0.008,
                    "ci_low": -0.021,
                    "ci_high": 0.005,
                    "p_value": 0.21,
                    "rel_effect": -0.098,
                    "rel_ci_low": -0.25,
                    "rel_ci_high": 0.055,
                    "p_adjusted": 0.21,
                    "chance_to_win": 0.89,
                    "risk": 0.0005,
                    "significant": False,
                    "se": 0.0066,
                    "method": _METHOD,
                    "dof": 9.4,
                    "sequential": None,  # unit=store: read once, at the end
                }
            ],
            "stores": _per_store(
                [0.085, 0.079, 0.088, 0.080, 0.077, 0.083],
                [0.071, 0.079, 0.072, 0.076, 0.070, 0.076],
                _SESSIONS,
            ),
        },
    ],
    "decision": {
        "recommendation": "roll_out",
        "reasons": [
            "Task success rate rose by +6.2 pp (95% CI +1.8 to +10.6 pp; Holm-adjusted "
            "p = 0.011), above the minimum effect of interest of 5 pp.",
            "No guardrail got worse: misclick rate −0.8 pp (p = 0.21).",
            "All 12 planned stores delivered data; sample ratio check passed.",
        ],
        "extend_by": None,
        "rework_screens": [],
    },
}


ANALYSIS_EXAMPLE: ExperimentReport = ExperimentReport.from_dict(ANALYSIS_JSON)


def analysis_example(**overrides) -> ExperimentReport:
    """``ANALYSIS_EXAMPLE`` with fields of the report (hypothesis, …) or of its result replaced."""
    context = {k: v for k, v in overrides.items() if k in REPORT_FIELDS}
    result = replace(
        ANALYSIS_EXAMPLE.result, **{k: overrides[k] for k in overrides.keys() - context}
    )
    return replace(ANALYSIS_EXAMPLE, result=result, **context)


def session_analysis_example(today: date = date(2026, 11, 20)) -> ExperimentReport:
    """A session-randomised analysis (so with the sequential reading), four weeks planned, read
    on ``today``: task success 45.0% → 49.5% of 2,000 sessions each (fixed p 0.004, sequential
    p 0.081: before the end it keeps running), time on task 42.0 s → 40.9 s, misclicks equal."""
    from experiments.analysis import analyze_data
    from experiments.metrics import MetricData
    from experiments.spec import ExperimentSpec
    from experiments.statistics import ProportionStatistic, SampleMeanStatistic

    spec = ExperimentSpec.model_validate(
        {
            "id": "scan-pos-sessions",
            "hypothesis": "Showing sizes nearby raises task success.",
            "prototype": "scan-and-discover",
            "unit": "session",
            "variants": {"control": {"version": 1}, "treatment": {"version": 2}},
            "allocation": {"control": 0.5, "treatment": 0.5},
            "stores": ["S01", "S02"],
            "start": date(2026, 11, 2),
            "end": date(2026, 11, 29),
            "primary_metric": "task_success_rate",
            "secondary_metrics": ["time_on_task_s"],
            "guardrails": ["misclick_rate"],
            "min_effect": 0.05,
            "planned_sessions": 5600,
        }
    )
    data = MetricData()
    data.by_variant = {
        variant: {
            "task_success_rate": ProportionStatistic(n=2000, sum=success),
            "time_on_task_s": SampleMeanStatistic(2000, 2000 * mean, 2000 * (mean**2 + 15.0**2)),
            "misclick_rate": ProportionStatistic(n=2000, sum=300),
        }
        for variant, success, mean in (("control", 900, 42.0), ("treatment", 990, 40.9))
    }
    data.sessions_by_variant = {"control": 2000, "treatment": 2000}
    return ExperimentReport.of(spec, analyze_data(spec, data, today=today))


# --- a small lab with real events in DuckDB ---------------------------------------------------


def session_events(
    *,
    store_id: str,
    variant: str,
    success: bool,
    experiment_id: str = "scan-pos-v2",
    prototype_id: str = "scan-and-discover",
    version: int = 1,
    start: datetime | None = None,
) -> list[dict]:
    """Six events of one kiosk session: start, screen, task start, tap, task result, end."""
    t0 = start or datetime(2026, 11, 3, 10, 0, tzinfo=UTC)
    session = str(uuid.uuid4())
    base = {
        "session_id": session,
        "experiment_id": experiment_id,
        "prototype_id": prototype_id,
        "prototype_version": version,
        "variant": variant,
        "store_id": store_id,
        "device": "kiosk",
    }
    kinds = [
        ("session_start", {}),
        ("screen_view", {"screen": "home"}),
        ("task_start", {"task": "find-size", "screen": "home"}),
        ("tap", {"screen": "home", "element": "btn-sizes", "x": 0.4, "y": 0.7}),
        ("task_success" if success else "task_fail", {"task": "find-size", "value": 31.0}),
        ("session_end", {"props": {"reason": "completed"}}),
    ]
    out = []
    for i, (kind, extra) in enumerate(kinds):
        event = {
            **base,
            "event_id": str(uuid.uuid4()),
            "ts": (t0 + timedelta(seconds=10 * i)).isoformat(),
            "type": kind,
            **extra,
        }
        out.append(event)
    return out


def write_sessions(lab, n_sessions: int, *, seed: int = 0) -> int:
    """Emit ``n_sessions`` sessions through ``feedback.sink.SpoolSink``; returns the event count."""
    from feedback.sink import SpoolSink

    stores = [("S01", "control"), ("S02", "treatment"), ("S03", "control"), ("S04", "treatment")]
    count = 0
    with SpoolSink(Path(lab.spool_dir)) as sink:
        for i in range(n_sessions):
            store, variant = stores[(i + seed) % len(stores)]
            start = datetime(2026, 11, 3, 9, 0, tzinfo=UTC) + timedelta(minutes=7 * (i + seed))
            for event in session_events(
                store_id=store, variant=variant, success=(i + seed) % 3 != 0, start=start
            ):
                sink.emit(event)
                count += 1
    return count


def new_lab(path: Path, locale: str = "de", **kwargs):
    """A fresh lab with the sample fleet of 12 stores, as ``storelab init`` makes it."""
    from lab import init_lab
    from sample_data.fleet import default_stores

    return init_lab(path, locale=locale, stores=default_stores(), **kwargs)


def new_test_experiment(lab, experiment_id: str, prototype: str, unit: str, **kwargs):
    """``storelab experiment new``: the prototype's comparison written as an experiment spec."""
    from experiments.spec import new_experiment
    from prototypes.library import comparison_for

    compared = comparison_for(lab, prototype)
    return new_experiment(
        lab,
        experiment_id,
        prototype,
        unit,
        arms=compared.arms,
        what=compared.what,
        instruments=compared.instruments,
        **kwargs,
    )


def add_events(lab, n_sessions: int = 8):
    """Give ``lab`` ``n_sessions`` ingested sessions (6 events each), the scan-and-discover
    prototype and the experiment scan-pos-v2; returns the lab."""
    from feedback.ingest import ingest
    from prototypes.scaffold import new_prototype

    write_sessions(lab, n_sessions)
    ingest(lab)
    new_prototype(lab, "scan-and-discover", "scan-and-discover")
    new_test_experiment(lab, "scan-pos-v2", "scan-and-discover", "store", start=date(2026, 11, 2))
    return lab


# --- a pilot at known times (pilot health) -----------------------------------------------------

# Wednesday 2026-11-25, 11:00 in Berlin (the lab's default time zone): the stores opened at 09:00.
PILOT_NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
PILOT_EXPERIMENT = "pilot-check"


def add_pilot(lab, now: datetime = PILOT_NOW):
    """A running store experiment and events at times relative to ``now``; returns the lab.

    With ``now = PILOT_NOW`` (times in Berlin, which is UTC+1 in November):
    S01  kiosk sessions today 10:30 and 10:45, Tue 16:00, Mon 11:00, Sun 11:00 (last week);
         phone session today 10:50. Listed (control): fine.
    S02  one kiosk session today 08:50, before opening: 120 open minutes ago. Listed: silent.
    S03  no event at all. Listed (control): never seen.
    S04  own hours 14:00-22:00, kiosk session Tue 15:00. Listed: closed now, not flagged.
    S05  kiosk session Mon 11:00; not in the experiment, so not watched.
    Rejected lines: one naming S02, two naming no store. The experiment runs from two days
    before ``now`` (local Monday) for four weeks.
    """
    from zoneinfo import ZoneInfo

    from experiments.spec import parse_experiment, write_experiment
    from feedback.ingest import ingest
    from lab import lab_stores, write_stores_csv

    stores = lab_stores(lab)
    stores["S04"] = replace(stores["S04"], opening_hours="14:00-22:00")
    write_stores_csv(lab.stores_csv, list(stores.values()))
    today = now.astimezone(ZoneInfo(lab.config.pilot.timezone)).date()
    raw = {
        "id": PILOT_EXPERIMENT,
        "hypothesis": "Customers find sizes faster.",
        "prototype": "scan-and-discover",
        "unit": "store",
        "variants": {"control": {"version": 1}, "treatment": {"version": 2}},
        "allocation": {"control": 0.5, "treatment": 0.5},
        "stores": {"control": ["S01", "S03"], "treatment": ["S02", "S04"]},
        "start": today - timedelta(days=2),
        "end": today + timedelta(days=26),
        "primary_metric": "task_success_rate",
    }
    write_experiment(lab, parse_experiment(raw, "pilot-check.yaml"))
    ago = {"min": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}
    sessions = [  # store, device, variant, how long before now
        ("S01", "kiosk", "control", 30 * ago["min"]),
        ("S01", "kiosk", "control", 15 * ago["min"]),
        ("S01", "kiosk", "control", 18 * ago["h"]),
        ("S01", "kiosk", "control", 2 * ago["d"]),
        ("S01", "kiosk", "control", 3 * ago["d"]),
        ("S01", "phone", "control", 10 * ago["min"]),
        ("S02", "kiosk", "treatment", 130 * ago["min"]),
        ("S04", "kiosk", "treatment", 20 * ago["h"]),
        ("S05", "kiosk", "control", 2 * ago["d"]),
    ]
    rows: list[dict | str] = []
    for store, device, variant, before in sessions:
        experiment = None if store == "S05" else PILOT_EXPERIMENT
        for event in session_events(
            store_id=store, variant=variant, success=True, experiment_id=experiment,
            start=now - before,
        ):  # fmt: skip
            rows.append({**event, "device": device})
    rows += [
        make_event(store_id="S02", type="not-a-type"),
        "this line is not JSON",
        {k: v for k, v in make_event(type="tap").items() if k != "store_id"},
    ]
    write_jsonl(lab.spool_dir / "pilot-kiosks.jsonl", rows)
    ingest(lab)
    return lab


# --- prototypes ------------------------------------------------------------------------------

# The smallest prototype that has everything: three screens, a task with an expected path,
# SEQ after the task and NPS at the end, and a treatment variant. Tests change it with
# str.replace or append keys (``variants`` is last, so more variants can be appended).
MINI_PROTOTYPE = textwrap.dedent(
    """\
    id: mini
    title: {de: Mini, en: Mini}
    phase: purchase
    touchpoint: kiosk
    screens:
      - id: start
        elements:
          - {type: heading, id: head, text: {de: Start, en: Start}}
          - {type: button, id: go, label: {de: Weiter, en: Next}, target: shop}
      - id: shop
        elements:
          - {type: text, id: body, text: {de: Laden, en: Shop}}
          - {type: button, id: pay, label: {de: Kasse, en: Checkout}, target: done}
      - id: done
        elements:
          - {type: banner, id: ok, text: {de: Fertig, en: Done}, tone: success}
          - {type: button, id: again, label: {de: Nochmal, en: Again}, target: start}
    tasks:
      - id: buy
        prompt: {de: Kaufen Sie ein., en: Buy something.}
        start_screen: start
        goal_screens: [done]
        expected_path: [start, shop, done]
    questions:
      - {instrument: seq, after_task: buy}
      - {instrument: nps}
    variants:
      treatment:
        elements:
          - {screen: shop, after: body, element: {type: text, id: hint, text: {de: Tipp, en: Tip}}}
    """
)


# --- questions of a prototype's own and goals (issue 15) -------------------------------------

# MINI on a phone with every question type of feedback.question_types after its task or at
# the end, a second design of the shop (shop-b) for the preference test, and two goals.
ASKS_PROTOTYPE = textwrap.dedent(
    """\
    id: asks
    title: {de: Fragen, en: Questions}
    phase: purchase
    touchpoint: phone
    screens:
      - id: start
        elements:
          - {type: heading, id: head, text: {de: Start, en: Start}}
          - {type: button, id: go, label: {de: Weiter, en: Next}, target: shop}
          - type: button
            id: go-b
            label: {de: Andere Ansicht, en: Other view}
            target: shop-b
      - id: shop
        elements:
          - type: text
            id: body
            text: {de: Regenjacke Nordkap 129 Euro, en: Nordkap rain jacket 129 euros}
          - {type: button, id: pay, label: {de: Reservieren, en: Reserve}, target: done}
          - {type: button, id: help, label: {de: Hilfe, en: Help}, target: start, style: secondary}
      - id: shop-b
        elements:
          - {type: banner, id: stock, text: {de: Größe M da, en: Size M here}, tone: success}
          - {type: button, id: pay, label: {de: Jetzt reservieren, en: Reserve now}, target: done}
      - id: done
        elements:
          - {type: banner, id: ok, text: {de: Fertig, en: Done}, tone: success}
          - {type: button, id: again, label: {de: Nochmal, en: Again}, target: start}
    tasks:
      - id: buy
        prompt: {de: Reservieren Sie die Jacke., en: Reserve the jacket.}
        start_screen: start
        goal_screens: [done]
        expected_path: [start, shop, done]
    questions:
      - id: found
        type: single_choice
        after_task: buy
        text: {de: "Haben Sie gefunden, was Sie suchten?", en: "Did you find what you wanted?"}
        options:
          - {id: "yes", label: {de: Ja, en: "Yes"}}
          - {id: partly, label: {de: Teilweise, en: Partly}}
          - {id: "no", label: {de: Nein, en: "No"}}
      - id: channels
        type: multiple_choice
        text: {de: "Wo kaufen Sie Jacken?", en: "Where do you buy jackets?"}
        options:
          - {id: store, label: {de: Im Laden, en: In store}}
          - {id: online, label: {de: Online, en: Online}}
          - {id: app, label: {de: In der App, en: In the app}}
      - id: stars
        type: rating
        text: {de: "Wie gefällt Ihnen die Seite?", en: "How do you like the page?"}
        anchors: [{de: Gar nicht, en: Not at all}, {de: Sehr, en: Very much}]
      - {id: wish, type: open_text, text: {de: "Was fehlt Ihnen?", en: "What is missing?"}}
      - id: layout
        type: preference
        text: {de: "Welche Ansicht ist klarer?", en: "Which view is clearer?"}
        options:
          - {id: a, label: {de: Ansicht A, en: View A}, screen: shop}
          - {id: b, label: {de: Ansicht B, en: View B}, screen: shop-b}
      - id: recall
        type: five_second
        screen: shop
        seconds: 5
        text: {de: "Woran erinnern Sie sich?", en: "What do you remember?"}
        expect: {de: [preis, jacke, euro], en: [price, jacket, euro]}
      - id: where
        type: first_click
        screen: shop
        target: pay
        text: {de: "Wo tippen Sie, um zu reservieren?", en: "Where do you tap to reserve?"}
    goals:
      reserved: {screen: done}
      helped: {element: help}
      checkout: {element: pay, label: {de: Zur Kasse, en: To checkout}}
    variants:
      treatment:
        elements:
          - {screen: shop, after: body, element: {type: text, id: hint, text: {de: Tipp, en: Tip}}}
    """
)


def answer_own_question(at, comment: str, recall: str) -> None:
    """Answer the current question of the prototype's own (issue 15): the first option, every
    option of a multiple choice, the last design, ``recall`` in a five-second test, the target
    of a first-click test; a rating's top, ``comment`` for open text."""
    q, present = session(at).question, keys(at)
    if q.instrument == "first_click":
        click(at, next(k for k in present if k.endswith(f"__{q.custom.screen}__{q.custom.target}")))
    elif "sl_fs_start" in present:
        click(at, "sl_fs_start")
    elif q.instrument == "five_second" and "sl_send_recall" not in present:
        session(at).selections[f"q:{q.id}"] = "shown:0"  # the seconds are over
        at.run()
    elif "sl_send_recall" in present:
        at.text_area(key="sl_recall").input(recall)
        click(at, "sl_send_recall")
    elif "sl_send_choices" in present:
        for key in [k for k in present if k.startswith("sl_opt_")]:
            click(at, key)
        click(at, "sl_send_choices")
    elif options := [k for k in present if k.startswith(("sl_opt_", "sl_pref_"))]:
        click(at, options[0] if options[0].startswith("sl_opt_") else options[-1])
    elif "sl_send" in present:
        at.text_area(key="sl_comment").input(comment)
        click(at, "sl_send")
    else:
        click(at, [k for k in present if k.startswith("sl_scale_")][-1])


# A made-up instrument for the tests that prove one catalogue entry is enough: two items on
# 1-5, the second negatively worded; score 12.5 · ((q1 − 1) + (5 − q2)), 0-100.
TRUST = Instrument(
    id="trust",
    name={"de": "Vertrauen", "en": "Trust"},
    items=(
        # r - 1
        Item(
            "trust.q1",
            {"de": "Ich vertraue diesen Angaben.", "en": "I trust this information."},
            1,
            -1,
        ),
        # negatively worded: 5 - r
        Item("trust.q2", {"de": "Ich würde nachfragen.", "en": "I would double-check."}, -1, 5),
    ),
    scale=(1, 5),
    anchors=({"de": "Gar nicht", "en": "Not at all"}, {"de": "Völlig", "en": "Completely"}),
    factor=12.5,  # (q1 - 1) + (5 - q2) is 0..8 -> 0..100
    description="Trust in the shown information, 0-100",
)


def write_prototype(lab, prototype_id: str = "mini", text: str | None = None):
    """Write ``text`` (default: ``MINI_PROTOTYPE`` with this id) as the lab's prototype."""
    folder = lab.prototypes_dir / prototype_id
    folder.mkdir(parents=True, exist_ok=True)
    if text is None:
        text = MINI_PROTOTYPE.replace("id: mini\n", f"id: {prototype_id}\n", 1)
    (folder / "prototype.yaml").write_text(text, encoding="utf-8")
    return folder / "prototype.yaml"


# --- events, files and servers -----------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]


def make_event(**overrides) -> dict:
    """A valid contract event as a JSON-ready dict; ``overrides`` replace or add fields."""
    base = Event(
        session_id=uuid.uuid4(),
        prototype_id="scan-and-discover",
        prototype_version=1,
        variant="control",
        store_id="S01",
        device="kiosk",
        type="tap",
        screen="home",
        element="btn-sizes",
        x=0.4,
        y=0.7,
    )
    data = json.loads(base.to_json())
    data.update(overrides)
    return data


def write_jsonl(path: Path, rows: list[dict | str]) -> Path:
    """Write rows (dicts as JSON, strings verbatim) one per line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [r if isinstance(r, str) else json.dumps(r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_healthy(url: str) -> bool:
    """Whether a Streamlit server at ``url`` answers its health check."""
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
            return resp.read().decode().strip() == "ok"
    except OSError:
        return False


def wait_healthy(url: str, proc: subprocess.Popen, timeout: float = 90.0) -> None:
    """Wait until the server ``proc`` started answers at ``url``; fail early if it exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode} before it was healthy")
        if server_healthy(url):
            return
        time.sleep(0.3)
    raise RuntimeError(f"streamlit did not answer ok on {url}/_stcore/health in {timeout:.0f}s")


# --- the runtime in AppTest -----------------------------------------------------------------

APP = str(ROOT / "prototypes" / "runtime" / "app.py")
LINK_KINDS = ("btn", "scanbtn", "hit", "spot")


def app_test(lab, monkeypatch, **params: str):
    """Run the runtime script in AppTest for ``lab`` with these URL parameters."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("STORELAB_LAB", str(lab.root))
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def keys(at) -> list[str]:
    """Keys of the buttons on the page."""
    return [b.key for b in at.button]


def click(at, key: str):
    """Click button ``key`` and rerun; fails naming the buttons there are."""
    assert key in keys(at), f"no button {key!r}; buttons: {keys(at)}"
    at.button(key=key).click().run()
    assert not at.exception, at.exception
    return at


def session(at):
    """The customer session the runtime keeps in AppTest's session state."""
    return at.session_state["sl_session"]


def spool_events(lab) -> list[dict]:
    """Every event in the lab's spool files, in file order."""
    rows = []
    for path in sorted(lab.spool_dir.glob("*.jsonl*")):
        rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return rows


def link_key(at, screen: str, target: str) -> str:
    """The widget key of a button/hotspot/scan/card on ``screen`` that goes to ``target``."""
    from prototypes.runtime.render import widget_key

    view = session(at).view
    present = set(keys(at))
    for element, goes_to in view.links(screen):
        if goes_to != target:
            continue
        for kind in LINK_KINDS:
            key = widget_key(kind, screen, element)
            if key in present:
                return key
    raise AssertionError(f"no link from {screen} to {target}; buttons: {sorted(present)}")


def walk_task(at) -> None:
    """Mission card → the task's expected path → goal → 'continue'."""
    s = session(at)
    task = s.task
    click(at, "sl_start_task")
    assert session(at).screen == task.start_screen
    for here, there in zip(task.expected_path, task.expected_path[1:], strict=False):
        click(at, link_key(at, here, there))
        assert session(at).screen == there
    assert session(at).awaiting_next, "the goal screen should show the success bar"
    click(at, "sl_next")


def answer_questions(at, comment: str = "Gute Idee!", recall: str = "Die Jacke") -> None:
    while session(at).phase == "question":
        present = keys(at)
        if session(at).question.custom is not None:
            answer_own_question(at, comment, recall)
            continue
        if "sl_send" in present:
            at.text_area(key="sl_comment").input(comment)
            click(at, "sl_send")
        else:
            scale = [k for k in present if k.startswith("sl_scale_")]
            click(at, scale[-1])


# --- the browser suite ---------------------------------------------------------------------

# `make screenshots` refreshes the pictures in docs/; ordinary test runs leave the checkout clean.
SCREENSHOTS = Path(
    os.environ.get("STORELAB_SCREENSHOTS")
    or Path(os.environ.get("TMPDIR", "/tmp")) / "storelab-shots"
)


def wait_for_app(page, timeout_ms: int = 60_000) -> None:
    """Until streamlit has rendered and finished running the script."""
    page.wait_for_selector("[data-testid='stApp']", timeout=timeout_ms)
    page.wait_for_function(
        "() => !document.querySelector(\"[data-testid='stStatusWidget']\")"
        " && document.querySelector(\"[data-testid='stMainBlockContainer']\")",
        timeout=timeout_ms,
    )


def sample_cli():
    """A Typer app holding only the ``sample`` group, as the real CLI mounts it."""
    import typer

    from clikit import StorelabGroup
    from sample_data.commands import app as sample_app

    root = typer.Typer(cls=StorelabGroup, pretty_exceptions_enable=False)
    root.add_typer(sample_app, name="sample")

    @root.command("noop")
    def noop() -> None:  # a second command keeps "sample" a group
        pass

    return root


@contextmanager
def served_prototype(lab, prototype_id: str, tmp_path_factory, name: str) -> Iterator[str]:
    """``prototype run`` for ``prototype_id`` of ``lab`` on a free port; yields its base URL and
    prints the server's output when it stops (one way for every browser test module)."""
    from prototypes.runtime.launch import run_prototype

    port = free_port()
    log_path = tmp_path_factory.mktemp(f"{name}-server") / "streamlit.log"
    with log_path.open("w") as log:
        proc = run_prototype(lab, prototype_id, port=port, quiet=True, output=log)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc)
        yield url
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=15)
        except (ProcessLookupError, OSError):
            pass
        except Exception:  # noqa: BLE001 - still kill it
            os.killpg(proc.pid, signal.SIGKILL)
        print(f"\n--- {name} server output ---\n" + log_path.read_text(errors="replace"))


# --- journeys across devices in an experiment (tests/test_journey_arms.py) ----------------------

ARMS_EXPERIMENT = """\
    id: arms
    hypothesis: Handing over straight from the greeting raises task success.
    prototype: hello-kiosk
    unit: session
    variants:
      control: {version: 1}
      treatment: {version: 1, variant: treatment}
    allocation: {control: 0.5, treatment: 0.5}
    start: 2026-01-01
    end: 2030-12-31
    primary_metric: task_success_rate
"""


def arms_experiment_lab(lab, monkeypatch):
    """``lab`` with the phone-to-kiosk prototype ``hello-kiosk`` and the experiment ``arms`` on
    it, assigned per session (control and treatment)."""
    from prototypes.scaffold import new_prototype

    new_prototype(lab, "hello-kiosk", "phone-to-kiosk")
    (lab.experiments_dir / "arms.yaml").write_text(textwrap.dedent(ARMS_EXPERIMENT), "utf-8")
    # Session ids from a seeded generator: the arms they hash to are the same on every run, so
    # the phones run both arms and kiosks assigned afresh would land in the other one.
    rng = random.Random(11)
    monkeypatch.setattr(uuid, "uuid4", lambda: uuid.UUID(int=rng.getrandbits(128), version=4))
    return lab


def phone_code(lab, monkeypatch):
    """A phone session walked to the handover screen: (its session, its code)."""
    from prototypes.runtime.render import widget_key

    at = app_test(lab, monkeypatch, prototype="hello-kiosk", store="S01", device="phone")
    click(at, "sl_consent_yes")
    click(at, "sl_start_task")
    click(at, widget_key("hit", "home", "jacket"))
    click(at, widget_key("btn", "product", "to-kiosk"))
    return session(at), session(at).issued["code"]


def kiosk_takes(lab, monkeypatch, code: str, by_link: bool):
    """A kiosk session that takes ``code`` (on its keypad, or from the QR link) and reserves."""
    from prototypes.runtime.render import widget_key

    params = {"journey": code} if by_link else {}
    at = app_test(lab, monkeypatch, prototype="hello-kiosk", store="S01", device="kiosk", **params)
    click(at, "sl_consent_yes")
    if not by_link:
        for key in [*code, "ok"]:
            click(at, widget_key(f"kp{key}", "kiosk-code", "keypad"))
    assert session(at).screen == "kiosk-sizes"
    click(at, widget_key("btn", "kiosk-sizes", "reserve"))
    return session(at)


def handover_journeys(lab, monkeypatch, n: int) -> list[tuple]:
    """``n`` phone-to-kiosk journeys, every other one by QR link: (phone, kiosk) sessions."""
    pairs = []
    for j in range(n):
        phone, handoff = phone_code(lab, monkeypatch)
        pairs.append((phone, kiosk_takes(lab, monkeypatch, handoff.code, by_link=j % 2 == 1)))
    return pairs
