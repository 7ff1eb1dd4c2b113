"""Fill a lab with simulated pilot data: stores, prototype, experiment, spool events, ingest.

``generate_sample`` is what ``storelab sample generate``, ``storelab demo`` and the tests call.
It only adds what is missing (an existing stores.csv, prototype or experiment is used as it is),
writes events through the spool like the prototype runtime does, and ingests them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from errors import InvalidInputError

if TYPE_CHECKING:
    from lab import Lab

PROTOTYPE_ID = "scan-and-discover"
TEMPLATE_ID = "scan-and-discover"
EXPERIMENT_ID = "scan-and-discover-pilot"
PILOT_WEEKS = 4


def finished_pilot_window(today: date | None = None, weeks: int = PILOT_WEEKS) -> tuple[date, date]:
    """The last ``weeks`` full weeks (Monday to Sunday) that ended before ``today``.

    Sample pilots are dated there so that they read as finished: the analysis can then say
    what to decide rather than "keep running". The truth file records the period used.
    """
    today = today or date.today()
    end = today - timedelta(days=today.isoweekday())  # the last Sunday before today
    return end - timedelta(days=7 * weeks - 1), end


def parse_effects(items: list[str] | None) -> dict[str, float]:
    """``["task_success_rate=0.05", "sus=4", "kpi:conversion_rate=0.01"]`` -> dict; bad items
    raise ``InvalidInputError``."""
    from sample_data.calibration import validate_effects
    from sample_data.kpis import split_effects

    raw: dict[str, str] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise InvalidInputError(f"--effect {item!r}: write METRIC=VALUE, e.g. sus=4")
        raw[name.strip()] = value.strip()
    session, kpis = split_effects(raw)
    return {**validate_effects(session), **{f"kpi:{k}": v for k, v in kpis.items()}}


def ensure_stores(lab: Lab, stores: int, seed: int) -> list[Any]:
    """The pilot's stores: the lab's stores.csv (written with ``stores`` stores if missing)."""
    from lab import read_stores, write_stores_csv
    from sample_data.fleet import default_stores

    if not lab.stores_csv.is_file():
        write_stores_csv(lab.stores_csv, default_stores(stores, seed))
    fleet = read_stores(lab.stores_csv)
    if len(fleet) < 2:
        raise InvalidInputError(f"{lab.stores_csv} lists {len(fleet)} store(s); a pilot needs 2+")
    return fleet[:stores] if stores >= 2 else fleet


def ensure_prototype(lab: Lab, prototype_id: str = PROTOTYPE_ID) -> bool:
    """Scaffold the scan-and-discover prototype if the lab lacks it; True if it was created."""
    from prototypes.library import has_prototype
    from prototypes.scaffold import new_prototype

    if has_prototype(lab, prototype_id):
        return False
    new_prototype(lab, prototype_id, TEMPLATE_ID)
    return True


def ensure_experiment(
    lab: Lab,
    store_ids: list[str],
    experiment_id: str | None = None,
    start: date | None = None,
    end: date | None = None,
) -> tuple[Any, bool]:
    """The experiment to simulate: ``experiment_id``, else the lab's first, else a new one."""
    from experiments.spec import (
        list_experiments,
        load_experiment,
        parse_experiment,
        write_experiment,
    )
    from prototypes.library import load_lab_prototype

    if experiment_id:
        return load_experiment(lab, experiment_id), False
    existing = list_experiments(lab)
    if existing:
        return load_experiment(lab, existing[0]), False
    ensure_prototype(lab)
    if start is None or end is None:
        start, end = finished_pilot_window()
    proto = load_lab_prototype(lab, PROTOTYPE_ID)
    version = proto.current_version
    variants = proto.variant_names(version)
    treatment = next((v for v in variants if v != "control"), None)
    raw = {
        "id": EXPERIMENT_ID,
        "hypothesis": "Showing sizes in nearby stores on the product screen raises task success.",
        "prototype": PROTOTYPE_ID,
        "unit": "store",
        "variants": {
            "control": {"version": version},
            "treatment": {"version": version, "variant": treatment}
            if treatment
            else {"version": version},
        },
        "allocation": {"control": 0.5, "treatment": 0.5},
        "stores": {"control": store_ids[0::2], "treatment": store_ids[1::2]},
        "start": start,
        "end": end,
        "primary_metric": "task_success_rate",
        "secondary_metrics": ["umux_lite", "time_on_task_s", "kpi:conversion_rate"],
        "guardrails": ["misclick_rate", "kpi:basket_value"],
        "alpha": 0.05,
        "power": 0.8,
        "min_effect": 0.05,
    }
    spec = parse_experiment(raw, f"{lab.experiments_dir}/{EXPERIMENT_ID}.yaml")
    write_experiment(lab, spec)
    return spec, True


def generate_sample(
    lab: Lab,
    stores: int = 12,
    sessions: int = 2_000,
    seed: int = 7,
    effects: Mapping[str, float] | None = None,
    progress: Callable[[int, int], None] | None = None,
    *,
    experiment_id: str | None = None,
    icc: float = 0.03,
    ingest: bool = True,
    ingest_progress: Callable[[int, int, str], None] | None = None,
    start: date | None = None,
    end: date | None = None,
    problem: Any = None,
) -> dict[str, Any]:
    """Stores, prototype and experiment (if missing), simulated events, ingest; a summary.

    ``start``/``end`` date a newly made experiment (default: the four full weeks before today;
    an existing spec keeps its own dates). ``problem``: a ``sample_data.problem.PlantedProblem``
    to plant on one screen; the summary's ``problem`` is the truth about it.
    """
    from sample_data.calibration import validate_effects
    from sample_data.kpis import split_effects
    from sample_data.simulate import simulate_pilot

    session_effects, kpi_effects = split_effects(effects)
    effects_ = validate_effects(session_effects)
    fleet = ensure_stores(lab, stores, seed)
    created_prototype = ensure_prototype(lab)
    spec, created_experiment = ensure_experiment(
        lab, [s.store_id for s in fleet], experiment_id, start, end
    )
    if kpi_effects and spec.unit != "store":
        raise InvalidInputError(
            f"KPI effects need a unit=store experiment; {spec.id} has unit={spec.unit}"
        )
    result = simulate_pilot(lab, spec, sessions, seed, effects_, progress, icc=icc,
                            problem=problem)  # fmt: skip
    summary: dict[str, Any] = {
        "lab": str(lab.root),
        "experiment": spec.id,
        "prototype": spec.prototype,
        "created": {"prototype": created_prototype, "experiment": created_experiment},
        "stores": len(spec.store_list),
        "sessions": result.sessions,
        "events": result.events,
        "files": [str(f) for f in result.files],
        "seconds": round(result.seconds, 3),
        "sessions_per_second": round(result.sessions_per_second, 1),
        "seed": seed,
        "effects": effects_,
        "true_effects": {
            m: v
            for m, v in result.truth["true_effects"].items()
            if m in result.truth["measured_metrics"]
        },
        "truth": str(result.truth_path),
    }
    if "problem" in result.truth:
        summary["problem"] = result.truth["problem"]
    if spec.unit == "store":
        summary["kpis"] = write_sample_kpis(
            lab, spec, [s.store_id for s in fleet], seed, kpi_effects
        )
    if ingest:
        from feedback.exchange import import_kpis
        from feedback.ingest import ingest as ingest_spool

        report = ingest_spool(lab, progress=ingest_progress)
        summary["ingest"] = report.to_dict()
        if "kpis" in summary:
            summary["kpis"]["import"] = import_kpis(lab, Path(summary["kpis"]["file"]))
    return summary


def write_sample_kpis(
    lab: Lab, spec: Any, stores: list[str], seed: int, effects: Mapping[str, float]
) -> dict[str, Any]:
    """Daily KPIs of the lab's stores over the spec's pre-period and pilot, with ``effects``
    planted on the stores running a challenger; written to ``lab/store_kpis.csv``."""
    from sample_data.kpis import KPI_FILE, KPI_MODELS, KpiPlan, simulate_kpis, write_kpi_csv

    first, _ = spec.pre_period_window
    treated = frozenset(s for s, v in spec.store_variants.items() if v != spec.baseline)
    every = list(dict.fromkeys([*stores, *spec.store_list]))
    plan = KpiPlan(every, treated, min(first, spec.start), spec.start, spec.end, effects)
    path = write_kpi_csv(lab.root / KPI_FILE, simulate_kpis(plan, seed))
    challengers = list(spec.variants)[1:]
    return {
        "file": str(path),
        "kpis": list(KPI_MODELS),
        "pre_period": [d.isoformat() for d in spec.pre_period_window],
        "true_effects": {
            f"kpi:{k}": {v: effects.get(k, 0.0) for v in challengers} for k in KPI_MODELS
        },
        "period_r": {f"kpi:{k}": round(m.period_r, 3) for k, m in KPI_MODELS.items()},
    }
