"""The questionnaire model: how a session's latent satisfaction becomes answers and scores.

Every scored instrument of ``feedback.catalogue.CATALOGUE`` can be answered. An item is
answered as ``rint(mean + loading · (z + shift) + sd · noise)``, clipped to the instrument's
scale, where ``z`` is the session's latent satisfaction and ``shift`` the variant's shift for
the instrument. The built-in items keep their calibrated models (``CALIBRATED``): SUS items
correlate (odd items positively, even items negatively keyed), SEQ reacts to the task it
follows. Any other catalogue item gets a generic model from its entry (``item_model``), so a
new instrument is simulated without a change here. Scores come from the catalogue's own rule
(``Instrument.score``), the same the metric SQL applies.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from feedback.catalogue import CATALOGUE, Catalogue, Instrument

ANSWER_START = {"kiosk": 0.75, "phone": 0.60}  # a completed session starts the end questions
ANSWER_CONTINUE = 0.97  # ... and goes on to the next one (drop-out is cumulative)
TASK_ANSWER = 0.80  # a finished task's own question is answered
TASK_LIFT = (0.6, -0.9)  # a per-task question reads z plus this after a success / a fail

# Calibrated item models of the built-in instruments: (mean at z=0, loading on z, noise sd).
_SUS_MEANS = {1: 3.7, 2: 2.2, 3: 3.9, 4: 1.8, 5: 3.8, 6: 2.1, 7: 4.0, 8: 2.0, 9: 3.7, 10: 2.0}
CALIBRATED: dict[str, tuple[float, float, float]] = {
    **{f"sus.q{i}": (m, 0.85 if i % 2 else -0.85, 0.7) for i, m in _SUS_MEANS.items()},
    "umux_lite.q1": (5.5, 1.0, 0.8),
    "umux_lite.q2": (5.2, 1.0, 0.8),
    "seq": (5.0, 1.0, 0.9),
    "nps": (7.3, 1.7, 1.3),
    "csat": (3.9, 0.8, 0.6),
    "ces": (5.2, 1.0, 0.9),
}
_CALIBRATED_LIFT = {"seq": TASK_LIFT}  # other calibrated items ignore the task's outcome
_QUICK_INSTRUMENTS = ("sus",)  # a grid of short statements: 1.5-4 s per item instead of 2.5-6 s

# The generic model, in shares of the scale's width: the mean sits 65 % of the way to the good
# end, one latent sd moves the answer by a fifth of the scale, item noise is 15 % of it.
GENERIC_MEAN = 0.65
GENERIC_LOADING = 0.2
GENERIC_SD = 0.15


@dataclass(frozen=True)
class Satisfaction:
    """Each session's latent satisfaction ``z`` and the variant's shift per instrument."""

    z: np.ndarray
    shift: Mapping[str, float]


@dataclass(frozen=True)
class ItemModel:
    """How one item is answered (see the module docstring)."""

    instrument: str
    item: str
    scale: tuple[int, int]
    mean: float
    loading: float
    sd: float
    task_lift: tuple[float, float] = (0.0, 0.0)
    """Added to z when the item follows a succeeded / failed task."""
    answer_ms: tuple[float, float] = (2_500, 6_000)
    """Range of the pause before an end answer, in milliseconds."""

    def draw(
        self, sat: Satisfaction, noise: np.ndarray, lift: np.ndarray | None = None
    ) -> np.ndarray:
        """Answers from latent satisfaction (plus ``lift``) and standard normal ``noise``."""
        z = sat.z if lift is None else sat.z + lift
        shifted = z + sat.shift.get(self.instrument, 0.0)
        raw = np.rint(self.mean + self.loading * shifted + self.sd * noise)
        return np.clip(raw, self.scale[0], self.scale[1])


def item_model(question_id: str, catalogue: Catalogue = CATALOGUE) -> ItemModel:
    """The answer model of a catalogue item: calibrated for the built-ins, else generic."""
    found = catalogue.item(question_id)
    if found is None or found[0].scale is None:
        raise KeyError(f"{question_id!r} is no item of a scored catalogue instrument")
    inst, item = found
    low, high = inst.scale
    answer_ms = (1_500, 4_000) if inst.id in _QUICK_INSTRUMENTS else (2_500, 6_000)
    if item.id in CALIBRATED:
        mean, loading, sd = CALIBRATED[item.id]
        lift = _CALIBRATED_LIFT.get(item.id, (0.0, 0.0))
        return ItemModel(inst.id, item.id, (low, high), mean, loading, sd, lift, answer_ms)
    width = high - low
    # a good experience moves the answer up when a higher answer raises a score that is good
    good_up = item.reversed != inst.higher_is_better
    share = GENERIC_MEAN if good_up else 1 - GENERIC_MEAN
    return ItemModel(
        instrument=inst.id,
        item=item.id,
        scale=(low, high),
        mean=low + share * width,
        loading=(1 if good_up else -1) * GENERIC_LOADING * width,
        sd=GENERIC_SD * width,
        task_lift=TASK_LIFT if inst.per_task else (0.0, 0.0),
        answer_ms=answer_ms,
    )


Answers = dict[str, tuple[np.ndarray, np.ndarray]]
"""Question id -> (answered, value) per session."""
TaskAnswers = list[tuple[int, str, np.ndarray, np.ndarray]]
"""(task index, question id, answered, value) for every question asked after a task."""


def end_answers(
    questions: list[str],
    sat: Satisfaction,
    uniform: np.ndarray,
    noise: np.ndarray,
    phone: np.ndarray,
    completed: np.ndarray,
) -> Answers:
    """The end questionnaire: only completed sessions start it, and may drop out item by item.

    ``uniform`` and ``noise`` have one column per question.
    """
    if not questions:
        return {}
    start_p = np.where(phone, ANSWER_START["phone"], ANSWER_START["kiosk"])
    ok = np.concatenate(
        [(uniform[:, :1] < start_p[:, None]), uniform[:, 1:] < ANSWER_CONTINUE], axis=1
    )
    answered = np.logical_and.accumulate(ok, axis=1) & completed[:, None]
    return {
        q: (answered[:, j], item_model(q).draw(sat, noise[:, j])) for j, q in enumerate(questions)
    }


def task_answers(
    after_task: list[list[str]],
    sat: Satisfaction,
    outcome: np.ndarray,
    uniform: np.ndarray,
    noise: np.ndarray,
) -> TaskAnswers:
    """Questions asked right after a task, answered by sessions that finished it.

    ``after_task[t]`` lists the questions after task ``t``; ``outcome`` is the task outcome
    per session and task (1 success, 2 fail, 3 gave up; 0 when the session ended there, so no
    question came); ``uniform``/``noise`` have one column per task.
    """
    out: TaskAnswers = []
    for t, questions in enumerate(after_task):
        for q in questions:
            model = item_model(q)
            finished = outcome[:, t] > 0
            lift = None
            if model.task_lift != (0.0, 0.0):
                lift = np.where(outcome[:, t] == 1, *model.task_lift)
            value = model.draw(sat, noise[:, t], lift)
            out.append((t, q, finished & (uniform[:, t] < TASK_ANSWER), value))
    return out


def _last_valid(
    given: list[tuple[np.ndarray, np.ndarray]], inst: Instrument, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """The last answer on the scale among ``given`` (in order) and whether there is one."""
    value, has = np.full(n, np.nan), np.zeros(n, bool)
    for answered, v in given:
        ok = answered & inst.in_scale(v)
        value, has = np.where(ok, v, value), has | ok
    return value, has


def _slot_score(
    inst: Instrument, slot: dict[str, list[tuple[np.ndarray, np.ndarray]]], n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Score and validity from one slot's answers: every item needs a valid answer."""
    if set(inst.item_ids) - set(slot):
        return np.full(n, np.nan), np.zeros(n, bool)
    picked = {i: _last_valid(slot[i], inst, n) for i in inst.item_ids}
    ok = np.logical_and.reduce([has for _, has in picked.values()])
    values = {i: np.where(ok, v, inst.scale[0]) for i, (v, _) in picked.items()}
    return np.where(ok, inst.score(values), np.nan), ok


def instrument_scores(
    answers: Answers, after: TaskAnswers, n: int, catalogue: Catalogue = CATALOGUE
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per-session score and validity of every instrument whose items were all asked.

    As ``experiments.metrics`` scores them: answers off the scale are ignored and of the rest
    the last one to a question counts (after-task answers come in task order, the end
    questionnaire last); every item must be answered; the instrument's own rule makes the
    score. A ``per_task`` instrument scores each task on its own (the end questionnaire is one
    more slot) and the session's value is the mean over its scored slots.
    """
    scores: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for inst in catalogue.scored_instruments():
        slots: dict[object, dict[str, list]] = {}
        for t, q, a, v in after:
            if q in inst.item_ids:
                key = t if inst.per_task else None
                slots.setdefault(key, {}).setdefault(q, []).append((a, v))
        for q in inst.item_ids:
            if q in answers:
                slots.setdefault("end" if inst.per_task else None, {}).setdefault(q, []).append(
                    answers[q]
                )
        asked = {q for slot in slots.values() for q in slot}
        if asked != set(inst.item_ids):
            continue
        scored = [_slot_score(inst, slot, n) for slot in slots.values()]
        total = sum(np.where(ok, value, 0.0) for value, ok in scored)
        count = sum(ok.astype(int) for _, ok in scored)
        scores[inst.id] = (total / np.maximum(count, 1), count > 0)
    return scores


def unasked_items(asked: set[str], catalogue: Catalogue = CATALOGUE) -> list[str]:
    """Items of scored instruments the variant does not ask, end-of-session ones first.

    The truth asks them at the end, after the real questions, so that an effect on any
    instrument has a meaning (see ``calibration.with_all_instruments``).
    """
    scored = catalogue.scored_instruments()
    ordered = [i for i in scored if not i.per_task] + [i for i in scored if i.per_task]
    return [item for inst in ordered for item in inst.item_ids if item not in asked]
