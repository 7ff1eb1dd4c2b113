"""Screens to rework: a pure ranking of a prototype's screens by the trouble they cause.

``rework_ranking(report)`` adds up, per screen over all tasks of a ``UsabilityReport``, the
failed runs that ended there (give up, timeout, left: the drop-off) and the misclicks on it, and
ranks the screens by their share of the prototype's trouble::

    score = (failure_share + misclick_share) / 2
    failure_share  = failed runs that ended on the screen / all failed runs
    misclick_share = misclicks on the screen / all misclicks

Both shares sum to 1 over the screens, so the score is "the screen's part of what went wrong"
(ties: the higher drop-off rate first, then the screen id). Screens with neither failures nor
misclicks are left out. Each ``ScreenEvidence`` carries its numbers and ``evidence()``, one line
that a decision ("iterate", "extend") can quote.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from insights.usability_results import ScreenEvidence

if TYPE_CHECKING:
    from insights.usability_results import UsabilityReport


def rework_ranking(report: UsabilityReport) -> tuple[ScreenEvidence, ...]:
    """The report's screens ranked by their contribution to failures, drop-off and misclicks
    (best candidate for rework first); see the module docstring for the formula."""
    acc: dict[str, dict] = defaultdict(
        lambda: {"tasks": [], "failures": 0, "misclicks": 0, "taps": 0, "sessions": 0}
    )
    for task in report.tasks:
        for s in task.screens:
            a = acc[s.screen]
            a["tasks"].append(task.task)
            a["failures"] += s.drop_offs
            a["misclicks"] += s.misclicks
            a["taps"] += s.taps
            a["sessions"] += s.sessions
    failures = sum(a["failures"] for a in acc.values())
    misclicks = sum(a["misclicks"] for a in acc.values())
    out = []
    for screen, a in acc.items():
        if not a["failures"] and not a["misclicks"]:
            continue
        f_share = a["failures"] / failures if failures else 0.0
        m_share = a["misclicks"] / misclicks if misclicks else 0.0
        clicks = a["taps"] + a["misclicks"]
        out.append(
            ScreenEvidence(
                screen=screen,
                tasks=tuple(a["tasks"]),
                score=(f_share + m_share) / 2,
                failures=a["failures"],
                failure_share=f_share,
                drop_off_rate=a["failures"] / a["sessions"] if a["sessions"] else None,
                misclicks=a["misclicks"],
                misclick_share=m_share,
                misclick_rate=a["misclicks"] / clicks if clicks else None,
                sessions=a["sessions"],
            )
        )
    out.sort(key=lambda e: (-e.score, -(e.drop_off_rate or 0.0), e.screen))
    return tuple(out)
