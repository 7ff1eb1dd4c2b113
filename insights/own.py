"""A prototype's own questions and goals in the usability report (``prototypes.asks``).

``own_section(con, proto, version, params)`` reads them per variant (``insights.sql``,
section "own") and ``build_own`` turns the rows into ``OwnAnswers`` and ``GoalReach`` (pure):

- single / multiple choice: per option the share of the answering sessions that chose it,
  with Wilson 95 % intervals (a multiple choice's shares add up to more than 1);
- rating: the mean of the sessions' last answers with a t interval, and the distribution;
- preference: each design's share with its interval, and the exact two-sided binomial test of
  the second design against 50 % (``preference_p_value``);
- five-second: recalled / not recalled, by matching the answers' texts against the spec's
  keywords now (``feedback.custom_measures.recalled``: fixing a keyword re-reads old answers;
  the experiment metric counts the runtime's own verdict), and the texts;
- first click: the share whose first tap hit the target, the other elements tapped,
  ``(elsewhere)`` for empty space, and the taps' positions for a tap map;
- open text: the texts with how many sessions wrote each.

Goals: the share of the variant's customer sessions with an event that reached it.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from scipy.special import bdtr

from experiments.distributions import t_ppf
from feedback.custom_measures import recalled
from feedback.question_types import NOT_RECALLED, RECALLED
from insights.sql import own_rows
from insights.usability_results import GoalReach, OptionShare, OwnAnswers, wilson

if TYPE_CHECKING:
    import duckdb

    from prototypes.spec import Prototype

ELSEWHERE = "(elsewhere)"


def preference_p_value(chose_second: int, answered: int) -> float | None:
    """Exact two-sided binomial test of ``chose_second`` of ``answered`` against 50 %
    (at p = ½ the distribution is symmetric: twice the smaller tail, at most 1)."""
    if answered <= 0:
        return None
    k = min(chose_second, answered - chose_second)
    return float(min(1.0, 2 * bdtr(k, answered, 0.5)))


def own_specs(proto: Prototype, version: int) -> dict[str, Any]:
    """The version's own questions by id (every variant's; the first definition wins)."""
    specs: dict[str, Any] = {}
    for variant in proto.variant_names(version):
        for q in proto.resolve(version, variant).questions:
            if q.custom is not None:
                specs.setdefault(q.id, q.custom)
    return specs


def own_section(
    con: duckdb.DuckDBPyConnection, proto: Prototype, version: int, params: dict
) -> tuple[tuple[OwnAnswers, ...], tuple[GoalReach, ...]]:
    """The report's own questions and goals for the usability query's ``params``."""
    specs = own_specs(proto, version)
    if not specs and not proto.goals:
        return (), ()
    return build_own(specs, proto.goals, own_rows(con, params, list(specs)))


def _en(text: Any, fallback: str) -> str:
    if not text:
        return fallback
    return text.get("en") or next(iter(text.values()), fallback)


def build_own(
    specs: dict[str, Any], goals: dict[str, Any], rows: dict[str, list]
) -> tuple[tuple[OwnAnswers, ...], tuple[GoalReach, ...]]:
    """``OwnAnswers`` per variant and question (spec order), ``GoalReach`` per variant and goal."""
    answered = {(v, q): int(n) for v, q, n in rows["answered"]}
    parts: dict[str, dict] = {
        name: defaultdict(list) for name in ("options", "values", "texts", "firsts")
    }
    for name in parts:
        for variant, question, *rest in rows[name]:
            parts[name][(variant, question)].append(tuple(rest))
    variants = sorted({v for v, _ in rows["sessions"]})
    out = []
    for qid, spec in specs.items():
        for variant in variants:
            key = (variant, qid)
            if answered.get(key, 0):
                out.append(
                    _answers(spec, variant, answered[key], {k: p[key] for k, p in parts.items()})
                )
    sessions = {v: int(n) for v, n in rows["sessions"]}
    reached = {(v, g): int(n) for v, g, n in rows["goals"]}
    reach = tuple(
        GoalReach(name, _en(goal.label, name), v, wilson(reached.get((v, name), 0), sessions[v]))
        for name, goal in goals.items()
        for v in variants
    )
    return tuple(out), reach


def _answers(spec: Any, variant: str, n: int, part: dict[str, list]) -> OwnAnswers:
    base = {"question": spec.id, "type": spec.type, "text": _en(spec.text, spec.id),
            "variant": variant, "answered": n}  # fmt: skip
    counts = {element: int(c) for element, c in part["options"]}
    texts = tuple((t, int(c)) for t, c in part["texts"][:50])
    if spec.type == "rating":
        return OwnAnswers(**base, **_mean(part["values"]))
    if spec.type == "open_text":
        return OwnAnswers(**base, texts=texts)
    if spec.type == "five_second":
        words = spec.keywords()
        hits = sum(c for t, c in part["texts"] if recalled(t, words))
        shares = (
            OptionShare(RECALLED, "recalled", wilson(hits, n)),
            OptionShare(NOT_RECALLED, "not recalled", wilson(n - hits, n)),
        )
        return OwnAnswers(**base, options=shares, texts=texts)
    if spec.type == "first_click":
        return _first_click(spec, base, counts, n, part["firsts"])
    shares = tuple(
        OptionShare(o.id, _en(o.label, o.id), wilson(counts.get(o.id, 0), n)) for o in spec.options
    )
    p = (
        preference_p_value(counts.get(spec.options[1].id, 0), n)
        if spec.type == "preference"
        else None
    )
    return OwnAnswers(**base, options=shares, p_value=p)


def _first_click(spec, base: dict, counts: dict[str, int], n: int, firsts: list) -> OwnAnswers:
    others = sorted((e for e in counts if e != spec.target), key=lambda e: -counts[e])
    elsewhere = n - sum(counts.values())
    shares = [
        OptionShare(spec.target, f"{spec.target} (target)", wilson(counts.get(spec.target, 0), n))
    ]
    shares += [OptionShare(e, e, wilson(counts[e], n)) for e in others]
    if elsewhere > 0:
        shares.append(OptionShare(ELSEWHERE, "empty space", wilson(elsewhere, n)))
    clicks = tuple((float(x), float(y), e == spec.target) for x, y, e in firsts)
    return OwnAnswers(**base, options=tuple(shares), clicks=clicks)


def _mean(values: list) -> dict[str, Any]:
    """Mean, t interval and distribution of a rating's last answers per session."""
    n = sum(int(c) for _, c in values)
    if n == 0:
        return {}
    mean = sum(float(v) * int(c) for v, c in values) / n
    if n < 2:
        return {"mean": mean, "values": tuple((float(v), int(c)) for v, c in values)}
    var = sum(int(c) * (float(v) - mean) ** 2 for v, c in values) / (n - 1)
    half = t_ppf(0.975, n - 1) * math.sqrt(var / n)
    return {"mean": mean, "ci_low": mean - half, "ci_high": mean + half,
            "values": tuple((float(v), int(c)) for v, c in values)}  # fmt: skip


__all__ = ["ELSEWHERE", "build_own", "own_section", "own_specs", "preference_p_value"]
