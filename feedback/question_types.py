"""The catalogue's question types: questions a product team writes in its own words.

The standard instruments (SUS, SEQ, NPS, …) are in ``feedback.catalogue``; these are the kinds
of question a prototype may ask besides them (``prototypes.asks``), each with the metric it
defines (``feedback.custom_measures``) and what one of its ``answer`` events holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from feedback.catalogue import Text

# --- question types a prototype can write itself (issue 15) -----------------------------------


@dataclass(frozen=True)
class QuestionType:
    """A kind of question a product team writes in its own words (not a standard instrument).

    ``metric`` says which metrics a question of this type defines (``feedback.custom_measures``):
    ``option`` — one proportion per option, ``question:<id>.<option>`` (share of the sessions
    that answered which chose it); ``value`` — the mean answer, ``question:<id>``; ``none`` —
    free text, read, not compared. ``answer`` names what one ``answer`` event of it holds.
    """

    id: str
    name: Text
    metric: Literal["option", "value", "none"]
    answer: str
    description: str = ""


QUESTION_TYPES: dict[str, QuestionType] = {
    t.id: t
    for t in (
        QuestionType(
            "single_choice",
            {"de": "Einfachauswahl", "en": "Single choice"},
            "option",
            "answer: element = the option id, value = its position (1 = first)",
            "one option of a list; share per option",
        ),
        QuestionType(
            "multiple_choice",
            {"de": "Mehrfachauswahl", "en": "Multiple choice"},
            "option",
            "one answer per chosen option: element = the option id, value = its position",
            "any number of options; share of sessions choosing each",
        ),
        QuestionType(
            "rating",
            {"de": "Bewertung", "en": "Rating"},
            "value",
            "answer: value = the rating on the question's scale",
            "a number on a scale (default 1-5); the mean",
        ),
        QuestionType(
            "open_text",
            {"de": "Freitext", "en": "Open text"},
            "none",
            "comment: text = the answer (redacted)",
            "free text, read and coded, not compared",
        ),
        QuestionType(
            "preference",
            {"de": "Präferenztest", "en": "Preference test"},
            "option",
            "answer: element = the design chosen (a or b), value = its position",
            "two screens or designs side by side; share preferring each",
        ),
        QuestionType(
            "five_second",
            {"de": "Fünf-Sekunden-Test", "en": "Five-second test"},
            "option",
            "answer: text = what they remember, element = recalled | not_recalled "
            "(the spec's keywords), value = 1 | 0",
            "a screen shown for a few seconds, then hidden: what do they remember",
        ),
        QuestionType(
            "first_click",
            {"de": "Erster Klick", "en": "First click"},
            "option",
            "answer: element = the element tapped first (none: empty space), x, y, "
            "value = 1 on the target, else 0",
            "a screen: where would you tap first to …; share of first taps on the target",
        ),
    )
}
"""Every question type a spec may write (``questions: [{id, type, …}]``)."""

RECALLED, NOT_RECALLED = "recalled", "not_recalled"
"""The two outcomes of a five-second test (the ``element`` of its answer event)."""

__all__ = ["NOT_RECALLED", "QUESTION_TYPES", "RECALLED", "QuestionType"]
