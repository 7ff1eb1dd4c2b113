"""Which metrics one experiment's query computes, and their column names.

The catalogue's metrics always; a spec's ``goal:<name>`` and ``question:<id>[.<option>]``
metrics (``feedback.custom_measures``) only for that spec, one more column each.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from feedback.catalogue import CATALOGUE, Catalogue
from feedback.custom_measures import custom_metric, is_custom

if TYPE_CHECKING:
    from experiments.spec import ExperimentSpec


def column(metric_id: str, suffix: str = "") -> str:
    """A metric's column name, quoted: a prototype's own metrics (``goal:reserved``,
    ``question:size.m``) hold ``:``, ``.`` and ``-``; their names are checked against
    ``feedback.custom_measures``' patterns, so no quote can be in them."""
    return f'"{metric_id}{suffix}"'


def catalogue_for(spec: ExperimentSpec | None) -> Catalogue:
    """The catalogue plus the spec's own ``goal:``/``question:`` metrics (one more column
    each in the one query; nothing more when the spec names none)."""
    custom = [m for m, _ in spec.metric_roles() if is_custom(m)] if spec is not None else []
    if not custom:
        return CATALOGUE
    metrics = {**CATALOGUE.metrics, **{m: custom_metric(m) for m in custom}}
    return Catalogue(instruments=dict(CATALOGUE.instruments), metrics=metrics)


__all__ = ["catalogue_for", "column"]
