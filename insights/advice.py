"""Decisions that say what to do: the screens an ``iterate`` or ``extend`` should rework first.

``experiments`` decides (``experiments.decisions``) but may not read the usability report, so
the screens are added here, after the analysis, by every view that shows a decision: the
reports (``reports.data.analyze``: HTML report, ``report show``, dashboard) and
``experiment analyze`` (the command layer). ``with_rework(lab, spec, result)`` is the one call.

Which sessions: the experiment's own (its ``experiment_id``, inside its start..end days) of the
challenger, i.e. the variant label the events carry and the prototype version that variant
shows. With several challengers, the one the primary metric likes best (highest chance to
win; for an ``iterate`` that is the winner whose guardrail suffers). The screens are
``insights.screens.rework_ranking`` of that usability report, the top ``REWORK_TOP``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from errors import InvalidInputError, SpecError
from experiments.results import ExperimentResult, ReworkScreen
from insights.usability import UsabilityQuery, usability_report

if TYPE_CHECKING:
    from experiments.spec import ExperimentSpec
    from insights.usability_results import ScreenEvidence
    from lab import Lab

REWORK_TOP = 3
REWORK_RECOMMENDATIONS = ("iterate", "extend")


def rework_variant(spec: ExperimentSpec, result: ExperimentResult) -> str | None:
    """The challenger whose screens a decision names (see the module docstring)."""
    comps = [c for c in result.primary.comparisons if c.variant != spec.baseline]
    if comps:
        return max(comps, key=lambda c: c.chance_to_win or 0.0).variant
    return next((v for v in spec.variants if v != spec.baseline), None)


def rework_screens(
    lab: Lab, spec: ExperimentSpec, result: ExperimentResult, top: int = REWORK_TOP
) -> tuple[ReworkScreen, ...]:
    """The first ``top`` screens to rework for ``result``'s decision; empty for a decision
    that is not ``iterate``/``extend``, or when the challenger has no usable sessions (a
    prototype the lab lacks, a version without events)."""
    if result.decision.recommendation not in REWORK_RECOMMENDATIONS:
        return ()
    variant = rework_variant(spec, result)
    if variant is None:
        return ()
    version = spec.variants[variant].version
    query = UsabilityQuery(
        version=version, variant=variant, experiment=spec.id, period=(spec.start, spec.end)
    )
    try:
        report = usability_report(lab, spec.prototype, query)
    except (InvalidInputError, SpecError):
        return ()  # nothing to rank: the decision stands without screens
    return tuple(_screen(e, variant, version) for e in report.rework[:top])


def with_rework(lab: Lab, spec: ExperimentSpec, result: ExperimentResult) -> ExperimentResult:
    """``result`` whose decision names the screens to rework (``rework_screens``)."""
    screens = rework_screens(lab, spec, result)
    if not screens:
        return result
    return replace(result, decision=replace(result.decision, rework_screens=screens))


def _screen(e: ScreenEvidence, variant: str, version: int) -> ReworkScreen:
    return ReworkScreen(
        screen=e.screen,
        score=e.score,
        evidence=e.evidence(),
        variant=variant,
        version=version,
        tasks=e.tasks,
        failures=e.failures,
        drop_off_rate=e.drop_off_rate,
        misclicks=e.misclicks,
        misclick_rate=e.misclick_rate,
    )
