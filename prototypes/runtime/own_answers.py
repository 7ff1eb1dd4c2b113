"""A customer session's answers to the prototype's own questions (``prototypes.asks``; drawn
by ``runtime/asking.py``). ``CustomerSession`` inherits ``OwnAnswers`` and provides the state,
``question``, ``emit``, ``key_elements`` and ``_advance_question``.
"""

from __future__ import annotations

import time
from typing import Any

from feedback.custom_measures import recalled
from feedback.question_types import NOT_RECALLED, RECALLED


def share(value: Any) -> float | None:
    """A normalised browser coordinate, clamped to [0, 1] (None when it is no number)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return min(1.0, max(0.0, v))


class OwnAnswers:
    """Answer methods for choice, preference, five-second and first-click questions."""

    @property
    def first_click_pending(self) -> bool:
        """A first-click test is on screen: the next tap on its screen is the answer."""
        q = self.question
        return self.phase == "question" and q is not None and q.instrument == "first_click"

    def choose(self, option_ids: list[str]) -> None:
        """Answer a choice or preference question: one ``answer`` per option chosen
        (``element`` = the option id, ``value`` = its position); none chosen = skipped."""
        self.last_activity = time.monotonic()
        q = self.question
        if q is None or q.custom is None:
            return
        order = q.custom.option_ids()
        for option in dict.fromkeys(option_ids):
            if option in order:
                self.emit("answer", question=q.id, task=q.after_task, element=option,
                          value=float(order.index(option) + 1))  # fmt: skip
        self._advance_question()

    def recall(self, text: str | None) -> None:
        """A five-second test's answer: what they remember, and whether it names one of the
        spec's keywords (``element`` recalled / not_recalled, ``value`` 1 / 0)."""
        self.last_activity = time.monotonic()
        q = self.question
        if q is None or q.custom is None:
            return
        said = (text or "").strip()[:2000]
        if said:
            hit = recalled(said, q.custom.keywords(self.locale))
            self.emit("answer", question=q.id, task=q.after_task, screen=q.custom.screen,
                      element=RECALLED if hit else NOT_RECALLED, value=float(hit),
                      text=said)  # fmt: skip
        self._advance_question()

    def first_click(self, element: str | None, x: float | None = None, y: float | None = None):
        """A first-click test's answer: the element tapped first (None: empty space), where,
        and whether it is the target (``value`` 1 / 0)."""
        self.last_activity = time.monotonic()
        q = self.question
        if q is None or q.custom is None:
            return
        self.emit("answer", question=q.id, task=q.after_task, screen=q.custom.screen,
                  element=element, x=x, y=y,
                  value=float(element is not None and element == q.custom.target))  # fmt: skip
        self._advance_question()

    def _first_click_from(self, taps: list[dict[str, Any]]) -> None:
        """The browser's first tap on the first-click test's screen is the answer."""
        q = self.question
        for tap in taps:
            if q is None or q.custom is None or tap.get("screen") != q.custom.screen:
                continue
            key = tap.get("key")
            element = self.key_elements.get(key) if key else None
            self.first_click(element, share(tap.get("x")), share(tap.get("y")))
            return
