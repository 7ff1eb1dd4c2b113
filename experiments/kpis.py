"""The one place with the SQL that reads store KPIs (``store_kpis``) for experiments and power.

``load_kpis`` reduces the daily rows, inside DuckDB, to one row per KPI and store: the mean over
the pilot (the spec's start..end), over the pre-period (``spec.pre_period_window``) and over
each half of the pre-period (the placebo test: first half as "pre", second half as "pilot").
A KPI the spec names but the lab never imported is a user error here (the spec cannot know
the lab). ``kpi_history`` gives power planning the lab's own stores: their means in the two
most recent windows of ``days`` days, from which the between-store sd and the correlation of
one period with the next are estimated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING

from errors import InvalidInputError
from feedback.kpi_measures import kpi_name

if TYPE_CHECKING:
    import duckdb

    from experiments.spec import ExperimentSpec
    from lab import Lab

_NAMES_SQL = "SELECT DISTINCT metric FROM store_kpis ORDER BY metric"

_PERIODS_SQL = """
SELECT metric, store_id,
    avg("value") FILTER (WHERE date BETWEEN $pilot_start AND $pilot_end) AS pilot,
    count(*) FILTER (WHERE date BETWEEN $pilot_start AND $pilot_end) AS pilot_days,
    avg("value") FILTER (WHERE date BETWEEN $pre_start AND $pre_end) AS pre,
    count(*) FILTER (WHERE date BETWEEN $pre_start AND $pre_end) AS pre_days,
    avg("value") FILTER (WHERE date BETWEEN $pre_start AND $half_end) AS pre_first,
    avg("value") FILTER (WHERE date BETWEEN $half_start AND $pre_end) AS pre_second
FROM store_kpis
WHERE list_contains($metrics, metric) AND list_contains($stores, store_id)
GROUP BY metric, store_id
"""

_STORE_MEANS_SQL = """
SELECT store_id, avg("value") FROM store_kpis
WHERE metric = $metric AND date BETWEEN $first AND $last AND list_contains($stores, store_id)
GROUP BY store_id
"""

_HISTORY_SQL = """
WITH last AS (SELECT max(date) AS d FROM store_kpis WHERE metric = $metric)
SELECT store_id,
    avg("value") FILTER (WHERE date > last.d - $days AND date <= last.d) AS recent,
    avg("value") FILTER (WHERE date > last.d - 2 * $days AND date <= last.d - $days) AS earlier,
    min(last.d) AS last_day
FROM store_kpis, last
WHERE metric = $metric AND ($all_stores OR list_contains($stores, store_id))
GROUP BY store_id
"""


@dataclass(frozen=True)
class StoreKpi:
    """One store's KPI means: pilot, pre-period, and the pre-period's two halves."""

    pilot: float | None
    pilot_days: int
    pre: float | None
    pre_days: int
    pre_first: float | None
    pre_second: float | None


@dataclass(frozen=True)
class KpiData:
    """Per ``kpi:<name>`` metric of a spec: store -> its period means; and the periods."""

    pre_period: tuple[date, date]
    placebo_pre: tuple[date, date]
    placebo_pilot: tuple[date, date]
    stores: dict[str, dict[str, StoreKpi]] = field(default_factory=dict)


def placebo_halves(first: date, last: date) -> tuple[tuple[date, date], tuple[date, date]]:
    """The pre-period cut in two: (first half, second half); an odd day goes to the second."""
    half = ((last - first).days + 1) // 2
    return (first, first + timedelta(days=half - 1)), (first + timedelta(days=half), last)


def lab_kpi_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The KPI names the lab has imported."""
    return [r[0] for r in con.execute(_NAMES_SQL).fetchall()]


def load_kpis(con: duckdb.DuckDBPyConnection, spec: ExperimentSpec) -> KpiData | None:
    """The KPI statistics ``spec``'s ``kpi:<name>`` metrics need (None when it has none)."""
    metrics = spec.kpi_metrics
    if not metrics:
        return None
    known = lab_kpi_names(con)
    for metric in metrics:
        if kpi_name(metric) not in known:
            raise InvalidInputError(
                f"{spec.id}: {metric}: the lab has no store KPI {kpi_name(metric)!r} "
                f"(imported: {', '.join(known) or 'none yet'}). Import it with "
                "`storelab feedback import-kpis FILE.csv` (store_id,date,metric,value)."
            )
    pre = spec.pre_period_window
    first_half, second_half = placebo_halves(*pre)
    params = {
        "pilot_start": spec.start,
        "pilot_end": spec.end,
        "pre_start": pre[0],
        "pre_end": pre[1],
        "half_end": first_half[1],
        "half_start": second_half[0],
        "metrics": [kpi_name(m) for m in metrics],
        "stores": spec.store_list or [""],
    }
    data = KpiData(pre, first_half, second_half, {m: {} for m in metrics})
    for name, store, pilot, pilot_days, pre_mean, pre_days, a, b in con.execute(
        _PERIODS_SQL, params
    ).fetchall():
        data.stores[f"kpi:{name}"][store] = StoreKpi(
            pilot, int(pilot_days), pre_mean, int(pre_days), a, b
        )
    return data


@dataclass(frozen=True)
class KpiHistory:
    """The lab's stores on one KPI: the two most recent windows of ``days`` days."""

    name: str
    days: int
    last_day: date | None
    stores: int  # stores with a mean in both windows
    mean: float | None  # of the recent store means
    sd_between: float | None  # sd of the recent store means (between stores)
    r: float | None  # correlation of a store's earlier and recent mean

    def to_dict(self) -> dict:
        return {
            "kpi": self.name,
            "window_days": self.days,
            "last_day": None if self.last_day is None else self.last_day.isoformat(),
            "stores": self.stores,
            "mean": self.mean,
            "sd_between_stores": self.sd_between,
            "pre_pilot_r": self.r,
        }


def kpi_history(
    con: duckdb.DuckDBPyConnection, name: str, stores: list[str] | None = None, days: int = 28
) -> KpiHistory:
    """Between-store sd and period-to-period correlation of KPI ``name`` in the lab."""
    if name not in lab_kpi_names(con):
        known = ", ".join(lab_kpi_names(con)) or "none yet"
        raise InvalidInputError(
            f"the lab has no store KPI {name!r} (imported: {known}); "
            "import it with `storelab feedback import-kpis FILE.csv`"
        )
    rows = con.execute(
        _HISTORY_SQL,
        {"metric": name, "days": days, "all_stores": not stores, "stores": stores or [""]},
    ).fetchall()
    pairs = [(e, r) for _, r, e, _ in rows if r is not None and e is not None]
    last_day = rows[0][3] if rows else None
    if len(pairs) < 3:
        return KpiHistory(name, days, last_day, len(pairs), None, None, None)
    import numpy as np

    earlier, recent = np.array(pairs).T
    r = float(np.corrcoef(earlier, recent)[0, 1]) if earlier.std() and recent.std() else None
    sd = float(recent.std(ddof=1))
    return KpiHistory(
        name,
        days,
        last_day,
        len(pairs),
        float(recent.mean()),
        sd,
        r if r is None or math.isfinite(r) else None,
    )


def lab_kpi_history(lab: Lab, name: str, days: int = 28) -> KpiHistory:
    """``kpi_history`` for the lab's own stores (stores.csv; every store if it lists none).

    Needs at least 3 stores with data in both windows and some spread between them."""
    from feedback.store import connect
    from lab import lab_stores

    stores = list(lab_stores(lab)) if lab.stores_csv.is_file() else []
    with connect(lab, read_only=True) as con:
        history = kpi_history(con, name, stores, days)
    if history.sd_between is None or not history.sd_between > 0:
        raise InvalidInputError(
            f"store KPI {name!r}: {history.stores} store(s) have data in both of the last two "
            f"{days}-day windows; power planning needs at least 3 that differ"
        )
    return history


def pre_period_means(
    lab: Lab, name: str, stores: list[str], first: date, last: date
) -> dict[str, float]:
    """Each store's mean of KPI ``name`` from ``first`` to ``last`` (stores without data are
    missing); for matching stores before a pilot (``experiments.designs``)."""
    from feedback.store import connect

    with connect(lab, read_only=True) as con:
        if name not in lab_kpi_names(con):
            known = ", ".join(lab_kpi_names(con)) or "none yet"
            raise InvalidInputError(
                f"--design matched: the lab has no store KPI {name!r} to match on (imported: "
                f"{known}). Import it with `storelab feedback import-kpis FILE.csv`."
            )
        rows = con.execute(
            _STORE_MEANS_SQL, {"metric": name, "first": first, "last": last, "stores": stores}
        ).fetchall()
    return {store: float(mean) for store, mean in rows}
