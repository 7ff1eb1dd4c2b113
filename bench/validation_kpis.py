"""Validation study, store KPIs (``kpi:<name>``): coverage, A/A rates, placebo and power.

The product's own simulator (``sample_data.kpis.simulate_kpis``: each store a lasting level, a
shock per period, daily noise on a weekday pattern, the planted effect on the treated stores'
pilot days) writes daily rows for 6+6 of the sample stores over a 28-day pre-period and a
four-week pilot. ``kpi_data`` reduces them to exactly what ``experiments.kpis.load_kpis``
returns (per store: pilot, pre-period and the pre-period's halves; a fast test checks it against
``load_kpis`` on DuckDB), and ``experiments.analysis.analyze_data`` reads them out: ANCOVA on
the pre-period mean, HC2 t interval, randomisation p over the design's assignments, placebo.
Nothing here computes a test.

- **coverage** (``kpi_coverage``): for each design the stores were assigned with
  (``experiments.designs``: random; stratified by the sample stores' region; matched pairs from
  the KPI's own pre-period means, drawn after the pre-period is simulated), the share of 95%
  CIs (absolute and relative) that cover the planted effect, the share of A/A pilots with
  p < alpha and with a CI excluding 0, and the share of A/A placebos flagged.
- **power** (``kpi_power``): ``experiments.power.kpi_mde`` (what ``experiment power --kpi NAME
  --stores 6``, or ``--sd S --pre-period-r R --stores 6``, computes) plans the effect 6+6
  stores detect with 80% power; pilots with that effect planted measure the power achieved.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from bench.validation import AA_GOAL, AFTER_END, ALPHA, COVERAGE_GOAL, END, START, PowerRow
from experiments import designs
from experiments.analysis import analyze_data
from experiments.kpis import KpiData, StoreKpi, kpi_history, placebo_halves
from experiments.metrics import MetricData
from experiments.spec import ExperimentSpec
from sample_data.fleet import default_stores
from sample_data.kpis import KPI_MODELS, KpiModel, KpiPlan, simulate_kpis

VARIANTS = ("control", "treatment")
KPIS = ("kpi:conversion_rate", "kpi:basket_value")
EFFECTS = {"kpi:conversion_rate": 0.02, "kpi:basket_value": 3.0}  # planted for coverage
STORES = default_stores(12)  # the sample fleet: 4 regions of 3 stores, 4 formats
STORE_IDS = [s.store_id for s in STORES]
DESIGN_NAMES = ("random", "stratified", "matched")
STRATA_BY = "region"
POWER_STORES = 6  # per arm
HISTORY_STORES = 42  # the largest sample fleet: the lab whose history plans the --kpi row


def _name(metric: str) -> str:
    return metric.removeprefix("kpi:")


def kpi_spec(metric: str, assignment: designs.Assignment) -> ExperimentSpec:
    """A unit=store experiment with ``metric`` its primary, stores as ``assignment`` drew."""
    return ExperimentSpec.model_validate(
        {
            "id": "validation-kpi",
            "hypothesis": "The study's known truth.",
            "prototype": "validation",
            "unit": "store",
            "variants": {v: {"version": i + 1} for i, v in enumerate(VARIANTS)},
            "allocation": {v: 0.5 for v in VARIANTS},
            **assignment.spec_fields(),
            "start": START,
            "end": END,
            "primary_metric": metric,
            "alpha": ALPHA,
        }
    )


PRE = (START - timedelta(days=28), START - timedelta(days=1))  # the spec's default pre-period
PLACEBO_PRE, PLACEBO_PILOT = placebo_halves(*PRE)
_PERIODS = {"pilot": (START, END), "pre": PRE, "first": PLACEBO_PRE, "second": PLACEBO_PILOT}


def kpi_data(rows: list[tuple[str, str, str, float]], stores: list[str]) -> KpiData:
    """What ``load_kpis`` returns for both KPIs from ``simulate_kpis`` rows, in numpy."""
    store_at = {s: i for i, s in enumerate(stores)}
    names = [_name(m) for m in KPIS]
    days = sorted({r[1] for r in rows})
    day_at = {d: i for i, d in enumerate(days)}
    cells = np.full((len(names), len(stores), len(days)), np.nan)
    for store, day, name, value in rows:
        if name in names and store in store_at:
            cells[names.index(name), store_at[store], day_at[day]] = value
    as_dates = [date.fromisoformat(d) for d in days]
    means, counts = {}, {}
    for period, (a, b) in _PERIODS.items():
        cols = np.array([a <= d <= b for d in as_dates])
        part = cells[:, :, cols]
        counts[period] = np.sum(~np.isnan(part), axis=2)
        with warnings.catch_warnings():  # a store without a day in the period: None below
            warnings.simplefilter("ignore", RuntimeWarning)
            means[period] = np.nanmean(part, axis=2)
    data = KpiData(PRE, PLACEBO_PRE, PLACEBO_PILOT, {m: {} for m in KPIS})

    def value(period: str, k: int, i: int) -> float | None:
        return None if counts[period][k, i] == 0 else float(means[period][k, i])

    for k, metric in enumerate(KPIS):
        for i, store in enumerate(stores):
            if counts["pilot"][k, i] + counts["pre"][k, i] == 0:
                continue
            data.stores[metric][store] = StoreKpi(
                value("pilot", k, i), int(counts["pilot"][k, i]), value("pre", k, i),
                int(counts["pre"][k, i]), value("first", k, i), value("second", k, i),
            )  # fmt: skip
    return data


def _simulate(treated: frozenset[str], effects: dict[str, float], seed: int) -> KpiData:
    plan = KpiPlan(
        STORE_IDS, treated, PRE[0], START, END, {_name(m): e for m, e in effects.items()}
    )
    return kpi_data(simulate_kpis(plan, seed), STORE_IDS)


def assign(design: str, seed: int, metric: str, pre: KpiData | None) -> designs.Assignment:
    """The stores' assignment, drawn as ``experiment new --design DESIGN`` draws it."""
    if design == "random":
        return designs.random_design(STORE_IDS, VARIANTS, seed)
    if design == "stratified":
        by = {s.store_id: str(getattr(s, STRATA_BY)) for s in STORES}
        return designs.stratified_design(by, VARIANTS, seed, STRATA_BY)
    assert pre is not None  # matched: pairs from the KPI's pre-period means
    means = {s: k.pre for s, k in pre.stores[metric].items() if k.pre is not None}
    return designs.matched_design(means, VARIANTS, seed, _name(metric))


def _treated(assignment: designs.Assignment) -> frozenset[str]:
    return frozenset(assignment.stores[VARIANTS[1]])


def true_baseline(model: KpiModel) -> float:
    """The baseline stores' expected pilot mean: the level times the pilot days' weekday mean
    (what the relative effect divides by)."""
    open_days = [
        START + timedelta(days=i)
        for i in range((END - START).days + 1)
        if (START + timedelta(days=i)).isoweekday() != 7
    ]
    return model.mean * float(np.mean([model.weekday[d.weekday()] for d in open_days]))


# --- coverage, A/A rates, placebo ----------------------------------------------------------


@dataclass(frozen=True)
class KpiCoverageRow:
    """One design × KPI: CI coverage of the planted effect, A/A rates and placebo flags."""

    design: str
    metric: str
    effect: float
    runs: int
    coverage: float
    rel_coverage: float | None
    aa_p: float  # A/A pilots with the reported (randomisation) p < alpha
    aa_ci: float  # A/A pilots whose CI excludes 0
    placebo: float  # A/A pilots whose placebo was flagged (p < alpha)
    method: str

    @property
    def baseline(self) -> float:
        """The baseline stores' true pilot mean (the relative effect's denominator)."""
        return true_baseline(KPI_MODELS[_name(self.metric)])

    def failures(self) -> list[str]:
        """The goals this row misses, in words (empty: all met)."""
        out = []
        lo, hi = COVERAGE_GOAL
        for what, value in (("coverage", self.coverage), ("relative", self.rel_coverage)):
            if value is not None and not lo <= value <= hi:
                out.append(f"{what} {value:.3f}")
        lo, hi = AA_GOAL
        for what, value in (
            ("A/A p<alpha", self.aa_p),
            ("A/A CI excludes 0", self.aa_ci),
            ("placebo flagged", self.placebo),
        ):
            if not lo <= value <= hi:
                out.append(f"{what} {value:.3f}")
        return out


def _covers(low: float | None, high: float | None, truth: float) -> bool:
    return low is not None and high is not None and low <= truth <= high


def _read(spec: ExperimentSpec, data: KpiData):
    """The primary comparison as ``experiment analyze`` reports it."""
    return analyze_data(spec, MetricData(), today=AFTER_END, kpis=data).metrics[0].comparisons[0]


def _pilot(design: str, seed: int, effects: dict[str, float]) -> dict[str, tuple]:
    """One simulated pilot of ``design``: per KPI its spec and the data (planted ``effects``).

    Matched pairs come from the pre-period, which the planted effect never touches: the
    pilot is simulated once without it to draw the pairs, then with it on the chosen stores
    (the simulator's draws do not depend on which stores are treated)."""
    pre = _simulate(frozenset(), {}, seed) if design == "matched" else None
    out, by_treated = {}, {}
    for metric in KPIS:
        assignment = assign(design, seed, metric, pre)
        out[metric] = kpi_spec(metric, assignment)
        by_treated.setdefault(_treated(assignment), []).append(metric)
    for treated, metrics in by_treated.items():
        if not effects and pre is not None:
            data = pre
        else:
            data = _simulate(treated, {m: effects[m] for m in metrics if m in effects}, seed)
        for metric in metrics:
            out[metric] = (out[metric], data)
    return out


def kpi_coverage(design: str, runs: int, seed: int = 21) -> list[KpiCoverageRow]:
    """Coverage of the planted effect, A/A rates and placebo flags per KPI for ``design``."""
    counts = {m: np.zeros(5) for m in KPIS}  # covered, rel covered, A/A p, A/A CI, placebo
    methods: dict[str, str] = {}
    for run in range(runs):
        base = (seed * 1000 + DESIGN_NAMES.index(design)) * 1_000_000 + 2 * run
        for kind, effects in (("effect", EFFECTS), ("null", {})):
            pilot = _pilot(design, base + (kind == "null"), effects)
            for metric, (spec, data) in pilot.items():
                c = _read(spec, data)
                methods[metric] = c.method
                hits = counts[metric]
                if kind == "effect":
                    rel = EFFECTS[metric] / true_baseline(KPI_MODELS[_name(metric)])
                    hits[0] += _covers(c.ci_low, c.ci_high, EFFECTS[metric])
                    hits[1] += _covers(c.rel_ci_low, c.rel_ci_high, rel)
                else:
                    hits[2] += c.p_value is not None and c.p_value < ALPHA
                    hits[3] += not _covers(c.ci_low, c.ci_high, 0.0)
                    hits[4] += c.placebo is not None and c.placebo.ok is False
    label = _design_label(design)
    return [
        KpiCoverageRow(
            label, m, EFFECTS[m], runs, *(float(x) for x in counts[m] / runs), methods.get(m, "")
        )  # fmt: skip
        for m in KPIS
    ]


def _design_label(design: str) -> str:
    k = len(STORE_IDS) // 2
    how = {
        "random": "random",
        "stratified": f"stratified by {STRATA_BY}",
        "matched": "matched pairs on the KPI's pre-period",
    }[design]
    return f"store KPI, {k}+{k} sample stores, {how}"


# --- power achieved against power planned --------------------------------------------------


def model_sd_r(model: KpiModel) -> tuple[float, float]:
    """The true between-store sd of a four-week period mean and the correlation of a store's
    pre-period and pilot means, as ``KpiModel.period_r`` has it (24 open days)."""
    var = model.store_sd**2 + model.period_sd**2 + model.daily_sd**2 / 24
    return math.sqrt(var), model.period_r


def kpi_table(rows: list[tuple[str, str, str, float]]):
    """An in-memory DuckDB whose ``store_kpis`` table holds ``rows`` (as import-kpis leaves
    them: store_id, date, metric, value)."""
    import duckdb
    import pyarrow as pa

    cols = list(zip(*rows, strict=True))
    table = pa.table(
        {
            "store_id": pa.array(cols[0]),
            "date": pa.array([date.fromisoformat(d) for d in cols[1]], pa.date32()),
            "metric": pa.array(cols[2]),
            "value": pa.array(cols[3], pa.float64()),
        }
    )
    con = duckdb.connect()
    con.register("rows", table)
    con.execute("CREATE TABLE store_kpis AS SELECT * FROM rows")
    con.unregister("rows")
    return con


def history_sd_r(metric: str, seed: int = 5, stores: int = HISTORY_STORES) -> tuple[float, float]:
    """What ``experiment power --kpi NAME`` reads (``experiments.kpis.kpi_history``): a lab of
    ``stores`` sample stores with eight weeks of simulated KPI history in DuckDB."""
    ids = [s.store_id for s in default_stores(stores)]
    con = kpi_table(simulate_kpis(KpiPlan(ids, frozenset(), PRE[0], START, END, {}), seed))
    try:
        history = kpi_history(con, _name(metric), ids)
    finally:
        con.close()
    return float(history.sd_between), float(history.r or 0.0)


def _power_plan(metric: str, sd: float, r: float) -> float:
    """The effect ``kpi_mde`` says 6+6 stores detect with 80% power (ANCOVA, sd, r)."""
    from experiments.power import KpiDesign, PowerInputs, kpi_mde

    inputs = PowerInputs(baseline=KPI_MODELS[_name(metric)].mean, sd=sd, alpha=ALPHA, power=0.8)
    return float(kpi_mde(POWER_STORES, inputs, KpiDesign(sd, r))["mde_abs"])


POWER_PLANS = ("model", "history")  # --sd/--pre-period-r with the truth; --kpi from a lab


def kpi_power_row(metric: str, plan: str, runs: int, seed: int = 22) -> PowerRow:
    """Power achieved at ``kpi_mde``'s 80% plan for ``metric`` with a random 6+6 design; the
    plan's sd and r are the model's truth (``plan="model"``: ``--sd S --pre-period-r R``) or
    what a lab's history gives (``"history"``: ``--kpi NAME``)."""
    true_sd, true_r = model_sd_r(KPI_MODELS[_name(metric)])
    if plan == "model":
        sd, r = true_sd, true_r
        words = f"kpi_mde(6 stores, sd {sd:.3g}, r {r:.2f}): the truth (--sd --pre-period-r)"
    else:
        sd, r = history_sd_r(metric)
        words = (
            f"kpi_mde(6 stores, sd {sd:.3g}, r {r:.2f}): a lab's {HISTORY_STORES} stores' "
            f"8-week history (--kpi; truth sd {true_sd:.3g}, r {true_r:.2f})"
        )
    effect = _power_plan(metric, sd, r)
    hits = 0
    for run in range(runs):
        at = (seed * 10 + KPIS.index(metric) * 2 + POWER_PLANS.index(plan)) * 1_000_000 + run
        assignment = assign("random", at, metric, None)
        data = _simulate(_treated(assignment), {metric: effect}, at)
        c = _read(kpi_spec(metric, assignment), data)
        hits += c.p_value is not None and c.p_value < ALPHA
    return PowerRow(
        _design_label("random"),
        metric,
        f"{words} → {effect:+.3g} from {KPI_MODELS[_name(metric)].mean:g}",
        0.8,
        hits / runs,
        runs,
        goal=plan == "model",
        note="no goal: the plan is only as good as the history's sd and r",
    )


def kpi_power(runs: int, seed: int = 22) -> list[PowerRow]:
    """Every KPI × plan of ``kpi_power_row``."""
    return [kpi_power_row(m, plan, runs, seed) for m in KPIS for plan in POWER_PLANS]


# --- the whole KPI study, on a few cores ---------------------------------------------------


def _job(job: tuple) -> list:
    if job[0] == "coverage":
        return kpi_coverage(job[1], job[2])
    return [kpi_power_row(*job[1:])]


def kpi_study(runs: int, workers: int = 2) -> tuple[list[KpiCoverageRow], list[PowerRow]]:
    """Coverage rows of every design and power rows of every KPI × plan, ``workers`` processes
    at a time (each row is its own seeded job, so the figures do not depend on ``workers``)."""
    from concurrent.futures import ProcessPoolExecutor

    jobs = [("coverage", d, runs) for d in DESIGN_NAMES]
    jobs += [("power", m, plan, runs) for m in KPIS for plan in POWER_PLANS]
    if workers <= 1:
        done = [_job(j) for j in jobs]
    else:
        with ProcessPoolExecutor(workers) as pool:
            done = list(pool.map(_job, jobs))
    rows = [r for part in done for r in part]
    return [r for r in rows if isinstance(r, KpiCoverageRow)], [
        r for r in rows if isinstance(r, PowerRow)
    ]
