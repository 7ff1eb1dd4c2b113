"""The simulator's answers to a prototype's own questions, and its goals, with known truth.

A prototype's own questions (``prototypes.asks``) and goals are not catalogue instruments, so
they have no item model; ``OwnTruth`` plants simple, exactly known answer probabilities instead,
one value for the baseline and one for every other variant (the lift is the planted effect):

- single / multiple choice: the baseline chooses option k (0-based) with the weights
  ``choice_weights`` (multiple: each option on its own with ``pick``, the first 0.2 more;
  picking none is a skip, so the true share is among those who picked one); challengers move
  ``choice_lift`` of share to the first option;
- rating: ``low + Binomial(high - low, p)``, p = ``rating_p`` (+ ``rating_lift``), so the true
  mean is ``low + (high - low) · p``;
- preference: the second design is chosen with ``prefer_b`` (+ ``prefer_lift``);
- five-second: a keyword of the spec is named with ``recall`` (+ ``recall_lift``), else
  "not sure"; the ``element`` is what ``feedback.custom_measures.recalled`` says of the text,
  exactly as the runtime writes it;
- first click: the target with ``hit`` (+ ``hit_lift``) at its typical position, else empty
  space;
- open text: a short comment with ``comment`` share (``own.texts_written`` counts them).

Every question is answered by a consenting session with ``answer`` share (after-task
questions only by sessions that reached the task), at the end of its visit. Goals are set on
the events afterwards: every ``screen_view`` of a goal screen and ``tap`` of a goal element
gets ``props.goals``, as the runtime writes it; ``tally_goals`` counts the sessions that reached
each, which the truth file keeps with the exact answer counts (``own_truth``).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from feedback.custom_measures import recalled
from feedback.question_types import NOT_RECALLED, RECALLED


@dataclass(frozen=True)
class OwnTruth:
    """The planted answer probabilities (baseline, and the lift of every other variant)."""

    answer: float = 0.9
    choice_weights: tuple[float, ...] = (0.5, 0.3, 0.2)
    choice_lift: float = 0.1
    pick: float = 0.4
    rating_p: float = 0.6
    rating_lift: float = 0.1
    prefer_b: float = 0.5
    prefer_lift: float = 0.15
    recall: float = 0.55
    recall_lift: float = 0.15
    hit: float = 0.6
    hit_lift: float = 0.15
    comment: float = 0.3


_TEXTS = {
    "not_sure": {"de": "Weiß ich nicht mehr", "en": "Not sure"},
    "named": {"de": "Ich erinnere mich an: {k}", "en": "I remember: {k}"},
    "comment": {"de": "Etwas übersichtlicher wäre gut", "en": "A little clearer would be good"},
}


def choice_shares(truth: OwnTruth, n_options: int, challenger: bool) -> np.ndarray:
    """A single choice's true option shares in one variant."""
    w = np.array([truth.choice_weights[min(k, len(truth.choice_weights) - 1)]
                  for k in range(n_options)], float)  # fmt: skip
    w = w / w.sum()
    if challenger:
        moved = np.minimum(w[1:], truth.choice_lift * w[1:] / max(w[1:].sum(), 1e-9))
        w[1:] -= moved
        w[0] += moved.sum()
    return w


def true_values(spec: Any, truth: OwnTruth, challenger: bool) -> dict[str, float]:
    """The planted true value of every metric of one question in one variant."""
    lift = float(challenger)
    t = spec.type
    if t == "single_choice":
        shares = choice_shares(truth, len(spec.options), challenger)
        pairs = zip(spec.options, shares, strict=True)
        return {f"question:{spec.id}.{o.id}": float(s) for o, s in pairs}
    if t == "multiple_choice":
        # a session that picks nothing has skipped: the shares are among those who picked
        picks = [_pick(truth, k, challenger) for k in range(len(spec.options))]
        any_pick = 1 - math.prod(1 - p for p in picks)
        return {f"question:{spec.id}.{o.id}": p / any_pick
                for o, p in zip(spec.options, picks, strict=True)}  # fmt: skip
    if t == "rating":
        low, high = spec.rating_scale
        return {
            f"question:{spec.id}": low + (high - low) * (truth.rating_p + lift * truth.rating_lift)
        }
    if t == "preference":
        b = truth.prefer_b + lift * truth.prefer_lift
        a_id, b_id = spec.option_ids()
        return {f"question:{spec.id}.{a_id}": 1 - b, f"question:{spec.id}.{b_id}": b}
    if t == "five_second":
        return {f"question:{spec.id}.{RECALLED}": truth.recall + lift * truth.recall_lift}
    if t == "first_click":
        return {f"question:{spec.id}.{spec.target}": truth.hit + lift * truth.hit_lift}
    return {}


def _pick(truth: OwnTruth, k: int, challenger: bool) -> float:
    return min(
        1.0,
        truth.pick
        + (0.2 if k == 0 else 0.0)
        + (truth.choice_lift if challenger and k == 0 else 0.0),
    )


class OwnAnswers:
    """Draws and buffers one variant's answers to the prototype's own questions."""

    def __init__(self, walk: Any, rng: np.random.Generator, truth: OwnTruth) -> None:
        self.walk, self.rng, self.truth = walk, rng, truth
        self.challenger = walk.arm.name != walk.ctx.design.baseline
        self.vocab = walk.ctx.vocab

    def emit(self, english: np.ndarray) -> None:
        """Every own question's answers, after the end questionnaire."""
        task_index = {t.id: i for i, t in enumerate(self.walk.arm.tasks)}
        for spec in self.walk.arm.own:
            reached = self.walk.out.consent.copy()
            if spec.after_task in task_index:
                reached &= self.walk.out.reached[:, task_index[spec.after_task]]
            who = np.flatnonzero(reached & (self.rng.random(len(reached)) < self.truth.answer))
            if len(who):
                self._one(spec, who, english[who])

    def _add(self, who: np.ndarray, spec: Any, type_: str = "answer", **cols: Any) -> None:
        t = self.walk.t
        t[who] += self.rng.uniform(3_000, 9_000, len(who))
        task = self.vocab.code(spec.after_task) if spec.after_task else -1
        self.walk.buf.add(self.walk.idx[who], type_, t[who].copy(), task=task,
                          question=self.vocab.code(spec.id), **cols)  # fmt: skip

    def _one(self, spec: Any, who: np.ndarray, english: np.ndarray) -> None:
        n, rng, truth, v = len(who), self.rng, self.truth, self.vocab
        codes = np.array([v.code(o) for o in spec.option_ids()], np.int32)
        if spec.type in ("single_choice", "preference"):
            # the planted share of every option (a preference: of both designs)
            planted = true_values(spec, truth, self.challenger)
            p = np.array([planted[f"question:{spec.id}.{o}"] for o in spec.option_ids()])
            k = rng.choice(len(codes), size=n, p=p / p.sum())
            self._add(who, spec, element=codes[k], value=(k + 1).astype(float))
        elif spec.type == "multiple_choice":
            for k, code in enumerate(codes):
                mk = rng.random(n) < _pick(truth, k, self.challenger)
                if mk.any():
                    self._add(who[mk], spec, element=int(code), value=float(k + 1))
        elif spec.type == "rating":
            low, high = spec.rating_scale
            p = truth.rating_p + self.challenger * truth.rating_lift
            self._add(who, spec, value=(low + rng.binomial(high - low, p, n)).astype(float))
        elif spec.type == "five_second":
            self._recall(spec, who, english)
        elif spec.type == "first_click":
            hit = rng.random(n) < truth.hit + self.challenger * truth.hit_lift
            target = v.code(spec.target)
            x, y = self.walk.ctx.positions.xy(np.full(n, target, np.int32), rng)
            x = np.where(hit, x, rng.uniform(0.02, 0.98, n))
            y = np.where(hit, y, rng.uniform(0.02, 0.98, n))
            self._add(who, spec, screen=v.code(spec.screen), element=np.where(hit, target, -1),
                      x=x, y=y, value=hit.astype(float))  # fmt: skip
        elif spec.type == "open_text":
            mk = rng.random(n) < truth.comment
            texts = np.array([v.code(_TEXTS["comment"][loc]) for loc in ("de", "en")], np.int32)
            self._add(who[mk], spec, type_="comment", text=texts[english[mk].astype(int)])
            written = self.walk.ctx.tally.setdefault("texts", {}).setdefault(self.walk.arm.name, {})
            written[spec.id] = written.get(spec.id, 0) + int(mk.sum())

    def _recall(self, spec: Any, who: np.ndarray, english: np.ndarray) -> None:
        """A keyword of the session's language, or "not sure"; element as the runtime's."""
        n, v = len(who), self.vocab
        named = self.rng.random(n) < self.truth.recall + self.challenger * self.truth.recall_lift
        for en in (False, True):
            loc = "en" if en else "de"
            words = spec.keywords(loc)
            for said in (True, False):
                mk = (english == en) & (named == said)
                if not mk.any():
                    continue
                text = (_TEXTS["named"][loc].format(k=words[0]) if said
                        else _TEXTS["not_sure"][loc])  # fmt: skip
                hit = recalled(text, words)
                self._add(who[mk], spec, screen=v.code(spec.screen), text=v.code(text),
                          element=v.code(RECALLED if hit else NOT_RECALLED),
                          value=float(hit))  # fmt: skip


# --- goals ------------------------------------------------------------------------------------


def mark_goals(cols: dict[str, np.ndarray], goals: dict[str, Any], vocab: Any) -> dict:
    """Set ``props.goals`` on every screen view of a goal screen and tap of a goal element (in
    place); return each goal's mask of the events that reach it."""
    from feedback.events import EVENT_TYPES

    view_t, tap_t = EVENT_TYPES.index("screen_view"), EVENT_TYPES.index("tap")
    masks = {}
    for name, goal in goals.items():
        if goal.screen is not None:
            masks[name] = (cols["type"] == view_t) & (cols["screen"] == vocab.code(goal.screen))
        else:
            masks[name] = (cols["type"] == tap_t) & (cols["element"] == vocab.code(goal.element))
    names = list(masks)
    combo = np.zeros(len(cols["type"]), np.int64)  # which goals an event reaches, as bits
    for k, name in enumerate(names):
        combo |= masks[name].astype(np.int64) << k
    for bits in np.unique(combo[combo > 0]):  # one JSON per distinct set of goals
        reached = [n for k, n in enumerate(names) if int(bits) >> k & 1]
        cols["props"][combo == bits] = vocab.code(json.dumps({"goals": reached}))
    return masks


def tally_goals(cols, masks: dict, arm_of_session: np.ndarray, arms, tally: dict) -> None:
    """Add the sessions that reached each goal, per variant, to ``tally['goals']``."""
    out = tally.setdefault("goals", {})
    for name, mk in masks.items():
        sessions = np.unique(cols["sess"][mk])
        for a, arm in enumerate(arms):
            row = out.setdefault(arm, {})
            row[name] = row.get(name, 0) + int((arm_of_session[sessions] == a).sum())


def own_truth(design: Any, truth: OwnTruth, tally: dict) -> dict:
    """The truth file's part: planted values per variant and what was written."""
    specs = next(iter(design.arms.values())).own if design.arms else []
    return {
        "planted": asdict(truth),
        "values": {
            arm: {
                k: round(val, 6)
                for spec in specs
                for k, val in true_values(spec, truth, arm != design.baseline).items()
            }
            for arm in design.arms
        },  # fmt: skip
        "goal_sessions": tally.get("goals", {}),
        "texts_written": tally.get("texts", {}),
    }


__all__ = ["OwnAnswers", "OwnTruth", "mark_goals", "own_truth", "tally_goals", "true_values"]
