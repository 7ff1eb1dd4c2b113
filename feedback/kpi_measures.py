"""Store KPIs as metrics: ``kpi:<name>`` in an experiment spec names a daily store KPI.

A store KPI (conversion rate, basket value, …) is not measured per session: the lab imports it
per store and day (``storelab feedback import-kpis``, table ``store_kpis``). An experiment with
``unit: store`` may compare it like any other metric by naming it ``kpi:<name>``. What a KPI
is (label, kind, unit, direction) comes from ``KNOWN_KPIS``; a name not listed there is a mean,
higher is better, labelled after its name. Whether the lab has the KPI at all is only known at
analysis time (``experiments.kpis``).
"""

from __future__ import annotations

import re

from feedback.catalogue import CATALOGUE, Metric
from feedback.custom_measures import custom_metric, is_custom

PREFIX = "kpi:"
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

# name -> (kind, higher_is_better, unit, English label, German label)
KNOWN_KPIS: dict[str, tuple[str, bool, str, str, str]] = {
    "conversion_rate": ("proportion", True, "", "Conversion rate (store)", "Konversionsrate"),
    "basket_value": ("mean", True, "EUR", "Basket value (store)", "Warenkorbwert"),
    "footfall": ("mean", True, "", "Footfall (store)", "Besucherfrequenz"),
    "return_rate": ("proportion", False, "", "Return rate (store)", "Retourenquote"),
}


def is_kpi(metric: str) -> bool:
    """True for a metric name of the form ``kpi:<name>``."""
    return metric.startswith(PREFIX)


def kpi_name(metric: str) -> str:
    """``kpi:conversion_rate`` -> ``conversion_rate``."""
    return metric.removeprefix(PREFIX)


def kpi_name_problem(metric: str) -> str | None:
    """Why ``kpi:<name>`` is not a well-formed KPI metric name, or None."""
    if not NAME_RE.match(kpi_name(metric)):
        return (
            f"{metric!r}: write kpi:<name> with the KPI's name as imported "
            "(letters, digits, _ . -), e.g. kpi:conversion_rate"
        )
    return None


def kpi_metric(metric: str) -> Metric:
    """The catalogue-style definition of ``kpi:<name>``: known KPIs, else a mean, higher
    is better."""
    name = kpi_name(metric)
    kind, higher, unit, en, de = KNOWN_KPIS.get(
        name, ("mean", True, "", name.replace("_", " ").capitalize(), "")
    )
    return Metric(
        id=metric,
        kind=kind,  # type: ignore[arg-type]
        higher_is_better=higher,
        label={"en": en, "de": de or en},
        description=f"daily store KPI {name!r} (store_kpis), mean per store and period",
        source="kpi",
        unit=unit,
    )


def measure(metric: str) -> Metric:
    """The definition of any metric an experiment may name: a KPI, a prototype's own goal or
    question (``feedback.custom_measures``) or a catalogue metric."""
    if is_kpi(metric):
        return kpi_metric(metric)
    if is_custom(metric):
        return custom_metric(metric)
    return CATALOGUE.metric(metric)
