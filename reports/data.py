"""Where the reports get their numbers: the analysis, the experiment list and the lab summary.

A thin layer over ``experiments`` and ``feedback.store`` so that the HTML report, the terminal
scorecard and the dashboard ask for data the same way. Connections are opened per call
(``feedback.store.connect`` is short-lived and read-only) and never kept.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from errors import StorelabError

if TYPE_CHECKING:
    from lab import Lab

# Spec fields a report shows in its header when the analysis itself does not carry them.
CONTEXT_FIELDS = ("hypothesis", "prototype", "start", "end", "alpha", "min_effect")


def analyze(lab: Lab, experiment_id: str) -> dict:
    """``experiments.analysis.analyze`` plus the spec's context (hypothesis, dates, alpha)."""
    try:
        from experiments.analysis import analyze as run_analysis
    except ModuleNotFoundError as exc:  # pragma: no cover - until experiments.analysis exists
        if exc.name != "experiments.analysis":
            raise

        raise StorelabError(
            "This installation has no experiments.analysis module; cannot analyse "
            f"{experiment_id!r}."
        ) from exc
    return with_context(lab, run_analysis(lab, experiment_id))


def with_context(lab: Lab, analysis: dict) -> dict:
    """A copy of ``analysis`` with the spec's hypothesis, prototype, dates and alpha filled in."""
    out = dict(analysis)
    missing = [f for f in CONTEXT_FIELDS if out.get(f) is None]
    if not missing:
        return out
    try:
        from experiments.spec import load_experiment

        spec = load_experiment(lab, analysis["experiment"])
    except Exception:  # noqa: BLE001 - context is optional; the numbers stand on their own
        return out
    for name in missing:
        value = getattr(spec, name, None)
        if value is not None:
            out[name] = value.isoformat() if hasattr(value, "isoformat") else value
    return out


def list_experiments(lab: Lab) -> list[str]:
    """Ids of the lab's experiment specs, sorted."""
    from experiments.spec import list_experiments as list_specs

    return list_specs(lab)


def lab_summary(lab: Lab) -> dict | None:
    """``feedback.store.summary`` or ``None`` when the lab has no database yet."""
    if not lab.db_path.exists():
        return None
    from feedback.store import summary

    return summary(lab)


def db_version(lab: Lab) -> int:
    """Changes whenever the database file (or its WAL) changes: a cache key for derived data."""
    version = 0
    for path in (lab.db_path, lab.db_path.with_name(lab.db_path.name + ".wal")):
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue
        version = version * 31 + stat.st_mtime_ns + stat.st_size
    return version
