"""The words and table rows of a usability report, shared by the terminal, the HTML file and
the dashboard page so all three say the same."""

from __future__ import annotations

from typing import TYPE_CHECKING

from insights.paths import END

if TYPE_CHECKING:
    from insights.usability_results import Rate, TaskUsability, UsabilityReport

SCORE_NOTE = (
    "Usability score (0–100, SUM-like): the mean of the parts that exist — completion (share "
    "of runs reaching a goal), time (share of successful runs within the target: the task's "
    "time limit, else 10 s per screen of its expected path), satisfaction (mean SEQ rescaled "
    "from 1–7 to 0–1) and accuracy (1 − misclicks per tap). The prototype's score is the mean "
    "of its tasks' scores."
)
OUTCOME_NOTE = (
    "Direct success: a goal reached along exactly the expected path; indirect: another way. "
    "Timed out: the task's time limit or the idle timeout. Left: no end was recorded (the "
    "session stopped). Rates over task runs with Wilson 95% intervals. Only customers' "
    "sessions; team and preview sessions never count."
)
REWORK_NOTE = (
    "Ranked by the screen's share of the trouble: (share of all failed runs that ended on it + "
    "share of all misclicks on it) / 2."
)
TASK_COLUMNS = ("Task", "Runs", "Direct", "Indirect", "Gave up", "Timed out", "Left",
                "Median time", "Misclicks", "SEQ", "Score")  # fmt: skip
SCREEN_COLUMNS = ("Screen", "Sessions", "Views", "Drop-off", "Share of failures",
                  "Misclicks", "Misclick rate", "Median time")  # fmt: skip
REWORK_COLUMNS = ("#", "Screen", "Tasks", "Score", "Failures ended here", "Drop-off rate",
                  "Misclicks", "Misclick rate")  # fmt: skip


def pct(x: float | None, digits: int = 0) -> str:
    return "–" if x is None else f"{100 * x:.{digits}f}%"


def secs(x: float | None) -> str:
    return "–" if x is None else f"{x:.1f} s"


def num(x: float | None, digits: int = 1) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def rate_text(rate: Rate) -> str:
    """``73% [72–74]``: the rate and its 95% interval."""
    if rate.rate is None:
        return "–"
    return f"{pct(rate.rate)} [{pct(rate.ci_low)[:-1]}–{pct(rate.ci_high)}]"


def subtitle(report: UsabilityReport) -> str:
    """Prototype, version, filters and the number of sessions, in one line."""
    parts = [f"{report.prototype} v{report.version}"]
    parts.append(f"variant {report.variant}" if report.variant else "all variants")
    parts.append(f"store {report.store}" if report.store else "all stores")
    if report.persona:
        parts.append(f"persona {report.persona}")
    parts.append(f"{report.sessions:,} customer sessions")
    return " · ".join(parts)


def seq_mean(task: TaskUsability) -> float | None:
    seq = next((s for s in task.scores if s.instrument == "seq"), None)
    return None if seq is None else seq.mean


def task_row(task: TaskUsability) -> list[str]:
    """One line of the task table (TASK_COLUMNS)."""
    o = task.outcomes
    return [
        task.task,
        f"{task.runs:,}",
        rate_text(o["direct"]),
        rate_text(o["indirect"]),
        rate_text(o["give_up"]),
        rate_text(o["timeout"]),
        rate_text(o["unfinished"]),
        secs(task.time.quantiles.get("p50")),
        pct(task.misclick_rate, 1),
        num(seq_mean(task)),
        num(task.usability.score, 0),
    ]


def screen_rows(task: TaskUsability) -> list[list[str]]:
    """The screens of a task (SCREEN_COLUMNS); screens off the expected path marked ``↪``."""
    return [
        [
            s.screen if s.on_expected_path else f"↪ {s.screen}",
            f"{s.sessions:,}",
            f"{s.views:,}",
            f"{s.drop_offs:,} ({pct(s.drop_off_rate)})",
            pct(s.failure_share),
            f"{s.misclicks:,}",
            pct(s.misclick_rate, 1),
            secs(s.median_seconds),
        ]
        for s in task.screens
    ]


def rework_rows(report: UsabilityReport, limit: int = 5) -> list[list[str]]:
    """The first ``limit`` screens to rework (REWORK_COLUMNS)."""
    return [
        [
            str(i),
            e.screen,
            ", ".join(e.tasks),
            f"{100 * e.score:.0f}",
            f"{e.failures:,} ({pct(e.failure_share)} of all)",
            pct(e.drop_off_rate),
            f"{e.misclicks:,} ({pct(e.misclick_share)} of all)",
            pct(e.misclick_rate, 1),
        ]
        for i, e in enumerate(report.rework[:limit], 1)
    ]


def time_line(task: TaskUsability) -> str:
    """Time on task in one line: quartiles, deciles, mean, n."""
    q, d = task.time.quantiles, task.time
    if not d.n:
        return "Time on task: no run ended."
    return (
        f"Time on task ({d.n:,} ended runs): median {secs(q['p50'])}, quartiles "
        f"{secs(q['p25'])}–{secs(q['p75'])}, 10–90% {secs(q['p10'])}–{secs(q['p90'])}, "
        f"mean {secs(d.mean)}."
    )


def path_lines(task: TaskUsability) -> list[str]:
    """The most common paths and where runs left the expected path."""
    p = task.paths
    lines = [
        f"{pn.n:,} ({pct(pn.share)}) {' → '.join(pn.path) or '(no screen)'}"
        f" · {pn.successes:,} reached a goal"
        for pn in p.top
    ]
    lines += [
        (f"stopped at {d.screen}" if d.to == END else f"left the expected path at {d.screen} "
         f"for {d.to}") + f": {d.n:,} ({pct(d.share)})"
        for d in p.deviations[:5]
    ]  # fmt: skip
    return lines


def answer_lines(items) -> list[str]:
    """One line per question: mean, n and the distribution of answers."""
    return [
        f"{a.question}: mean {num(a.mean, 2)} (n={a.n:,}) · "
        + " ".join(f"{v:g}:{n}" for v, n in a.counts)
        for a in items
    ]


def score_lines(scores) -> list[str]:
    return [
        f"{s.instrument}: {num(s.mean, 1)} [{num(s.ci_low, 1)}–{num(s.ci_high, 1)}] (n={s.n:,})"
        for s in scores
    ]


# --- the prototype's own questions and goals (insights.own) -----------------------------------

OWN_NOTE = (
    "Questions in the prototype's own words, per variant: shares of the sessions that answered "
    "with Wilson 95% intervals (a multiple choice's add up to more than 100%); a rating's mean "
    "with its t interval; a preference test's p-value is the exact binomial test of the second "
    "design against 50%; a five-second test counts as recalled when the answer names one of "
    "the spec's keywords; a first-click test's share is the first taps on the target. Goals: "
    "the share of all customer sessions of the variant that reached it."
)
TYPE_LABELS = {
    "single_choice": "single choice", "multiple_choice": "multiple choice", "rating": "rating",
    "open_text": "open text", "preference": "preference", "five_second": "five-second test",
    "first_click": "first click",
}  # fmt: skip


def own_line(q) -> str:
    """One line for one variant's answers to one of the prototype's own questions."""
    head = f"{q.question} ({TYPE_LABELS.get(q.type, q.type)}) · {q.variant}: "
    if q.type == "rating":
        body = f"mean {num(q.mean, 2)} [{num(q.ci_low, 2)}–{num(q.ci_high, 2)}]"
    elif q.type == "open_text":
        body = " · ".join(f"“{t}” ×{n}" for t, n in q.texts[:3]) or "no text"
    else:
        body = ", ".join(f"{o.label} {rate_text(o.rate)}" for o in q.options)
        if q.p_value is not None:
            body += f" · against 50%: p = {q.p_value:.3g}"
    return head + body + f" (n={q.answered:,})"


def own_lines(report: UsabilityReport) -> list[str]:
    """Every own question per variant, in the spec's order."""
    return [own_line(q) for q in report.own]


def goal_lines(report: UsabilityReport) -> list[str]:
    """Per goal and variant: the share of sessions that reached it."""
    return [f"{g.label} · {g.variant}: {rate_text(g.rate)} of {g.rate.total:,} sessions"
            for g in report.goals]  # fmt: skip
