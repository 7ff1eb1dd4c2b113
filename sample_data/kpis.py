"""Simulated daily store KPIs with a known effect: the pre-period and the pilot.

Stores differ a lot and stay different, so a store's KPI before the pilot predicts it during
the pilot (the correlation of the period means is about 0.85 for both KPIs below): each store
has a lasting level (``store_sd``), a shock per period (``period_sd``: what the pre-period cannot
predict), and each day adds noise (``daily_sd``) on a weekday pattern (Monday .. Saturday; the
stores are closed on Sundays, so Sundays have no rows). The planted effect is added to every
pilot day of every store running a variant other than the baseline. The rows are the format
``storelab feedback import-kpis`` reads: ``store_id,date,metric,value``.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from errors import InvalidInputError
from feedback.kpi_measures import is_kpi, kpi_name

KPI_FILE = "store_kpis.csv"


@dataclass(frozen=True)
class KpiModel:
    """How one KPI behaves: mean, between-store sd, per-period shock, daily noise, weekdays."""

    mean: float
    store_sd: float
    period_sd: float
    daily_sd: float
    weekday: tuple[float, ...]  # Monday .. Saturday, multiplies the store's level
    low: float = 0.0
    high: float = math.inf
    decimals: int = 4

    @property
    def period_r(self) -> float:
        """Correlation of two 4-week period means of a store (what the pre-period predicts)."""
        level = self.store_sd**2
        return level / (level + self.period_sd**2 + self.daily_sd**2 / 24)


KPI_MODELS: dict[str, KpiModel] = {
    # share of visitors who buy; Saturdays are busy and convert less
    "conversion_rate": KpiModel(0.22, 0.04, 0.015, 0.03, (1.02, 1.03, 1.01, 1.0, 0.97, 0.93), 0, 1),
    # euros per receipt; larger baskets towards the weekend
    "basket_value": KpiModel(
        48.0, 9.0, 3.5, 7.0, (0.95, 0.96, 0.98, 1.0, 1.04, 1.08), 0, math.inf, 2
    ),
}


def split_effects(effects: Mapping[str, object] | None) -> tuple[dict, dict[str, float]]:
    """(session effects, KPI effects by KPI name) from ``--effect`` items; ``kpi:<name>`` keys
    are KPI effects (checked here: a modelled KPI and a finite number)."""
    session: dict = {}
    kpis: dict[str, float] = {}
    for key, value in (effects or {}).items():
        if not is_kpi(key):
            session[key] = value
            continue
        name = kpi_name(key)
        if name not in KPI_MODELS:
            known = ", ".join(f"kpi:{k}" for k in KPI_MODELS)
            raise InvalidInputError(
                f"the simulator cannot plant an effect on {key!r}; valid: {known}"
            )
        try:
            number = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise InvalidInputError(f"--effect {key}={value!r}: not a number") from None
        if not math.isfinite(number):
            raise InvalidInputError(f"--effect {key}={value!r}: must be finite")
        kpis[name] = number
    return session, kpis


@dataclass(frozen=True)
class KpiPlan:
    """What to simulate: the stores, which are treated, the days, the planted effects."""

    stores: Sequence[str]
    treated: frozenset[str]
    first_day: date  # first day of the pre-period
    pilot_start: date
    pilot_end: date
    effects: Mapping[str, float]  # KPI name -> absolute effect on treated stores


def simulate_kpis(plan: KpiPlan, seed: int) -> list[tuple[str, str, str, float]]:
    """Rows ``(store_id, date, metric, value)`` for every KPI model, store and open day."""
    import numpy as np

    rng = np.random.default_rng([seed, 13])
    days = [
        plan.first_day + timedelta(days=i)
        for i in range((plan.pilot_end - plan.first_day).days + 1)
    ]
    open_days = [d for d in days if d.isoweekday() != 7]
    rows = []
    for name, model in KPI_MODELS.items():
        level = model.mean + model.store_sd * rng.standard_normal(len(plan.stores))
        shocks = model.period_sd * rng.standard_normal((len(plan.stores), 2))
        noise = model.daily_sd * rng.standard_normal((len(plan.stores), len(open_days)))
        effect = plan.effects.get(name, 0.0)
        for i, store in enumerate(plan.stores):
            for j, day in enumerate(open_days):
                pilot = day >= plan.pilot_start
                value = level[i] * model.weekday[day.weekday()] + shocks[i, int(pilot)]
                value += noise[i, j]
                if pilot and store in plan.treated:
                    value += effect
                value = min(max(value, model.low), model.high)
                rows.append((store, day.isoformat(), name, round(float(value), model.decimals)))
    return rows


def write_kpi_csv(path: Path, rows: Sequence[tuple[str, str, str, float]]) -> Path:
    """Write the rows as the CSV ``storelab feedback import-kpis`` reads."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["store_id", "date", "metric", "value"])
        writer.writerows(rows)
    return path
